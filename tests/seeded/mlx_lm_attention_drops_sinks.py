"""mlx-lm's attention drops the attention sinks its models pass (gpt-oss's): ``models.base.
scaled_dot_product_attention`` calls MLX's kernel without ``sinks``."""

from mlx_lm.models import base

_sdpa = base.scaled_dot_product_attention


def _seeded(queries, keys, values, cache, scale, mask, sinks=None):
    return _sdpa(queries, keys, values, cache, scale=scale, mask=mask)


base.scaled_dot_product_attention = _seeded
