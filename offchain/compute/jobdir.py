"""The job directory shared by the runner (parent) and the workload child: file names and the job file.

Layout of ``JOB_DIR``: ``job.json`` (written by the parent), ``inputs/<name>.safetensors`` (one per spec
input), ``scratch/`` (the child's HOME, TMPDIR and caches), and, written by the child, ``child.log``
(its stdout and stderr while it has the job), ``result.safetensors`` and ``status.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

JOB_FILE = "job.json"
INPUT_DIR = "inputs"
SCRATCH_DIR = "scratch"
LOG_FILE = "child.log"
RESULT_FILE = "result.safetensors"
STATUS_FILE = "status.json"
MAX_STATUS_BYTES = 64 << 10

DeviceChoice = Literal["auto", "cpu", "cuda", "mps"]


class ChildJob(BaseModel):
    """What the parent tells the child about the job: the spec (canonical JSON) and its limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    spec: str
    max_memory_mb: int = Field(ge=1)
    max_result_bytes: int = Field(ge=1)


class ChildStatus(BaseModel):
    """What the child reports: success with timings, or a failure code and its message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ok: bool
    code: str = ""
    message: str = ""
    hint: str | None = None
    device: str = ""
    device_class: str = ""
    compute_s: float = 0.0
    compute_cpu_s: float = 0.0
    model_cache_hits: tuple[str, ...] = ()  # archive inputs whose loaded model came from the zygote's cache


def input_path(job_dir: Path, name: str) -> Path:
    """Where input ``name`` of the spec lies in the job directory."""
    return job_dir / INPUT_DIR / f"{name}.safetensors"


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary name and rename, so a reader never sees half a file."""
    temporary = path.with_name(path.name + ".partial")
    temporary.write_bytes(data)
    temporary.replace(path)
