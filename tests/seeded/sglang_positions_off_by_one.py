"""SGLang's rotary modules rotate every token by the angle of the next position (an off-by-one in the positions
its model code passes): the modules of ``get_rope`` (the name SGLang's models import) are called with
``positions + 1``.  Applies to the fake SGLang of ``tests/fakesglang`` as to the real one.  Imported as a plugin,
before the adapter selects SGLang's engine: it selects the CPU engine itself where there is no CUDA device."""

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("SGLANG_USE_CPU_ENGINE", "1")

from sglang.srt.layers import rotary_embedding as rope  # noqa: E402

_get_rope = rope.get_rope


def _seeded_get_rope(*args, **kwargs):
    module = _get_rope(*args, **kwargs)
    forward = module.forward
    module.forward = lambda positions, *rest, **options: forward(positions + 1, *rest, **options)
    return module


rope.get_rope = _seeded_get_rope
