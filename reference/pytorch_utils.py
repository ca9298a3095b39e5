"""Reference Conv1D, chunked forward and pruning helpers.

Written from the documentation of transformers' "Custom Layers and Utilities"
page and from observed behaviour; nothing here is imported or copied from
transformers.  Where the documentation is silent and transformers behaves in a
way we consider a bug (new pruned layers lose the dtype of the old one), the
reference does what the documentation implies and the transformers run records
an expected failure instead.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable

import torch
from torch import nn

__all__ = [
    "Conv1D",
    "apply_chunking_to_forward",
    "find_pruneable_heads_and_indices",
    "prune_conv1d_layer",
    "prune_layer",
    "prune_linear_layer",
]


class Conv1D(nn.Module):
    """A linear layer with transposed weights, as in GPT and GPT-2.

    ``weight`` has shape ``(nx, nf)`` and starts from N(0, 0.02); ``bias`` has
    shape ``(nf,)`` and starts at zero.  ``forward`` maps ``(..., nx)`` to
    ``(..., nf)``.
    """

    def __init__(self, nf: int, nx: int):
        super().__init__()
        self.nf = nf
        self.nx = nx
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))
        nn.init.normal_(self.weight, mean=0.0, std=0.02)

    def extra_repr(self) -> str:
        return f"nf={self.nf}, nx={self.nx}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, self.nx)
        out = torch.addmm(self.bias, flat, self.weight)
        return out.reshape(*x.shape[:-1], self.nf)


def apply_chunking_to_forward(
    forward_fn: Callable[..., torch.Tensor], chunk_size: int, chunk_dim: int, *input_tensors: torch.Tensor
) -> torch.Tensor:
    """Apply ``forward_fn`` chunk by chunk along ``chunk_dim`` and concatenate the results.

    ``forward_fn`` must take exactly as many parameters as there are input
    tensors.  ``chunk_size == 0`` means no chunking.  Otherwise all inputs must
    have the same size along ``chunk_dim``, a multiple of ``chunk_size``.
    """
    if len(input_tensors) == 0:
        raise ValueError("apply_chunking_to_forward needs at least one input tensor")
    n_params = len(inspect.signature(forward_fn).parameters)
    if n_params != len(input_tensors):
        raise ValueError(f"forward_fn takes {n_params} arguments, but {len(input_tensors)} input tensors are given")
    if chunk_size <= 0:
        return forward_fn(*input_tensors)

    size = input_tensors[0].shape[chunk_dim]
    for tensor in input_tensors[1:]:
        if tensor.shape[chunk_dim] != size:
            raise ValueError(
                f"all input tensors must have the same size along dim {chunk_dim}: {size} != {tensor.shape[chunk_dim]}"
            )
    if size % chunk_size != 0:
        raise ValueError(f"the size along dim {chunk_dim} ({size}) is not a multiple of chunk_size {chunk_size}")

    outputs = []
    for start in range(0, size, chunk_size):
        chunk = tuple(t.narrow(chunk_dim, start, chunk_size) for t in input_tensors)
        outputs.append(forward_fn(*chunk))
    return torch.cat(outputs, dim=chunk_dim)


def find_pruneable_heads_and_indices(
    heads: Iterable[int], n_heads: int, head_size: int, already_pruned_heads: set[int]
) -> tuple[set[int], torch.LongTensor]:
    """Return the heads still to prune and the rows of the current layout to keep.

    Head numbers are those of the unpruned model; the current layout holds
    ``n_heads`` heads of ``head_size`` rows each, the already pruned heads
    having been removed from it.
    """
    already = set(already_pruned_heads)
    to_prune = set(heads) - already
    keep = torch.ones(n_heads, head_size, dtype=torch.bool)
    for head in to_prune:
        position = head - sum(1 for pruned in already if pruned < head)
        keep[position] = False
    index = torch.arange(n_heads * head_size, dtype=torch.long)[keep.reshape(-1)]
    return to_prune, index


def _new_parameter(data: torch.Tensor) -> nn.Parameter:
    return nn.Parameter(data.detach().clone().contiguous(), requires_grad=True)


def prune_linear_layer(layer: nn.Linear, index: torch.LongTensor, dim: int = 0) -> nn.Linear:
    """A new ``nn.Linear`` keeping the entries of ``index`` along ``dim`` (0: outputs, 1: inputs).

    The bias follows the outputs, so it is pruned only along dim 0.  The new
    parameters keep the dtype and device of the old ones and require grad.
    """
    weight = layer.weight
    dim = dim % weight.dim()  # a negative dim counts from the end, as everywhere in torch
    index = index.to(weight.device)
    new_weight = weight.index_select(dim, index)
    out_features, in_features = new_weight.shape
    has_bias = layer.bias is not None
    new = nn.Linear(in_features, out_features, bias=has_bias, device=weight.device, dtype=weight.dtype)
    new.weight = _new_parameter(new_weight)
    if has_bias:
        new.bias = _new_parameter(layer.bias.index_select(0, index) if dim == 0 else layer.bias)
    return new


def prune_conv1d_layer(layer: Conv1D, index: torch.LongTensor, dim: int = 1) -> Conv1D:
    """A new ``Conv1D`` keeping the entries of ``index`` along ``dim`` (1: outputs, 0: inputs).

    ``Conv1D`` stores its weight transposed, so its outputs are dim 1; the bias
    is pruned only along dim 1.  The new parameters keep dtype and device.
    """
    weight = layer.weight
    dim = dim % weight.dim()
    index = index.to(weight.device)
    new_weight = weight.index_select(dim, index)
    nx, nf = new_weight.shape
    new = Conv1D(nf, nx).to(device=weight.device, dtype=weight.dtype)
    new.weight = _new_parameter(new_weight)
    new.bias = _new_parameter(layer.bias.index_select(0, index) if dim == 1 else layer.bias)
    return new


def prune_layer(layer: nn.Linear | Conv1D, index: torch.LongTensor, dim: int | None = None) -> nn.Linear | Conv1D:
    """Prune an ``nn.Linear`` (default dim 0) or a ``Conv1D`` (default dim 1); anything else is a ValueError."""
    if isinstance(layer, nn.Linear):
        return prune_linear_layer(layer, index, dim=0 if dim is None else dim)
    if isinstance(layer, Conv1D):
        return prune_conv1d_layer(layer, index, dim=1 if dim is None else dim)
    raise ValueError(f"cannot prune a layer of class {type(layer).__name__}")
