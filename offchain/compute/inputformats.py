"""Input formats: which check and which loader each input of a spec gets, by the workload's declaration.

Every input is safetensors, except those a workload names in ``archive_inputs``: those are
``torch.export`` archives, checked by ``archive.validate_archive`` (without torch, without unpickling)
wherever safetensors inputs are checked (the worker before its claim, the runner on its copy), and handed
to the workload as one uint8 tensor ``archive`` of the raw bytes, which the workload checks again before
it loads anything. The child process imports torch; the checks here do not.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from offchain.compute import archive
from offchain.compute.archive import ARCHIVE_TENSOR
from offchain.compute.errors import UnsafeModel
from offchain.compute.tensorio import check_safetensors, check_safetensors_file
from offchain.compute.workloads.base import Workload

if TYPE_CHECKING:
    import torch


def is_archive(workload: Workload, name: str) -> bool:
    """Whether input ``name`` of ``workload`` is a ``torch.export`` archive (else safetensors)."""
    return name in type(workload).archive_inputs


def check_input_bytes(workload: Workload, name: str, data: bytes, *, source: str) -> None:
    """Refuse input bytes that are not of the input's format (``UnsafeWeights`` / ``UnsafeModel``)."""
    if is_archive(workload, name):
        _validate(data, source)
    else:
        check_safetensors(data, source=source)


def check_input_file(workload: Workload, name: str, path: Path, *, source: str) -> None:
    """``check_input_bytes`` on a file (a safetensors file is read only as far as its header)."""
    if not is_archive(workload, name):
        check_safetensors_file(path, source=source)
        return
    limit = archive.DEFAULT_LIMITS.max_archive_bytes
    size = os.stat(path).st_size
    if size > limit:
        raise UnsafeModel(f"{source}: the archive is {size:,} bytes; the limit is {limit:,}")
    _validate(path.read_bytes(), source)


def load_input(workload: Workload, name: str, path: Path, *, source: str) -> dict[str, torch.Tensor]:
    """The input's tensors on the CPU: safetensors loaded, or an archive's bytes as one uint8 tensor."""
    from offchain.compute.tensorio import load_tensor_file

    if not is_archive(workload, name):
        return load_tensor_file(path, source=source)
    import torch

    return {ARCHIVE_TENSOR: torch.frombuffer(bytearray(path.read_bytes()), dtype=torch.uint8)}


def _validate(data: bytes, source: str) -> None:
    try:
        archive.validate_archive(data)
    except UnsafeModel as err:
        raise UnsafeModel(f"{source}: {err.message}", hint=err.hint) from None
