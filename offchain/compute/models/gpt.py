"""A GPT-2-style decoder-only transformer that generates text greedily, and its character tokenizer.

The architecture is GPT-2's at toy scale (token and learned position embeddings, pre-LayerNorm blocks of
causal multi-head self-attention and a GELU MLP, a final LayerNorm, an output head tied to the token
embedding), with weights drawn from a seeded generator. ``GreedyGenerator`` wraps it so one forward call
appends ``new_tokens`` greedy (argmax) tokens to the prompt: exported, the loop unrolls into a static graph
of ATen operators, so the worker runs generation without any Python of the requester's. Attention is
written out (matmul, mask, softmax) rather than through a fused kernel, so every device runs the same ops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

VOCAB = " abcdefghijklmnopqrstuvwxyz.,!?'"
"""The tokenizer: token id i is character ``VOCAB[i]`` (32 ids); other characters are refused."""


@dataclass(frozen=True, slots=True)
class GptConfig:
    """Sizes of the toy GPT; the defaults export to a graph of a few thousand nodes and ~60 KiB of weights."""

    vocab: int = len(VOCAB)
    context: int = 32
    width: int = 32
    heads: int = 2
    layers: int = 2
    new_tokens: int = 8
    seed: int = 0


def encode(text: str) -> list[int]:
    """Token ids of ``text`` (lowercase letters, space and ``.,!?'``)."""
    unknown = sorted({char for char in text if char not in VOCAB})
    if unknown:
        raise ValueError(f"characters {unknown} are not in the tokenizer's vocabulary {VOCAB!r}")
    return [VOCAB.index(char) for char in text]


def decode(ids: list[int]) -> str:
    """Text of token ids (ids outside the vocabulary become ``?``)."""
    return "".join(VOCAB[i] if 0 <= i < len(VOCAB) else "?" for i in ids)


def build(config: GptConfig = GptConfig()) -> torch.nn.Module:
    """A ``GreedyGenerator`` with seeded weights (GPT-2's init: N(0, 0.02), residual projections scaled)."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1 = nn.LayerNorm(config.width)
            self.qkv = nn.Linear(config.width, 3 * config.width)
            self.proj = nn.Linear(config.width, config.width)
            self.ln2 = nn.LayerNorm(config.width)
            self.up = nn.Linear(config.width, 4 * config.width)
            self.down = nn.Linear(4 * config.width, config.width)

        def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            batch, length, width = x.shape
            head = width // config.heads
            q, k, v = self.qkv(self.ln1(x)).split(width, dim=2)
            q, k, v = (t.view(batch, length, config.heads, head).transpose(1, 2) for t in (q, k, v))
            scores = (q @ k.transpose(2, 3)) / math.sqrt(head)
            scores = scores.masked_fill(mask[:length, :length], float("-inf"))
            attended = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(batch, length, width)
            x = x + self.proj(attended)
            return x + self.down(nn.functional.gelu(self.up(self.ln2(x))))

    class Gpt(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.tokens = nn.Embedding(config.vocab, config.width)
            self.positions = nn.Embedding(config.context, config.width)
            self.blocks = nn.ModuleList(Block() for _ in range(config.layers))
            self.ln = nn.LayerNorm(config.width)
            causal = torch.ones(config.context, config.context, dtype=torch.bool).triu(1)
            self.register_buffer("mask", causal)

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            positions = torch.arange(ids.shape[1], device=ids.device)
            x = self.tokens(ids) + self.positions(positions)
            for block in self.blocks:
                x = block(x, self.mask)
            return self.ln(x) @ self.tokens.weight.T  # logits, head tied to the embedding

    class GreedyGenerator(nn.Module):
        """``forward(ids)`` -> {"ids": prompt + new tokens, "logits": logits of each new token}."""

        def __init__(self) -> None:
            super().__init__()
            self.gpt = Gpt()

        def forward(self, ids: torch.Tensor) -> dict[str, torch.Tensor]:
            steps = []
            for _ in range(config.new_tokens):
                logits = self.gpt(ids[:, -config.context :])[:, -1]
                steps.append(logits)
                ids = torch.cat([ids, logits.argmax(dim=-1, keepdim=True)], dim=1)
            return {"ids": ids, "logits": torch.stack(steps, dim=1)}

    generator = torch.Generator().manual_seed(config.seed)
    model = GreedyGenerator()
    residual_std = 0.02 / math.sqrt(2 * config.layers)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("bias"):
                parameter.zero_()
            elif ".ln" in name or name.startswith("gpt.ln"):
                parameter.fill_(1.0)
            else:
                std = residual_std if name.endswith(("proj.weight", "down.weight")) else 0.02
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * std)
    return model.eval()


def prompt_ids(text: str = "the quick brown fox") -> torch.Tensor:
    """A prompt as a (1, length) int64 tensor of token ids."""
    import torch

    return torch.tensor([encode(text)], dtype=torch.int64)
