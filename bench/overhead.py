"""The suite's per-example overhead against bare Hypothesis + torch doing the same draws and operations.

    python bench/overhead.py [--examples N] [--repeat R]

For two properties (Conv1D against nn.Linear; eager attention against its float64
definition) it times N examples of the suite's property (the guard, the
implementation wrapper, the assertion helpers and their messages included) and
N examples of a bare Hypothesis test written without the suite, drawing from the
same strategies and running the same torch operations.  Both run derandomized,
so they see the same examples.  The best of R runs is reported.
"""

from __future__ import annotations

import argparse
import time

import torch
from hypothesis import HealthCheck, Phase, given, settings

from layer_conformance.impls import load_implementation
from layer_conformance.plugin.guard import guarded
from layer_conformance.properties import test_attention, test_conv1d
from layer_conformance.reference import Conv1D, eager_attention_forward
from layer_conformance.strategies import (
    attention_cases,
    attention_module,
    dtypes,
    leading_dims,
    make_tensor,
    seeds,
    sizes,
)
from layer_conformance.support.attention import definition

FAST = dict(
    deadline=None, database=None, derandomize=True, phases=[Phase.generate], suppress_health_check=list(HealthCheck)
)


def bare_conv1d(n: int):
    @settings(max_examples=n, **FAST)
    @given(
        lead=leading_dims(),
        nf=sizes(1, 8),
        nx=sizes(1, 8),
        dtype=dtypes(allow_half=True, allow_float64=True),
        seed=seeds(),
    )
    def run(lead, nf, nx, dtype, seed):
        layer = Conv1D(nf, nx)
        with torch.no_grad():
            layer.weight.copy_(make_tensor((nx, nf), seed))
            layer.bias.copy_(make_tensor((nf,), seed + 1))
        layer = layer.to(dtype=dtype)
        x = make_tensor((*lead, nx), seed + 2, dtype)
        linear = torch.nn.Linear(nx, nf).to(dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(layer.weight.T)
            linear.bias.copy_(layer.bias)
        torch.testing.assert_close(layer(x), linear(x), atol=1e-2, rtol=1e-2)

    return run


def bare_attention(n: int):
    @settings(max_examples=n, **FAST)
    @given(case=attention_cases(), dtype=dtypes(allow_half=True, allow_float64=True))
    def run(case, dtype):
        q, k, v = case.qkv(dtype, "cpu")
        out, _ = eager_attention_forward(
            attention_module(case.groups), q, k, v, case.bias(dtype, "cpu"), scaling=case.scaling
        )
        expected = definition(case, q, k, v, case.bias(torch.float64, "cpu"))
        rows = case.attended_rows("cpu").squeeze(1)[:, :, None].expand(case.batch, case.q_len, case.heads)
        torch.testing.assert_close(out[rows].double(), expected[rows], atol=0.5, rtol=0.5)

    return run


def suite(fn, n: int, **kwargs):
    fn.hypothesis.inner_test = guarded(fn.hypothesis.inner_test)
    wrapped = settings(max_examples=n, **FAST)(fn)
    return lambda: wrapped(**kwargs)


def best(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    impl = load_implementation("reference")
    n = args.examples
    cases = [
        (
            "Conv1D vs nn.Linear",
            bare_conv1d(n),
            suite(test_conv1d.test_forward_equals_linear_with_transposed_weight, n, impl=impl),
        ),
        (
            "eager attention vs float64 definition",
            bare_attention(n),
            suite(test_attention.test_matches_float64_definition, n, impl=impl, name="eager_attention_forward"),
        ),
    ]
    print(f"{n} examples per run, best of {args.repeat}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print()
    print("| property | bare Hypothesis + torch (ms/example) | suite (ms/example) | overhead |")
    print("|---|---|---|---|")
    for label, bare, ours in cases:
        bare()  # warm up torch's first calls
        t_bare, t_suite = best(bare, args.repeat), best(ours, args.repeat)
        print(
            f"| {label} | {1000 * t_bare / n:.2f} | {1000 * t_suite / n:.2f} | {100 * (t_suite / t_bare - 1):+.0f}% |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
