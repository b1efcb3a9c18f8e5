"""Test doubles for the worker: an in-process compute port (same spec parser, same canonical result bytes)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from offchain.compute.spec import parse_spec
from offchain.compute.tensorio import canonical_bytes, check_safetensors_file, load_tensors
from offchain.worker.compute_port import ComputeOutput, SpecSummary


class InProcessCompute:
    """Runs a workload in this process (no child): for tests that exercise the pipeline, not the runner.

    ``gate``: when given, `run` blocks until it is set (to stop a worker mid-job)."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.runs = 0

    def parse(self, raw: bytes) -> SpecSummary:
        spec = parse_spec(raw)
        return SpecSummary(
            spec=spec,
            workload=spec.workload.name,
            input_cids=dict(spec.inputs),
            max_runtime_s=float(spec.resources.max_runtime_s),
        )

    def check_inputs(self, summary: SpecSummary, inputs: dict[str, Path]) -> None:
        for name, path in inputs.items():
            check_safetensors_file(path, source=name)

    def run(
        self, summary: SpecSummary, inputs: dict[str, Path], job_dir: Path, *, timeout_s: float
    ) -> ComputeOutput:
        import torch

        if self.gate is not None:
            self.gate.wait()
        self.runs += 1
        loaded = {name: load_tensors(path.read_bytes(), source=name) for name, path in inputs.items()}
        tensors = summary.spec.workload.run(loaded, torch.device("cpu"))
        data = canonical_bytes(tensors, {"workload": summary.workload})
        job_dir.mkdir(parents=True, exist_ok=True)
        path = job_dir / "result.safetensors"
        path.write_bytes(data)
        return ComputeOutput(digest=hashlib.sha256(data).digest(), path=path)
