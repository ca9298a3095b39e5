"""The tolerance table: the one place numeric tolerances come from.

Every numeric property compares with :func:`layer_conformance.support.checks.assert_close`,
which looks up ``(kind, device type, dtype)`` here.  The numbers are measured by
``python bench/measure_tolerances.py`` (its output, the machine and the method
are in ``docs/tolerances.md``): for each kind and dtype it records the largest
error seen over many random draws, and the table holds that error times a
safety factor of 4, rounded up to one significant digit.  A tolerance is never
widened to make an implementation pass; a kind that needs more room gets a new,
measured row.

Kinds
-----
exact      bit-for-bit: copies, index selection, masks
matmul     the same product computed by different kernels or blockings
           (Conv1D against nn.Linear, chunked against unchunked)
reduction  the same sums in a different order on tensors of at most a few
           hundred elements (gradients through chunking, pruned vs masked)
attention  two attention implementations in the same dtype (eager's float32
           softmax against sdpa's kernel): outputs of rows attending a key
attention_grad   the same, for the gradients of query, key and value
attention_fp64   an attention implementation in its dtype against the
           definition computed in float64
attention_grad_fp64   the gradients of query, key and value of an attention
           implementation in its dtype against those of the float64
           definition (CPU rows only so far: the CUDA rows await a GPU
           measurement, and the property that needs them skips there)
rope_init  RoPE init functions (float32) against their float64 formulas
rope_cos   the rotary forward's cos/sin in a dtype against float64 cos/sin of
           the same frequencies
rope_relative    rotated q . k at (m, n) against (m + s, n + s), rotated by the
           forward's float32 cos/sin (``rope_relative_fp64``: rotated in float64)
rope_rotation    ``rotary_embedding``'s rotated query and key in a dtype against
           the same rotation in float64 at the same float32 angles (measured
           apart: ``--kind rope_rotation``; the CUDA rows await a GPU)

One analytic term is added on top of the measured rows: the rotary forward
computes its angles ``position * inv_freq`` in float32, so cos/sin carry the
rounding of the angle, up to ``|angle| * 2**-24``, whatever the output dtype
(:func:`float32_angle_error`).  The rows were measured at the angles of usual
configurations; a yarn or linear configuration with a factor below one
multiplies the frequencies, and so the angles and this error, without bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["PENDING", "TABLE", "Tol", "float32_angle_error", "measured", "tolerance"]


@dataclass(frozen=True)
class Tol:
    atol: float
    rtol: float

    def __str__(self) -> str:
        return f"atol={self.atol:g}, rtol={self.rtol:g}"

    def plus(self, atol: float) -> Tol:
        """This tolerance with ``atol`` more absolute room (an analytic bound added to a measured row)."""
        return Tol(self.atol + atol, self.rtol)


EXACT = Tol(0.0, 0.0)

# (device type, dtype) -> kind -> Tol.  Measured; see docs/tolerances.md.
# BEGIN MEASURED cpu (bench/measure_tolerances.py --device cpu --write)
_CPU: dict[torch.dtype, dict[str, Tol]] = {
    torch.float64: {
        "matmul": Tol(2e-15, 2e-15),
        "reduction": Tol(2e-15, 2e-15),
        "attention": Tol(3e-06, 2e-06),
        "attention_grad": Tol(2e-05, 1e-05),
        "attention_fp64": Tol(3e-06, 2e-06),
        "attention_grad_fp64": Tol(3e-05, 2e-05),
        "rope_init": Tol(3e-07, 9e-16),
        "rope_cos": Tol(3e-05, 3e-05),
        "rope_relative": Tol(6e-05, 3e-05),
        "rope_relative_fp64": Tol(8e-15, 7e-15),
        "rope_rotation": Tol(2e-06, 2e-06),
    },
    torch.float32: {
        "matmul": Tol(3e-06, 2e-06),
        "reduction": Tol(3e-06, 3e-06),
        "attention": Tol(9e-06, 6e-06),
        "attention_grad": Tol(3e-05, 2e-05),
        "attention_fp64": Tol(5e-06, 3e-06),
        "attention_grad_fp64": Tol(3e-05, 2e-05),
        "rope_init": Tol(5e-07, 5e-07),
        "rope_cos": Tol(2e-05, 2e-05),
        "rope_relative": Tol(5e-05, 5e-05),
        "rope_relative_fp64": Tol(5e-07, 5e-07),
        "rope_rotation": Tol(2e-06, 2e-06),
    },
    torch.float16: {
        "matmul": Tol(0.004, 0.004),
        "reduction": Tol(0.006, 0.006),
        "attention": Tol(0.03, 0.02),
        "attention_grad": Tol(0.07, 0.05),
        "attention_fp64": Tol(0.03, 0.02),
        "attention_grad_fp64": Tol(0.07, 0.04),
        "rope_init": Tol(0.004, 0.004),
        "rope_cos": Tol(0.004, 0.004),
        "rope_relative": Tol(0.004, 0.004),
        "rope_relative_fp64": Tol(0.004, 0.004),
        "rope_rotation": Tol(0.008, 0.008),
    },
    torch.bfloat16: {
        "matmul": Tol(0.04, 0.04),
        "reduction": Tol(0.05, 0.05),
        "attention": Tol(0.3, 0.3),
        "attention_grad": Tol(0.5, 0.3),
        "attention_fp64": Tol(0.3, 0.3),
        "attention_grad_fp64": Tol(0.4, 0.3),
        "rope_init": Tol(0.04, 0.04),
        "rope_cos": Tol(0.04, 0.04),
        "rope_relative": Tol(0.04, 0.04),
        "rope_relative_fp64": Tol(0.04, 0.04),
        "rope_rotation": Tol(0.09, 0.06),
    },
}
# END MEASURED cpu
# BEGIN MEASURED cuda (bench/measure_tolerances.py --device cuda --write)
# Measured on an NVIDIA H200, torch 2.11.0+cu130, 500 draws per kind (docs/tolerances.md).
_CUDA: dict[torch.dtype, dict[str, Tol]] = {
    torch.float64: {
        "matmul": Tol(2e-15, 1e-15),
        "reduction": Tol(2e-15, 1e-15),
        "attention": Tol(2e-06, 7e-07),
        "attention_grad": Tol(2e-05, 8e-06),
        "attention_fp64": Tol(2e-06, 7e-07),
        "rope_init": Tol(2e-07, 9e-16),
        "rope_cos": Tol(2e-05, 1e-05),
        "rope_relative": Tol(2e-05, 2e-05),
        "rope_relative_fp64": Tol(4e-15, 5e-15),
    },
    torch.float32: {
        "matmul": Tol(2e-06, 2e-06),
        "reduction": Tol(2e-06, 2e-06),
        "attention": Tol(5e-06, 4e-06),
        "attention_grad": Tol(2e-05, 1e-05),
        "attention_fp64": Tol(4e-06, 4e-06),
        "rope_init": Tol(5e-07, 5e-07),
        "rope_cos": Tol(2e-05, 9e-06),
        "rope_relative": Tol(3e-05, 2e-05),
        "rope_relative_fp64": Tol(5e-07, 5e-07),
    },
    torch.float16: {
        "matmul": Tol(0.004, 0.004),
        "reduction": Tol(0.006, 0.005),
        "attention": Tol(0.03, 0.02),
        "attention_grad": Tol(0.04, 0.03),
        "attention_fp64": Tol(0.03, 0.01),
        "rope_init": Tol(0.004, 0.004),
        "rope_cos": Tol(0.004, 0.004),
        "rope_relative": Tol(0.004, 0.004),
        "rope_relative_fp64": Tol(0.004, 0.004),
    },
    torch.bfloat16: {
        "matmul": Tol(0.04, 0.04),
        "reduction": Tol(0.05, 0.05),
        "attention": Tol(0.2, 0.07),
        "attention_grad": Tol(0.3, 0.3),
        "attention_fp64": Tol(0.2, 0.07),
        "rope_init": Tol(0.04, 0.04),
        "rope_cos": Tol(0.04, 0.04),
        "rope_relative": Tol(0.04, 0.04),
        "rope_relative_fp64": Tol(0.04, 0.04),
    },
}
# END MEASURED cuda
TABLE: dict[tuple[str, torch.dtype], dict[str, Tol]] = {
    **{("cpu", dtype): row for dtype, row in _CPU.items()},
    **{("cuda", dtype): row for dtype, row in _CUDA.items()},
}


#: (device type, kind) rows not measured yet, with the reason; a property needing one skips there
#: (:func:`measured`) instead of guessing a tolerance.
PENDING: dict[tuple[str, str], str] = {
    ("cuda", "attention_grad_fp64"): "added by a session without a GPU machine: measure with "
    "`python bench/measure_tolerances.py --device cuda --write`",
    ("cuda", "rope_rotation"): "added by a session without a GPU machine: measure with "
    "`python bench/measure_tolerances.py --device cuda --write`",
}


def tolerance(kind: str, dtype: torch.dtype, device: str | torch.device = "cpu") -> Tol:
    """The tolerance of ``kind`` for ``dtype`` on ``device``; ``exact`` is always zero."""
    if kind == "exact":
        return EXACT
    device_type = torch.device(device).type
    try:
        row = TABLE[(device_type, dtype)]
    except KeyError:
        raise KeyError(f"no measured tolerances for {dtype} on {device_type}") from None
    try:
        return row[kind]
    except KeyError:
        raise KeyError(f"no measured tolerance of kind {kind!r} for {dtype} on {device_type}") from None


def measured(kind: str, dtype: torch.dtype, device: str | torch.device = "cpu") -> bool:
    """Whether the table has a measured row of ``kind`` for this dtype and device."""
    return kind == "exact" or kind in TABLE.get((torch.device(device).type, dtype), {})


def float32_angle_error(max_angle: float) -> float:
    """The absolute error that rounding a rotary angle of at most ``max_angle`` to float32 can put into its
    cos and sin: ``max_angle * 2**-23`` (two units in the last place of the angle; cos and sin are
    1-Lipschitz).  The rope properties add it to the measured ``rope_cos`` / ``rope_relative`` rows."""
    return float(max_angle) * 2.0**-23
