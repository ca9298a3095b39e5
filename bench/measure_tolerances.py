"""Measure the numeric error of every tolerance kind, per device and dtype.

    python bench/measure_tolerances.py [--device cpu|cuda] [--draws N] [--markdown]

For each kind of :mod:`layer_conformance.support.tolerances` it computes, over N random
draws shaped like the properties' own draws, the largest absolute error between
the two computations the properties compare (an implementation of the kind and
its comparison point, e.g. Conv1D's addmm and nn.Linear): the absolute error
where the expected value is below 1 in magnitude, and the relative error where it
is 1 or more.  The suggested atol and rtol are those errors times 4, rounded up
to one significant digit, never below 4 ulp of 1.0 in the dtype, so that
``|actual - expected| <= atol + rtol * |expected|`` holds with room to spare in
both regimes.  The table in
``conformance/support/tolerances.py`` is filled from this output; docs/tolerances.md
keeps the output and the machine it came from.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import platform
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

from layer_conformance.impls import load_implementation
from layer_conformance.reference import Conv1D
from layer_conformance.strategies.attention import MASK_STYLES, AttentionCase
from layer_conformance.support.attention import attended, call, definition

REFERENCE = load_implementation("reference")
DTYPES = (torch.float64, torch.float32, torch.float16, torch.bfloat16)
SAFETY = 4.0

Pair = tuple[torch.Tensor, torch.Tensor]


def _rand(g: torch.Generator, shape, dtype, device) -> torch.Tensor:
    return torch.randn(shape, generator=g).to(device=device, dtype=dtype)


def _sizes(g: torch.Generator, hi: int, n: int) -> list[int]:
    return [int(torch.randint(1, hi + 1, (), generator=g)) for _ in range(n)]


def matmul_pairs(g: torch.Generator, dtype, device) -> Iterator[Pair]:
    """Conv1D (addmm over flattened rows) against nn.Linear on the transposed weight."""
    nf, nx, b1, b2 = _sizes(g, 8, 4)
    layer = Conv1D(nf, nx)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(nx, nf, generator=g))
        layer.bias.copy_(torch.randn(nf, generator=g))
    layer = layer.to(device=device, dtype=dtype)
    x = _rand(g, (b1, b2, nx), dtype, device)
    with torch.no_grad():
        yield layer(x), torch.nn.functional.linear(x, layer.weight.T, layer.bias)
        # a pruned-along-outputs layer against the original restricted: smaller matrices, other blocking
        keep = torch.randperm(nf, generator=g)[: max(1, nf // 2)].to(device)
        yield (
            torch.addmm(layer.bias[keep], x.reshape(-1, nx), layer.weight[:, keep]).reshape(b1, b2, -1),
            layer(x)[..., keep],
        )


def reduction_pairs(g: torch.Generator, dtype, device) -> Iterator[Pair]:
    """Gradients through Conv1D against nn.Linear's; sums in a different order."""
    nf, nx, b1, b2 = _sizes(g, 8, 4)
    w = _rand(g, (nx, nf), dtype, device).requires_grad_(True)
    b = _rand(g, (nf,), dtype, device).requires_grad_(True)
    x = _rand(g, (b1, b2, nx), dtype, device).requires_grad_(True)
    up = _rand(g, (b1, b2, nf), dtype, device)
    out = torch.addmm(b, x.reshape(-1, nx), w).reshape(b1, b2, nf)
    gx, gw, gb = torch.autograd.grad(out, (x, w, b), up)
    x2, w2, b2_ = (t.detach().clone().requires_grad_(True) for t in (x, w, b))
    gx2, gw2, gb2 = torch.autograd.grad(torch.nn.functional.linear(x2, w2.T, b2_), (x2, w2, b2_), up)
    yield gx, gx2
    yield gw, gw2
    yield gb, gb2
    # an input-pruned layer on the kept features against the original on zero-filled features
    with torch.no_grad():
        keep = torch.randint(0, nx, (max(1, nx // 2),), generator=g).to(device)
        kept = x.detach()[..., keep]
        full = torch.zeros_like(x).index_add(-1, keep, kept)
        yield (
            torch.addmm(b, kept.reshape(-1, len(keep)), w[keep]).reshape(b1, b2, nf),
            torch.addmm(b, full.reshape(-1, nx), w).reshape(b1, b2, nf),
        )


def _attention_case(g: torch.Generator) -> AttentionCase:
    batch, kv_heads, groups = _sizes(g, 2, 2) + _sizes(g, 3, 1)
    q_len, kv_len, head_dim = _sizes(g, 6, 2) + _sizes(g, 8, 1)
    style = MASK_STYLES[int(torch.randint(0, len(MASK_STYLES), (), generator=g))]
    scaling = [head_dim**-0.5, 0.25, 1.0, 1.7][int(torch.randint(0, 4, (), generator=g))]
    seed, mask_seed = (int(torch.randint(0, 2**31 - 1, (), generator=g)) for _ in range(2))
    return AttentionCase(batch, kv_heads, groups, q_len, kv_len, head_dim, seed, style, mask_seed, scaling)


def attention_pairs(g: torch.Generator, dtype, device, *, grads: bool = False) -> Iterator[Pair]:
    """eager against sdpa in the same dtype: outputs (rows attending some key), or q/k/v gradients."""
    case = _attention_case(g)
    q, k, v = case.qkv(dtype, device, requires_grad=True)
    q2, k2, v2 = (t.detach().clone().requires_grad_(True) for t in (q, k, v))
    out_e = attended(call(REFERENCE, "eager", case, q, k, v, dtype=dtype, device=device)[0], case, device)
    out_s = attended(call(REFERENCE, "sdpa", case, q2, k2, v2, dtype=dtype, device=device)[0], case, device)
    if not grads:
        yield out_e.detach(), out_s.detach()
        return
    up = torch.ones_like(out_e)
    yield from zip(torch.autograd.grad(out_e, (q, k, v), up), torch.autograd.grad(out_s, (q2, k2, v2), up), strict=True)


def attention_fp64_pairs(g: torch.Generator, dtype, device) -> Iterator[Pair]:
    """eager and sdpa in ``dtype`` against the float64 definition."""
    case = _attention_case(g)
    q, k, v = case.qkv(dtype, device)
    expected = attended(definition(case, q, k, v, case.bias(torch.float64, device)), case, device)
    with torch.no_grad():
        for name in ("eager", "sdpa"):
            yield attended(call(REFERENCE, name, case, q, k, v, dtype=dtype, device=device)[0], case, device), expected


def backend_fp64_pairs(impl, key: str):
    """A pair function for one attention backend of ``impl``: its output in ``dtype`` against the float64
    definition (the ``attention_fp64`` kind), on the draws of the other attention kinds."""
    from layer_conformance.backends import resolve
    from layer_conformance.support.attention import expressible

    def pairs(g: torch.Generator, dtype, device) -> Iterator[Pair]:
        backend = resolve(impl, key, torch.device(device).type)
        case = expressible(backend.caps, _attention_case(g))
        q, k, v = case.qkv(dtype, device)
        expected = attended(definition(case, q, k, v, case.bias(torch.float64, device)), case, device)
        with torch.no_grad():
            yield attended(call(impl, backend, case, q, k, v, dtype=dtype, device=device)[0], case, device), expected

    return pairs


def attention_grad_fp64_pairs(g: torch.Generator, dtype, device) -> Iterator[Pair]:
    """Gradients of q, k and v of eager and sdpa in ``dtype`` (attended rows, a random upstream gradient)
    against those of the float64 definition."""
    case = dataclasses.replace(_attention_case(g), no_empty_rows=True)
    q, k, v = case.qkv(dtype, device, requires_grad=True)
    expected_rows = attended(definition(case, q, k, v, case.bias(torch.float64, device)), case, device)
    upstream = _rand(g, tuple(expected_rows.shape), torch.float64, device)
    expected = torch.autograd.grad(expected_rows, (q, k, v), upstream)
    for name in ("eager", "sdpa"):
        out = attended(call(REFERENCE, name, case, q, k, v, dtype=dtype, device=device)[0], case, device)
        yield from zip(torch.autograd.grad(out, (q, k, v), upstream.to(dtype)), expected, strict=True)


def _rope_configs(g: torch.Generator, dtype, n: int = 1):
    """Canonical RoPE configs drawn by the suite's own strategy, seeded from ``g``."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from layer_conformance.strategies.rope import rope_configs

    seed = int(torch.randint(0, 2**31 - 1, (), generator=g))
    found = []

    @settings(max_examples=n, database=None, derandomize=False, suppress_health_check=list(HealthCheck), deadline=None)
    @given(st.random_module(), rope_configs())
    def collect(_, config):
        found.append(config)

    import random

    random.seed(seed)
    collect()
    return found


def rope_init_pairs(g: torch.Generator, dtype, device, n: int = 1) -> Iterator[Pair]:
    """Reference init functions (float32) against the float64 formulas of the properties."""
    from layer_conformance.canonical import RopeConfig  # noqa: F401
    from layer_conformance.reference.rope import ROPE_INIT_FUNCTIONS
    from layer_conformance.support.rope import formula

    for config in _rope_configs(g, dtype, n):
        max_pos = config.max_position_embeddings
        seq_len = (
            int(torch.randint(1, 3 * max_pos + 1, (), generator=g))
            if config.rope_type in ("dynamic", "longrope")
            else None
        )
        inv_freq, _ = ROPE_INIT_FUNCTIONS[config.rope_type](config.namespace(), device, seq_len)
        yield inv_freq.double(), torch.tensor(formula(config, seq_len)[0], dtype=torch.float64, device=device)


def rope_cos_pairs(g: torch.Generator, dtype, device, n: int = 1) -> Iterator[Pair]:
    """The rotary forward's cos/sin in ``dtype`` against float64 cos/sin of the same frequencies."""
    from layer_conformance.impls import load_implementation
    from layer_conformance.support.rope import rotary_module

    impl = load_implementation("reference")
    for config in _rope_configs(g, dtype, n):
        module = rotary_module(impl, config, device)
        pos = torch.randint(0, 3 * config.max_position_embeddings, (2, 8), generator=g).to(device)
        cos, sin = module(torch.zeros(1, dtype=dtype, device=device), pos)
        angles = pos.double()[..., None] * module.inv_freq.double()
        angles = torch.cat((angles, angles), -1)
        yield cos.double(), angles.cos() * module.attention_scaling
        yield sin.double(), angles.sin() * module.attention_scaling


def rope_relative_pairs(g: torch.Generator, dtype, device, n: int = 1, *, fp64: bool = False) -> Iterator[Pair]:
    """q_m . k_n against q_(m+s) . k_(n+s), rotated by the forward's cos/sin (or in float64)."""
    from layer_conformance.impls import load_implementation
    from layer_conformance.properties.test_rope import rotate
    from layer_conformance.support.rope import rotary_module

    impl = load_implementation("reference")
    for config in _rope_configs(g, dtype, n):
        module = rotary_module(impl, config, device)
        m, k_pos, s = (int(v) for v in torch.randint(0, 41, (3,), generator=g))
        s = max(s, 1)
        pos = torch.tensor([[m, k_pos, m + s, k_pos + s]], device=device)
        cos, sin = module(torch.zeros(1, device=device), pos)
        if fp64:
            angles = pos.double()[0, :, None] * module.inv_freq.double()
            angles = torch.cat((angles, angles), -1)
            cos, sin = angles.cos(), angles.sin()
        else:
            cos, sin = cos[0].double(), sin[0].double()
        d = config.rotary_dim
        q = torch.randn(d, generator=g, dtype=torch.float64).to(device)
        k = torch.randn(d, generator=g, dtype=torch.float64).to(device)
        scores = (rotate(q, cos[[0, 2]], sin[[0, 2]]) * rotate(k, cos[[1, 3]], sin[[1, 3]])).sum(-1)
        yield scores[1:], scores[:1]


def rope_rotation_pairs(g: torch.Generator, dtype, device, n: int = 1) -> Iterator[Pair]:
    """The reference's rotary_embedding in ``dtype`` (both layouts, alternately) against the same rotation in
    float64 at the reference's own float32 angles: the arithmetic of the rotation (cos and sin, the cast to
    the dtype, the products), without the rounding of the angles and frequencies, which the property bounds
    analytically."""
    from layer_conformance.reference.rope import ROPE_INIT_FUNCTIONS, rotary_embedding

    for i, config in enumerate(_rope_configs(g, dtype, n)):
        interleaved = i % 2 == 1
        pos = torch.randint(0, 3 * config.max_position_embeddings, (2, 8), generator=g).to(device)
        x = _rand(g, (2, 2, 8, config.head_dim), dtype, device)
        ns = config.namespace()
        rotated, _ = rotary_embedding(ns, x, x, pos, interleaved)
        inv_freq, scale = ROPE_INIT_FUNCTIONS[config.rope_type](ns, device, int(pos.max()) + 1)
        angles = (pos[..., None].float() * inv_freq.float()).double()
        angles = angles.repeat_interleave(2, -1) if interleaved else torch.cat((angles, angles), -1)
        dim = angles.shape[-1]
        r = x.double()[..., :dim]
        if interleaved:
            partner = torch.stack((-r[..., 1::2], r[..., ::2]), -1).flatten(-2)
        else:
            partner = torch.cat((-r[..., dim // 2 :], r[..., : dim // 2]), -1)
        expected = r * (angles.cos() * scale)[:, None] + partner * (angles.sin() * scale)[:, None]
        yield rotated[..., :dim].double(), expected


KINDS: dict[str, Callable[[torch.Generator, torch.dtype, str], Iterator[Pair]]] = {
    "matmul": matmul_pairs,
    "reduction": reduction_pairs,
    "attention": attention_pairs,
    "attention_grad": lambda g, dtype, device: attention_pairs(g, dtype, device, grads=True),
    "attention_fp64": attention_fp64_pairs,
    "attention_grad_fp64": attention_grad_fp64_pairs,
    "rope_init": rope_init_pairs,
    "rope_cos": rope_cos_pairs,
    "rope_relative": rope_relative_pairs,
    "rope_relative_fp64": lambda g, dtype, device, n=1: rope_relative_pairs(g, dtype, device, n, fp64=True),
    "rope_rotation": rope_rotation_pairs,
}
#: kinds whose pair function draws all its configurations in one Hypothesis run (argument n)
BATCHED = {"rope_init", "rope_cos", "rope_relative", "rope_relative_fp64", "rope_rotation"}


def round_up(x: float) -> float:
    if x == 0:
        return 0.0
    exponent = math.floor(math.log10(x))
    mantissa = math.ceil(x / 10**exponent)
    return mantissa * 10.0**exponent


def measure(kind: str, dtype: torch.dtype, device: str, draws: int) -> tuple[float, float]:
    """(largest absolute error where |expected| < 1, largest relative error where |expected| >= 1)."""
    g = torch.Generator().manual_seed(0)
    worst_abs = worst_rel = 0.0
    runs = (
        [KINDS[kind](g, dtype, device, draws)]
        if kind in BATCHED
        else (KINDS[kind](g, dtype, device) for _ in range(draws))
    )
    for pairs in runs:
        for actual, expected in pairs:
            if actual.numel() == 0:
                continue
            err = (actual.double() - expected.double()).abs().flatten()
            ref = expected.double().abs().flatten()
            small, big = ref < 1, ref >= 1
            if small.any():
                worst_abs = max(worst_abs, err[small].max().item())
            if big.any():
                worst_rel = max(worst_rel, (err[big] / ref[big]).max().item())
    return worst_abs, worst_rel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--python", action="store_true", help="also print the rows as a Python literal")
    parser.add_argument("--kind", action="append", default=[], help="measure these kinds only (not with --write)")
    parser.add_argument(
        "--write",
        action="store_true",
        help="replace this device's rows in conformance/support/tolerances.py with the result",
    )
    parser.add_argument(
        "--backend",
        action="append",
        default=[],
        metavar="IMPL:KEY",
        help="measure attention backend KEY of implementation IMPL against the float64 definition instead, and "
        "compare with the attention_fp64 rows",
    )
    args = parser.parse_args(argv)
    if args.backend:
        return measure_backends(args.backend, args.device, args.draws)
    literal: dict[str, list[str]] = {}
    print(
        f"# torch {torch.__version__} on {args.device}: {platform.processor() or platform.machine()}, python {sys.version.split()[0]}"
    )
    if args.device.startswith("cuda"):
        print(f"# {torch.cuda.get_device_name()}")
    print(f"# {args.draws} draws per kind; suggested = max error x {SAFETY:g}, rounded up, >= 4 ulp(1.0)")
    print(
        "| kind | dtype | max abs error (\\|e\\| < 1) | max rel error (\\|e\\| >= 1) | suggested atol | suggested rtol |"
    )
    print("|---|---|---|---|---|---|")
    if args.kind and args.write:
        parser.error("--write replaces every row of the device: measure every kind")
    for kind in args.kind or KINDS:
        for dtype in DTYPES:
            err_abs, err_rel = measure(kind, dtype, args.device, args.draws)
            floor = 4 * torch.finfo(dtype).eps
            atol, rtol = (round_up(max(e * SAFETY, floor)) for e in (err_abs, err_rel))
            print(f"| {kind} | {str(dtype)[6:]} | {err_abs:.3g} | {err_rel:.3g} | {atol:.1g} | {rtol:.1g} |")
            literal.setdefault(str(dtype), []).append(f'        "{kind}": Tol({atol:.1g}, {rtol:.1g}),')
    text = (
        "{\n" + "".join(f"    {dtype}: {{\n" + "\n".join(rows) + "\n    },\n" for dtype, rows in literal.items()) + "}"
    )
    if args.python:
        print(text)
    if args.write:
        where = (
            torch.cuda.get_device_name()
            if args.device.startswith("cuda")
            else platform.processor() or platform.machine()
        )
        note = f"# Measured on {where}, torch {torch.__version__}, {args.draws} draws per kind (docs/tolerances.md).\n"
        write_table(torch.device(args.device).type, note, text)
    return 0


def measure_backends(specs: list[str], device: str, draws: int) -> int:
    """Per backend and dtype: the largest errors against the float64 definition, and whether the
    ``attention_fp64`` row of the table covers them (exit 1 if one does not)."""
    from layer_conformance.support.tolerances import tolerance

    print(f"# torch {torch.__version__} on {device}; {draws} draws per dtype")
    print(
        "| implementation | backend | dtype | max abs error (\\|e\\| < 1) | max rel error (\\|e\\| >= 1) | attention_fp64 row | covered |"
    )
    print("|---|---|---|---|---|---|---|")
    ok = True
    for spec in specs:
        impl_name, _, key = spec.rpartition(":")
        impl = load_implementation(impl_name)
        KINDS["backend"] = backend_fp64_pairs(impl, key)
        for dtype in DTYPES:
            err_abs, err_rel = measure("backend", dtype, device, draws)
            row = tolerance("attention_fp64", dtype, device)
            covered = err_abs <= row.atol and err_rel <= row.rtol
            ok &= covered
            print(
                f"| {impl_name} | {key} | {str(dtype)[6:]} | {err_abs:.3g} | {err_rel:.3g} | {row} | {'yes' if covered else 'NO'} |"
            )
        del KINDS["backend"]
    return 0 if ok else 1


def write_table(device_type: str, note: str, literal: str) -> None:
    """Replace the rows of ``device_type`` between the BEGIN/END MEASURED markers of tolerances.py."""
    path = Path(__file__).resolve().parent.parent / "conformance" / "support" / "tolerances.py"
    source = path.read_text()
    begin = source.index(f"# BEGIN MEASURED {device_type}")
    begin = source.index("\n", begin) + 1
    end = source.index(f"# END MEASURED {device_type}")
    name = f"_{device_type.upper()}"
    path.write_text(source[:begin] + note + f"{name}: dict[torch.dtype, dict[str, Tol]] = {literal}\n" + source[end:])
    print(f"# wrote the {device_type} rows of {path}")


if __name__ == "__main__":
    raise SystemExit(main())
