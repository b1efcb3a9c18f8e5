"""The zygote's model cache: a job's ``torch.export`` archives checked and loaded once, before the fork.

Before it forks a job's child, the zygote looks at the job's spec (``job.json``, written by the runner):
for every archive input of its workload it gets the loaded model from a ``ModelCache`` keyed by the
archive's sha256 (the CID names the same bytes, but hashing here means an input under a wrong label can
never be served another model), or checks and loads it on the CPU (``workloads.export.load_program``:
``archive.validate_archive``, then ``torch.export.load``) and builds its module. The forked child shares
those pages copy-on-write and hands the workload a ``PreloadedArchive``: the archive's bytes as usual
plus the loaded model, so ``export`` skips the check, the load and the module build. Whatever the job's
child does to its copy (a program that mutates its buffers) stays in the child.

Only the CPU copy is cached: a child on a GPU moves the model to its device per job (each child has its
own CUDA context; the zygote never touches the device). A preload that fails caches nothing and is left
to the child, which reports the failure with its code as for an uncached model. The zygote loads a model
(deserialises a checked graph and raw weights) but never runs one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from offchain.compute.jobdir import JOB_FILE, ChildJob, input_path
from offchain.compute.model_cache import Loaded, ModelCache
from offchain.compute.spec import parse_spec

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True, slots=True)
class Preloaded:
    """A checked, loaded model on the CPU: its ``ExportedProgram``, its module, its input names."""

    program: Any
    module: Any
    input_names: tuple[str, ...]
    key: str


class PreloadedArchive(dict[str, "torch.Tensor"]):
    """An archive input as the workload receives it (``{archive: uint8 tensor}``) with its loaded model."""

    def __init__(self, tensors: Mapping[str, torch.Tensor], preloaded: Preloaded) -> None:
        super().__init__(tensors)
        self.preloaded = preloaded


def preload(job_dir: Path, cache: ModelCache[Preloaded]) -> tuple[dict[str, Preloaded], tuple[str, ...]]:
    """The loaded models of ``job_dir``'s archive inputs by input name (from ``cache`` or loaded now),
    and the names that were already in the cache."""
    try:
        job = ChildJob.model_validate_json((job_dir / JOB_FILE).read_bytes())
        spec = parse_spec(job.spec.encode())
    except (OSError, ValueError):
        return {}, ()  # the child reads job.json again and reports what is wrong with it
    loaded: dict[str, Preloaded] = {}
    hits: list[str] = []
    for name in sorted(type(spec.workload).archive_inputs & set(spec.inputs)):
        try:
            data = input_path(job_dir, name).read_bytes()
            key = "sha256-" + hashlib.sha256(data).hexdigest()
            if key in cache:
                hits.append(name)
            loaded[name] = cache.get_or_load(key, lambda data=data, key=key: _load(data, key))
        except Exception:  # noqa: BLE001, S112 - the child loads it itself and reports the failure
            continue
    return loaded, tuple(hits)


def hand_over(name: str, tensors: Mapping[str, torch.Tensor], preloaded: Mapping[str, Preloaded]) -> Any:
    """What the workload gets for input ``name``: its tensors, with the loaded model when there is one."""
    model = preloaded.get(name)
    return tensors if model is None else PreloadedArchive(tensors, model)


def _load(data: bytes, key: str) -> Loaded[Preloaded]:
    import torch

    from offchain.compute.inputformats import ARCHIVE_TENSOR
    from offchain.compute.workloads.export import load_program

    archive = torch.frombuffer(bytearray(data), dtype=torch.uint8)
    program, input_names = load_program({ARCHIVE_TENSOR: archive}, torch.device("cpu"))
    module = program.module()
    weights = sum(t.numel() * t.element_size() for t in program.state_dict.values())
    return Loaded(Preloaded(program, module, tuple(input_names), key), max(len(data), weights))
