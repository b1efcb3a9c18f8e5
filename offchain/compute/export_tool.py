"""Requester tooling for the ``export`` workload: export your own ``nn.Module``, check it as workers do,
upload it with its inputs, read the result back as tensors (and token ids as text).

``load_module("model.py:build")`` imports a factory (a file or a dotted module, then ``:`` and a function
returning an ``nn.Module``) on the requester's machine. ``export_module`` exports it on example inputs
(their names are the ``forward`` parameters; the order is ``forward``'s) with ``torch.export``, checks the
archive with the workers' own ``archive.validate_archive`` (an operator outside the allow-list is refused
here, with its name, before anything is uploaded) and returns the checked archive rebuilt without
metadata, with a fixed serialization id, so one model always gives one CID. ``publish`` uploads it and
the inputs to any store with ``add_bytes`` and returns the job spec to submit. torch is imported inside
the functions, so the CLI's ``--help`` stays fast.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import io
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from offchain.compute.archive import ValidatedArchive, validate_archive
from offchain.compute.demo_models import ContentStore
from offchain.compute.errors import InputInvalid
from offchain.compute.spec import Determinism, Exact, JobSpec, Resources, canonical_spec_bytes
from offchain.compute.workloads import Export

if TYPE_CHECKING:
    import torch

_SERIALIZATION_ID = ".data/serialization_id"
_METADATA = {"tessera.export": "1"}


@dataclass(frozen=True, slots=True)
class ExportedModel:
    """An exported, checked model: ``.pt2`` bytes, its inputs as safetensors bytes, what the check saw."""

    archive: bytes
    inputs: bytes
    checked: ValidatedArchive


@dataclass(frozen=True, slots=True)
class PublishedModel:
    """What ``publish`` uploaded, and the job spec (canonical bytes) that runs it."""

    model_cid: str
    input_cid: str | None
    spec: JobSpec

    @property
    def spec_bytes(self) -> bytes:
        return canonical_spec_bytes(self.spec)


def load_module(target: str) -> torch.nn.Module:
    """Call the factory ``path/to/file.py:function`` or ``package.module:function`` and return its module."""
    import torch

    location, _, function = target.rpartition(":")
    if not location or not function.isidentifier():
        raise InputInvalid(
            f"{target!r} does not name a factory",
            hint="write FILE.py:FUNCTION or package.module:FUNCTION, FUNCTION returning an nn.Module",
        )
    if location.endswith(".py"):
        path = Path(location)
        if not path.is_file():
            raise InputInvalid(f"{location} is not a file", hint="give the path of the Python file")
        spec = importlib.util.spec_from_file_location(f"tessera_user_model_{path.stem}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    else:
        module = importlib.import_module(location)
    factory = getattr(module, function, None)
    if not callable(factory):
        raise InputInvalid(
            f"{location} has no function {function!r}", hint="name a function that builds the model"
        )
    built = factory()
    if not isinstance(built, torch.nn.Module):
        raise InputInvalid(f"{target} returned a {type(built).__name__}, not an nn.Module")
    return built


def export_module(module: torch.nn.Module, example: Mapping[str, torch.Tensor]) -> ExportedModel:
    """Export ``module`` on ``example`` (tensors by ``forward`` parameter name) and check it as workers do."""
    import torch

    from offchain.compute.tensorio import canonical_bytes

    ordered = _in_forward_order(module, example)
    try:
        program = torch.export.export(module, tuple(ordered.values()))
    except Exception as err:  # noqa: BLE001 - torch.export raises many kinds; the user needs the reason
        last = (str(err).strip().splitlines() or [""])[0][:300]
        raise InputInvalid(
            f"torch.export could not export the model: {type(err).__name__}: {last}",
            hint="make forward traceable by torch.export (static shapes, no data-dependent Python branches)",
        ) from None
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    checked = validate_archive(buffer.getvalue())  # raises UnsafeModel naming a refused operator
    members = dict(checked.members)
    members[_SERIALIZATION_ID] = b"0" * len(members[_SERIALIZATION_ID])
    archive = dataclasses.replace(checked, members=members).clean_bytes()
    tensors = {name: tensor.detach().contiguous() for name, tensor in ordered.items()}
    return ExportedModel(archive=archive, inputs=canonical_bytes(tensors, _METADATA), checked=checked)


def check_archive(data: bytes) -> ValidatedArchive:
    """What a worker's check says of an archive (``UnsafeModel`` with the reason, or the checked archive)."""
    return validate_archive(data)


def export_spec(
    *,
    model_cid: str,
    input_cid: str | None,
    outputs: Sequence[str] | None = None,
    determinism: Determinism | None = None,
    max_runtime_s: int = 120,
    max_memory_mb: int = 1024,
) -> JobSpec:
    """An ``export`` job on an uploaded archive and (when the model takes any) its uploaded inputs."""
    inputs = {"model": model_cid} | ({"input": input_cid} if input_cid is not None else {})
    return JobSpec(
        version=1,
        workload=Export(name="export", outputs=list(outputs) if outputs else None),
        inputs=inputs,
        resources=Resources(max_runtime_s=max_runtime_s, max_memory_mb=max_memory_mb),
        determinism=determinism or Exact(mode="exact"),
    )


def publish(
    store: ContentStore,
    exported: ExportedModel,
    *,
    outputs: Sequence[str] | None = None,
    determinism: Determinism | None = None,
    max_runtime_s: int = 120,
    max_memory_mb: int = 1024,
) -> PublishedModel:
    """Upload the archive and inputs to ``store`` and build the job spec that runs them."""
    model_cid = str(store.add_bytes(exported.archive))
    input_cid = str(store.add_bytes(exported.inputs)) if exported.checked.input_names else None
    spec = export_spec(
        model_cid=model_cid,
        input_cid=input_cid,
        outputs=outputs,
        determinism=determinism,
        max_runtime_s=max_runtime_s,
        max_memory_mb=max_memory_mb,
    )
    return PublishedModel(model_cid=model_cid, input_cid=input_cid, spec=spec)


def read_tensors(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file (a job's result or inputs), checked, never unpickled."""
    from offchain.compute.tensorio import load_tensor_file

    return load_tensor_file(path, source=str(path))


def ids_as_text(ids: torch.Tensor) -> list[str]:
    """Token ids (batch, length) of the reference GPT's character tokenizer, one string per row."""
    from offchain.compute.models.gpt import decode

    if ids.dim() != 2 or ids.is_floating_point():
        raise InputInvalid(
            f"token ids are an integer (batch, length) tensor, got {ids.dtype} {list(ids.shape)}"
        )
    return [decode(row) for row in ids.tolist()]


def _in_forward_order(
    module: torch.nn.Module, example: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    parameters = [
        p.name
        for p in inspect.signature(module.forward).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    missing = [name for name in parameters if name not in example]
    unknown = sorted(set(example) - set(parameters))
    if missing or unknown:
        raise InputInvalid(
            f"forward takes {parameters}; the example inputs hold {sorted(example)}",
            hint="name one example tensor after each parameter of forward",
        )
    return {name: example[name] for name in parameters}
