"""Stands in for transformers beside the fake SGLang (``tests/fakesglang``) where transformers is not installed (the
suite's CI): the one class the SGLang adapter reads a config through, keeping the RoPE parameters it is given
(which the suite writes in transformers 5's standardized form already)."""

__version__ = "0.0.0+stand-in"


class LlamaConfig:
    def __init__(
        self, hidden_size, num_attention_heads, head_dim=None, max_position_embeddings=2048, rope_parameters=None
    ):
        self.hidden_size, self.num_attention_heads = hidden_size, num_attention_heads
        self.head_dim = head_dim or hidden_size // num_attention_heads
        self.max_position_embeddings = max_position_embeddings
        self.rope_parameters = dict(rope_parameters or {})
        self.rope_scaling = self.rope_parameters
