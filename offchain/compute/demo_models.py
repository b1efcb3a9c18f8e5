"""Demo inputs and example specs: a tiny MLP, its inputs and training data, all generated from seeds.

Nothing is downloaded. Tensors come back as canonical safetensors bytes (``tensorio.canonical_bytes``), so
the same seed always gives the same bytes and hence the same CID. The spec builders take the input CIDs
the caller got from uploading those bytes (``offchain.ipfs``), and return a ``JobSpec``; upload
``spec.canonical_spec_bytes(spec)``. ``example_specs`` does both for the demo, given any store with
``add_bytes(data) -> CID``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from offchain.compute.spec import Determinism, Exact, JobSpec, Quantized, Resources, canonical_spec_bytes
from offchain.compute.workloads import Matmul, MlpInfer, MlpTrain
from offchain.compute.workloads.base import FloatDtype

if TYPE_CHECKING:
    import torch

DEMO_SIZES = (4, 16, 3)  # input features, hidden width, outputs
_DEMO_METADATA = {"tessera.demo": "1"}


class ContentStore(Protocol):
    """Anything that stores bytes and returns their CID (``offchain.ipfs`` backends do)."""

    def add_bytes(self, data: bytes, /) -> object: ...


def example_specs(store: ContentStore) -> dict[str, bytes]:
    """Upload the demo inputs to ``store`` and return canonical spec bytes for each workload, by name."""
    weights_cid = str(store.add_bytes(mlp_weights()))
    input_cid = str(store.add_bytes(mlp_input()))
    data_cid = str(store.add_bytes(training_data()))
    specs = (
        matmul_spec(),
        mlp_infer_spec(weights_cid=weights_cid, input_cid=input_cid),
        mlp_train_spec(weights_cid=weights_cid, data_cid=data_cid),
    )
    return {spec.workload.name: canonical_spec_bytes(spec) for spec in specs}


def mlp_weights(seed: int = 0, sizes: Sequence[int] = DEMO_SIZES, dtype: FloatDtype = "float32") -> bytes:
    """An MLP with layers ``sizes[i] -> sizes[i + 1]``, uniform in +-1/sqrt(fan_in), as safetensors."""
    import torch

    from offchain.compute.tensorio import canonical_bytes

    generator = torch.Generator().manual_seed(seed)
    tensors = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        bound = 1.0 / math.sqrt(fan_in)
        tensors[f"layers.{i}.weight"] = _uniform(generator, (fan_out, fan_in), bound, dtype)
        tensors[f"layers.{i}.bias"] = _uniform(generator, (fan_out,), bound, dtype)
    return canonical_bytes(tensors, _DEMO_METADATA)


def mlp_input(
    seed: int = 1, batch: int = 8, features: int = DEMO_SIZES[0], dtype: FloatDtype = "float32"
) -> bytes:
    """A batch ``x`` of shape (batch, features) drawn from N(0, 1), as safetensors (``mlp-infer`` input)."""
    import torch

    from offchain.compute.tensorio import canonical_bytes

    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, features, generator=generator, dtype=getattr(torch, dtype))
    return canonical_bytes({"x": x}, _DEMO_METADATA)


def training_data(
    seed: int = 2, rows: int = 64, sizes: Sequence[int] = DEMO_SIZES, dtype: FloatDtype = "float32"
) -> bytes:
    """``x`` (rows, sizes[0]) from N(0, 1) and ``y = tanh(x @ T)`` for a seeded T, as safetensors."""
    import torch

    from offchain.compute.tensorio import canonical_bytes

    generator = torch.Generator().manual_seed(seed)
    torch_dtype = getattr(torch, dtype)
    x = torch.randn(rows, sizes[0], generator=generator, dtype=torch_dtype)
    teacher = torch.randn(sizes[0], sizes[-1], generator=generator, dtype=torch_dtype)
    return canonical_bytes({"x": x, "y": torch.tanh(x @ teacher)}, _DEMO_METADATA)


def matmul_spec(
    *, n: int = 256, seed: int = 0, iterations: int = 1, determinism: Determinism | None = None
) -> JobSpec:
    """A ``matmul`` job (no inputs)."""
    return JobSpec(
        version=1,
        workload=Matmul(name="matmul", n=n, seed=seed, iterations=iterations),
        resources=Resources(max_runtime_s=120, max_memory_mb=1024),
        determinism=determinism or Exact(mode="exact"),
    )


def mlp_infer_spec(*, weights_cid: str, input_cid: str, decimals: int | None = 5) -> JobSpec:
    """An ``mlp-infer`` job on uploaded ``mlp_weights`` and ``mlp_input``; exact when ``decimals`` is None."""
    return JobSpec(
        version=1,
        workload=MlpInfer(name="mlp-infer"),
        inputs={"weights": weights_cid, "input": input_cid},
        resources=Resources(max_runtime_s=60, max_memory_mb=512),
        determinism=_determinism(decimals),
    )


def mlp_train_spec(
    *,
    steps: int = 50,
    seed: int = 0,
    sizes: Sequence[int] = DEMO_SIZES,
    weights_cid: str | None = None,
    data_cid: str | None = None,
    decimals: int | None = None,
) -> JobSpec:
    """An ``mlp-train`` job: seeded SGD from seeded (or uploaded) weights on synthetic (or uploaded) data."""
    inputs = {name: cid for name, cid in (("weights", weights_cid), ("data", data_cid)) if cid is not None}
    return JobSpec(
        version=1,
        workload=MlpTrain(
            name="mlp-train", sizes=list(sizes), steps=steps, batch_size=16, lr=0.05, seed=seed
        ),
        inputs=inputs,
        resources=Resources(max_runtime_s=120, max_memory_mb=512),
        determinism=_determinism(decimals),
    )


def _determinism(decimals: int | None) -> Exact | Quantized:
    return Exact(mode="exact") if decimals is None else Quantized(mode="quantized", decimals=decimals)


def _uniform(
    generator: torch.Generator, shape: tuple[int, ...], bound: float, dtype: FloatDtype
) -> torch.Tensor:
    import torch

    return (torch.rand(*shape, generator=generator, dtype=getattr(torch, dtype)) * 2 - 1) * bound
