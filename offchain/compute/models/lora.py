"""One LoRA fine-tuning step as a single exported graph: forward, backward and the SGD update.

A frozen base layer ``W`` (a buffer, seeded) is adapted by a rank-``r`` update ``B @ A``; the step takes
the adapters ``lora_a`` (r, d) and ``lora_b`` (d, r), a batch ``x``/``y`` and the learning rate ``lr`` as
inputs, computes the MSE loss of ``x @ (W + scale * B @ A).T`` against ``y``, its gradients with
``torch.autograd.grad``, and returns ``loss`` with the updated adapters. ``torch.export`` (non-strict)
traces through autograd, so the exported graph holds the backward ATen operators explicitly: the worker
runs training without autograd or any Python of the requester's. Chain steps by feeding the returned
``lora_a``/``lora_b`` to the next job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

WIDTH = 16
RANK = 4
ALPHA = 8.0


def build(seed: int = 0) -> torch.nn.Module:
    """The step module with its seeded frozen base weight."""
    import torch
    from torch import nn

    class LoraStep(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            generator = torch.Generator().manual_seed(seed)
            self.register_buffer("base", torch.randn(WIDTH, WIDTH, generator=generator) / WIDTH**0.5)

        def forward(
            self,
            x: torch.Tensor,
            y: torch.Tensor,
            lora_a: torch.Tensor,
            lora_b: torch.Tensor,
            lr: torch.Tensor,
        ) -> dict[str, torch.Tensor]:
            a = lora_a.detach().requires_grad_(True)
            b = lora_b.detach().requires_grad_(True)
            with torch.enable_grad():
                prediction = x @ (self.base + (ALPHA / RANK) * (b @ a)).T
                loss = nn.functional.mse_loss(prediction, y)
                grad_a, grad_b = torch.autograd.grad(loss, [a, b])
            return {
                "loss": loss.detach(),
                "lora_a": a.detach() - lr * grad_a,
                "lora_b": b.detach() - lr * grad_b,
            }

    return LoraStep()


def batch(seed: int = 2, rows: int = 32) -> dict[str, torch.Tensor]:
    """Seeded inputs of one step: ``x``, ``y`` (a target layer's output), fresh adapters and ``lr``."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, WIDTH, generator=generator)
    target = torch.randn(WIDTH, WIDTH, generator=generator) / WIDTH**0.5
    return {
        "x": x,
        "y": x @ target.T,
        "lora_a": torch.randn(RANK, WIDTH, generator=generator) * 0.01,
        "lora_b": torch.zeros(WIDTH, RANK),
        "lr": torch.tensor(0.05),
    }
