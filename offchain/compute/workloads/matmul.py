"""``matmul``: a seeded synthetic GEMM, the benchmark and smoke-test workload.

A and B are drawn from ``torch.randn`` with a CPU generator seeded by ``seed`` (so every device multiplies
the same matrices), moved to the device, and ``C = A @ B`` is computed ``iterations`` times (a work knob:
every iteration recomputes the same product). The result is C itself under ``c`` when ``n <= 512`` (at
most 2 MiB); above that a bounded summary: ``row_sums`` and ``col_sums`` of C accumulated in float64, and
``sample``, C on a regular grid of at most 64 x 64 (stride ``ceil(n / 64)``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from offchain.compute.workloads.base import SEED_MAX, FloatDtype, TensorMap, Workload

if TYPE_CHECKING:
    import torch

FULL_OUTPUT_MAX_N = 512
SAMPLE_SIDE = 64


class Matmul(Workload):
    """Seeded GEMM of two n x n matrices."""

    name: Literal["matmul"]
    n: int = Field(ge=1, le=4096, description="matrix side")
    dtype: FloatDtype = "float32"
    seed: int = Field(default=0, ge=0, le=SEED_MAX)
    iterations: int = Field(default=1, ge=1, le=10_000, description="times the product is computed")

    def run(self, inputs: Mapping[str, TensorMap], device: torch.device) -> dict[str, torch.Tensor]:
        import torch

        dtype = getattr(torch, self.dtype)
        generator = torch.Generator().manual_seed(self.seed)
        a = torch.randn(self.n, self.n, dtype=dtype, generator=generator).to(device)
        b = torch.randn(self.n, self.n, dtype=dtype, generator=generator).to(device)
        c = a @ b
        for _ in range(self.iterations - 1):
            torch.matmul(a, b, out=c)
        if self.n <= FULL_OUTPUT_MAX_N:
            return {"c": c}
        stride = math.ceil(self.n / SAMPLE_SIDE)
        return {
            "row_sums": c.sum(dim=1, dtype=torch.float64),
            "col_sums": c.sum(dim=0, dtype=torch.float64),
            "sample": c[::stride, ::stride].contiguous(),
        }
