"""The reference models exported for the ``export`` workload: archive bytes, seeded inputs and job specs.

``reference_job(name)`` builds one of ``REFERENCE_MODELS`` from its seed, exports it
through ``export_tool.export_module`` (``torch.export``, checked as a worker would, rebuilt without
metadata with a fixed serialization id: the same torch build always gives the same bytes, hence the same
CID). Its inputs are canonical safetensors. ``example_export_specs`` uploads them and writes the specs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from offchain.compute.demo_models import ContentStore
from offchain.compute.export_tool import export_spec
from offchain.compute.spec import canonical_spec_bytes

if TYPE_CHECKING:
    import torch

REFERENCE_MODELS = ("gpt", "cnn", "lora")
_METADATA = {"tessera.demo": "1"}


@dataclass(frozen=True, slots=True)
class ReferenceJob:
    """One exported model: its ``.pt2`` bytes, its ``input`` safetensors bytes, the outputs to return."""

    name: str
    archive: bytes
    inputs: bytes
    outputs: tuple[str, ...] | None


def reference_job(name: str) -> ReferenceJob:
    """Build, export and check reference model ``name`` (one of ``REFERENCE_MODELS``)."""
    module, example, outputs = reference_module(name)
    return ReferenceJob(
        name=name,
        archive=export_archive(module, example),
        inputs=_safetensors(example),
        outputs=tuple(outputs) if outputs else None,
    )


def reference_module(name: str) -> tuple[torch.nn.Module, dict[str, torch.Tensor], Sequence[str] | None]:
    """The eager module of reference model ``name``, its example inputs by argument name, its outputs."""
    builders = {"gpt": _gpt, "cnn": _cnn, "lora": _lora}
    if name not in builders:
        raise ValueError(f"unknown reference model {name!r}; choose one of {REFERENCE_MODELS}")
    return builders[name]()


def export_archive(module: torch.nn.Module, example: dict[str, torch.Tensor]) -> bytes:
    """``export_tool.export_module``'s checked, pinned archive of ``module`` on ``example``."""
    from offchain.compute.export_tool import export_module

    return export_module(module, example).archive


def example_export_specs(store: ContentStore, names: Sequence[str] = REFERENCE_MODELS) -> dict[str, bytes]:
    """Export and upload reference models to ``store``; canonical spec bytes by ``export:<name>``."""
    specs = {}
    for name in names:
        job = reference_job(name)
        spec = export_spec(
            model_cid=str(store.add_bytes(job.archive)),
            input_cid=str(store.add_bytes(job.inputs)),
            outputs=job.outputs,
        )
        specs[f"export:{name}"] = canonical_spec_bytes(spec)
    return specs


def _gpt() -> tuple[torch.nn.Module, dict[str, torch.Tensor], Sequence[str] | None]:
    from offchain.compute.models import gpt

    return gpt.build(), {"ids": gpt.prompt_ids()}, None


def _cnn() -> tuple[torch.nn.Module, dict[str, torch.Tensor], Sequence[str] | None]:
    from offchain.compute.models import cnn

    return cnn.build(), {"images": cnn.images()}, None


def _lora() -> tuple[torch.nn.Module, dict[str, torch.Tensor], Sequence[str] | None]:
    from offchain.compute.models import lora

    return lora.build(), lora.batch(), ("loss", "lora_a", "lora_b")


def _safetensors(tensors: dict[str, torch.Tensor]) -> bytes:
    from offchain.compute.tensorio import canonical_bytes

    return canonical_bytes({name: tensor.contiguous() for name, tensor in tensors.items()}, _METADATA)
