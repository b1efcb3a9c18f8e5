"""The real `ComputePort`: `offchain.compute`'s spec parser and `WorkloadRunner` (one child process per job).

Built from Settings: ``device``, ``devices`` (the device slots), ``executor``, ``executor_recycle_after``,
``model_cache_memory_mb`` and ``workload_memory_mb`` (the worker's memory ceiling; a job gets the
smaller of it and its spec's ``max_memory_mb``). When the pipeline has less time left before the commit
deadline than the spec allows, the runner gets the shorter limit as ``timeout_s`` beside the spec, which is
never rewritten (the limit does not change the result).
"""

from __future__ import annotations

import json
from pathlib import Path

from offchain.compute.devices import pool_slots, refusal, slot_infos
from offchain.compute.errors import ComputeError, DeviceUnfit
from offchain.compute.inputformats import check_input_file
from offchain.compute.jobdir import STATUS_FILE
from offchain.compute.runner import RunnerConfig, WorkloadRunner
from offchain.compute.spec import JobSpec, parse_spec
from offchain.settings import Settings
from offchain.worker.compute_port import ComputeOutput, JobCodeFailed, SpecSummary


class OffchainCompute:
    """Parses specs and runs them with `WorkloadRunner`."""

    def __init__(self, settings: Settings, *, runner: WorkloadRunner | None = None) -> None:
        slots = pool_slots(settings.devices, settings.device)
        self.devices = slot_infos(slots, memory_cap_mb=settings.workload_memory_mb)
        self.runner = runner or WorkloadRunner(
            RunnerConfig(
                device=settings.device,
                memory_cap_mb=settings.workload_memory_mb,
                executor=settings.executor,
                devices=slots,
                recycle_after=settings.executor_recycle_after,
                model_cache_mb=settings.model_cache_memory_mb,
            )
        )

    def parse(self, raw: bytes) -> SpecSummary:
        """The spec, or a refusal: malformed, or needing what no device slot here offers (the pipeline
        skips the job without a transaction: the worker abstains)."""
        spec = parse_spec(raw)
        why = refusal(spec, self.devices)
        if why is not None:
            raise DeviceUnfit(why)
        return SpecSummary(
            spec=spec,
            workload=spec.workload.name,
            input_cids=dict(spec.inputs),
            max_runtime_s=float(spec.resources.max_runtime_s),
        )

    def check_inputs(self, summary: SpecSummary, inputs: dict[str, Path]) -> None:
        """The runner's own check, early: every input is plain safetensors with a sane header, or a
        checked torch.export archive where the workload takes one (the runner checks its copy again)."""
        for name, path in inputs.items():
            source = f"input {name!r} ({summary.input_cids[name]})"
            check_input_file(summary.spec.workload, name, path, source=source)

    def run(
        self, summary: SpecSummary, inputs: dict[str, Path], job_dir: Path, *, timeout_s: float
    ) -> ComputeOutput:
        spec: JobSpec = summary.spec  # as parsed and hashed: the time limit goes beside it, not into it
        try:
            result = self.runner.run(spec, inputs, job_dir, timeout_s=timeout_s)
        except ComputeError as err:
            if _reported_by_child(job_dir, err.code):
                raise JobCodeFailed(err) from err
            raise
        return ComputeOutput(digest=result.digest, path=result.path)


def _reported_by_child(job_dir: Path, code: str) -> bool:
    """Whether the job's child wrote its failure, with ``code``, to its status file (a crash, a kill or
    a runner failure leaves none; the runner raises what the status file says)."""
    try:
        status = json.loads((Path(job_dir) / STATUS_FILE).read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(status, dict) and status.get("ok") is False and status.get("code") == code
