"""Faulty implementations fail their own tests only, with a clear message, and the run goes on."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONV1D = str(ROOT / "conformance" / "properties" / "test_conv1d.py")

FAULTY = {
    "hangs": """
        import time
        from layer_conformance.reference import Conv1D as _C
        class Conv1D(_C):
            def forward(self, x):
                while True:
                    time.sleep(0.01)
    """,
    "raises": """
        from layer_conformance.reference import Conv1D as _C
        class Conv1D(_C):
            def forward(self, x):
                raise NotImplementedError("fused kernel not built")
    """,
    "wrong_type": """
        from layer_conformance.reference import Conv1D as _C
        class Conv1D(_C):
            def forward(self, x):
                return super().forward(x).tolist()
    """,
    "nan": """
        from layer_conformance.reference import Conv1D as _C
        class Conv1D(_C):
            def forward(self, x):
                return super().forward(x) * float("nan")
    """,
    "grad_leak": """
        import torch
        from layer_conformance.reference import Conv1D as _C
        class Conv1D(_C):
            def forward(self, x):
                torch.set_grad_enabled(False)
                return super().forward(x)
    """,
}


@pytest.fixture
def faulty(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(**{name: textwrap.dedent(src) for name, src in FAULTY.items()})
    pytester.syspathinsert()
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(CONV1D, "-p", "no:cacheprovider", "--hypothesis-profile=selftest", *args)


def test_hanging_implementation_times_out_per_example_and_the_run_goes_on(faulty):
    result = run(
        faulty, "--impl", "hangs", "--impl", "reference", "--example-timeout", "1", "-k", "forward_equals or matches"
    )
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(["*ExampleTimeout: the example ran longer than 1 s: the implementation hangs*"])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("raises", "*NotImplementedError: fused kernel not built*"),
        ("wrong_type", "*Conv1D forward: returned list *, but should return a Tensor*"),
        ("nan", "*Greatest absolute difference: nan at index*"),
    ],
)
def test_crashing_implementation_fails_with_a_clear_message(faulty, spec, message):
    result = run(faulty, "--impl", spec, "--impl", "reference", "-k", "forward_equals")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([message])


def test_implementation_leaking_grad_mode_is_caught_and_state_restored(faulty):
    result = run(faulty, "--impl", "grad_leak", "--impl", "reference", "-k", "forward_equals")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*GlobalStateLeak: the example left global state changed: grad mode False (was True)*"]
    )
