"""A small CNN image classifier (two conv blocks, global average pooling, a linear head), seeded.

Input ``images`` (N, 1, 16, 16) float32; outputs ``logits`` (N, 10) and ``label`` (N,) int64, the argmax.
Weights use PyTorch's default initialisation drawn under a fixed seed; the images are seeded noise with a
bright square whose position depends on the class, so the digests exercise real convolutions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

CLASSES = 10
SIDE = 16


def build(seed: int = 0) -> torch.nn.Module:
    """The classifier in eval mode, weights from ``torch.manual_seed(seed)`` within a forked RNG state."""
    import torch
    from torch import nn

    class Classifier(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 8, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(8, 16, 3, padding=1),
                nn.ReLU(),
                nn.AdaptiveAvgPool2d(1),
            )
            self.head = nn.Linear(16, CLASSES)

        def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
            logits = self.head(self.features(images).flatten(1))
            return {"logits": logits, "label": logits.argmax(dim=1)}

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Classifier().eval()


def images(seed: int = 1, batch: int = 4) -> torch.Tensor:
    """(batch, 1, 16, 16) float32: N(0, 0.1) noise plus a 4x4 square placed by a seeded class."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    batch_images = torch.randn(batch, 1, SIDE, SIDE, generator=generator) * 0.1
    classes = torch.randint(0, CLASSES, (batch,), generator=generator)
    for i, cls in enumerate(classes.tolist()):
        row, col = divmod(cls, 4)
        batch_images[i, 0, row * 4 : row * 4 + 4, col * 4 : col * 4 + 4] += 1.0
    return batch_images
