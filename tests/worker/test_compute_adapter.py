"""The compute adapter hands the pipeline's time limit to the runner as ``timeout_s``, beside the spec:
the spec the worker parsed and hashed is the spec that runs (it was rewritten with the limit before)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from offchain.compute.runner import JobResult
from offchain.settings import Settings
from offchain.worker.compute_adapter import OffchainCompute
from tests.support.market import MATMUL


class RecordingRunner:
    def __init__(self) -> None:
        self.calls: list[tuple[object, float | None]] = []

    def run(self, spec, inputs, job_dir: Path, *, timeout_s: float | None = None) -> JobResult:
        self.calls.append((spec, timeout_s))
        path = Path(job_dir) / "result.safetensors"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"result")
        return _result(path)


def _result(path: Path) -> JobResult:
    fields = JobResult.__dataclass_fields__
    values = {name: None for name in fields}
    values.update(digest=hashlib.sha256(b"result").digest(), path=path)
    return JobResult(**values)


def test_the_time_left_reaches_the_runner_as_timeout_s_and_the_spec_is_not_rewritten(tmp_path):
    runner = RecordingRunner()
    compute = OffchainCompute(Settings(_env_file=None, device="cpu"), runner=runner)  # type: ignore[arg-type]
    summary = compute.parse(json.dumps(MATMUL).encode())  # max_runtime_s 60
    out = compute.run(summary, {}, tmp_path / "run", timeout_s=12.5)
    ((spec, timeout_s),) = runner.calls
    assert timeout_s == 12.5
    assert spec is summary.spec and spec.resources.max_runtime_s == 60
    assert out.digest == hashlib.sha256(b"result").digest()
