"""vLLM's rotary modules rotate every token by the angle of the next position (an off-by-one in the positions
its model code passes): ``get_rope``'s modules are called with ``positions + 1``."""

from vllm.model_executor.layers import rotary_embedding as rope

_get_rope = rope.get_rope


def _seeded_get_rope(*args, **kwargs):
    module = _get_rope(*args, **kwargs)
    forward = module.forward
    module.forward = lambda positions, *rest, **options: forward(positions + 1, *rest, **options)
    return module


rope.get_rope = _seeded_get_rope
