"""torchtune 0.6.1: RotaryPositionalEmbeddings (and Llama3ScaledRoPE) raise IndexError past max_seq_len.

Their docstring says "max_seq_len (int): Maximum expected sequence length for the model, if exceeded the
cached freqs will be recomputed"; forward indexes self.cache[input_pos] and nothing recomputes it.  A position
at or past max_seq_len (a sequence longer than configured, or a KV-cache decode step there) raises instead of
being rotated.  (transformers rotates any position: it computes cos/sin from the frequencies.)

Expected: the rotation of position 20 with max_seq_len 16.
Actual: IndexError: index 20 is out of bounds for dimension 0 with size 16.

Needs torchtune (torchtune==0.6.1 with torchao==0.14.1) and torch only.  Exit status 1: reproduced.
"""

import sys

import torch
from torchtune.modules import RotaryPositionalEmbeddings

rope = RotaryPositionalEmbeddings(dim=8, max_seq_len=16)
x = torch.randn(1, 1, 1, 8)  # [batch, seq, heads, head_dim]
try:
    rope(x, input_pos=torch.tensor([[20]]))
except IndexError as exc:
    print(f"reproduced: position 20 past max_seq_len 16: IndexError: {exc}")
    sys.exit(1)
print("did not reproduce: the position was rotated")
