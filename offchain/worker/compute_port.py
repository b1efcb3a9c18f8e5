"""What the pipeline needs from the compute layer, and the adapter over `offchain.compute`.

The pipeline depends on `ComputePort` only: parse a spec into a `SpecSummary` (the inputs to fetch and
the runtime bound the claim policy needs), then run it on fetched input files into a job folder and get
back the result file and its sha256. Tests can pass a fake port; `OffchainCompute` is the real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from offchain.errors import TesseraError


@dataclass(frozen=True)
class SpecSummary:
    """A validated spec and the facts the worker acts on before running it."""

    spec: Any  # the compute layer's JobSpec
    workload: str
    input_cids: dict[str, str]  # input name -> CID
    max_runtime_s: float


@dataclass(frozen=True)
class ComputeOutput:
    digest: bytes  # sha256 of the canonical result bytes
    path: Path  # the result file


class JobCodeFailed(Exception):
    """Raised by `ComputePort.run` when the job's own child process reported its failure (the workload's
    exception, or its spec or inputs refused inside the child), rather than the runner or the operating
    system (a crash, a signal, a timeout). ``error`` is the compute layer's error, code and message kept:
    `offchain.worker.error_result.agreed_error_code` decides whether every honest worker meets it."""

    def __init__(self, error: TesseraError) -> None:
        super().__init__(str(error))
        self.error = error


class ComputePort(Protocol):
    def parse(self, raw: bytes) -> SpecSummary:
        """Validate spec bytes; raise a `TesseraError` (stable code) when they are not a valid spec."""
        ...

    def check_inputs(self, summary: SpecSummary, inputs: dict[str, Path]) -> None:
        """Raise a `TesseraError` if a fetched input cannot be given to the workload (before the claim)."""
        ...

    def run(
        self, summary: SpecSummary, inputs: dict[str, Path], job_dir: Path, *, timeout_s: float
    ) -> ComputeOutput:
        """Run the workload in a child process; raise a `TesseraError` for timeouts, OOM, bad inputs, or
        `JobCodeFailed` wrapping one when the job's child process reported the failure itself."""
        ...
