"""The assertion helpers fail when they should, with messages naming what, the mismatch and the call."""

from __future__ import annotations

import pytest
import torch

from layer_conformance.support.checks import assert_close, assert_equal, assert_raises, call_unmutated, describe
from layer_conformance.support.tolerances import PENDING, TABLE, Tol, tolerance


def test_assert_close_reports_what_call_and_tolerance():
    with pytest.raises(AssertionError) as info:
        assert_close(torch.ones(3), torch.zeros(3), kind="matmul", what="output", call="f(x)")
    message = str(info.value)
    assert message.startswith("output: Tensor-likes are not close!")
    assert "Greatest absolute difference: 1.0" in message and "[f(x)]" in message and "atol=" in message


def test_assert_close_uses_the_dtype_row():
    x = torch.ones(3, dtype=torch.float16)
    assert_close(x + 1e-3, x, kind="matmul", what="half")  # within the float16 tolerance
    with pytest.raises(AssertionError):
        assert_close(x.float() + 1e-3, x.float(), kind="matmul", what="single")


def test_assert_equal_is_exact():
    assert_equal(torch.tensor([1.0]), torch.tensor([1.0]), what="same")
    with pytest.raises(AssertionError, match=r"values: got 1, but should be 2 \[g\(\)\]"):
        assert_equal(1, 2, what="values", call="g()")
    with pytest.raises(AssertionError):
        assert_equal(torch.tensor([1.0]), torch.tensor([1.0 + 1e-7]), what="tensors")


def test_assert_raises():
    assert isinstance(assert_raises(ValueError, int, "x", what="int"), ValueError)
    with pytest.raises(AssertionError, match="returned 3, but should raise ValueError"):
        assert_raises(ValueError, int, "3", what="int")
    with pytest.raises(AssertionError, match=r"raised TypeError\(.*\), but should raise ValueError"):
        assert_raises(ValueError, int, None, what="int")


def test_call_unmutated_catches_in_place_changes():
    x = torch.zeros(3)
    call_unmutated(torch.add, x, 1, what="add")
    with pytest.raises(AssertionError, match=r"add_: mutated its input tensor #0 \(Tensor\(3,\)\[float32\]\)"):
        call_unmutated(torch.Tensor.add_, x, 1, what="add_")
    nan = torch.tensor([float("nan")])
    call_unmutated(lambda t: t.clone(), nan, what="clone")  # NaN stays NaN: not a mutation


def test_describe_is_short():
    assert describe(torch.zeros(2, 3)) == "Tensor(2, 3)[float32]"
    assert describe(torch.tensor([1, 2])) == "tensor([1, 2], dtype=int64)"
    assert describe(torch.float16) == "float16"
    assert describe((1,)) == "(1,)"


def test_tolerance_table_rows_cover_the_same_kinds_for_every_device_and_dtype():
    every = set().union(*TABLE.values())
    for (device, dtype), row in TABLE.items():
        missing = {kind for kind in every - set(row) if (device, kind) not in PENDING}
        assert not missing, f"{device} {dtype} lacks {missing} (measure it, or list it in PENDING with the reason)"
        assert not any(kind in row for d, kind in PENDING if d == device), "a PENDING row was measured: unlist it"
    for (device, dtype), row in TABLE.items():
        for kind, tol in row.items():
            assert isinstance(tol, Tol) and tol.atol >= 0 and tol.rtol >= 0
            assert tolerance(kind, dtype, device) == tol
    assert tolerance("exact", torch.float16) == Tol(0.0, 0.0)
    with pytest.raises(KeyError, match="no measured tolerance of kind 'nope'"):
        tolerance("nope", torch.float32)
