"""A workload that raises, crashes or exits silently is E_WORKLOAD_FAILED, carrying its last error line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from offchain.compute.determinism import resolve_device
from offchain.compute.errors import DeviceUnavailable, InputInvalid, JobDirNotEmpty, WorkloadFailed
from offchain.compute.jobdir import LOG_FILE
from offchain.compute.runner import WorkloadRunner

from .support import matmul_document, spec_of


def test_an_exception_in_the_workload_carries_its_message(
    hostile_runner: Callable[..., WorkloadRunner], job_dir: Path
) -> None:
    with pytest.raises(WorkloadFailed, match="ValueError: boom: the workload failed on purpose"):
        hostile_runner("raise").run(spec_of(matmul_document()), {}, job_dir)
    assert "Traceback" in (job_dir / LOG_FILE).read_text()


def test_a_segfault_is_a_failure_naming_the_signal(
    hostile_runner: Callable[..., WorkloadRunner], job_dir: Path
) -> None:
    with pytest.raises(WorkloadFailed, match="died of SIGSEGV"):
        hostile_runner("segfault").run(spec_of(matmul_document()), {}, job_dir)


def test_a_silent_exit_reports_the_last_line_of_the_log(
    hostile_runner: Callable[..., WorkloadRunner], job_dir: Path
) -> None:
    with pytest.raises(WorkloadFailed, match="status 3 without reporting: hostile child: giving up"):
        hostile_runner("exit-silently").run(spec_of(matmul_document()), {}, job_dir)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_cuda_without_it_is_device_unavailable() -> None:
    with pytest.raises(DeviceUnavailable, match="'cuda'"):
        resolve_device("cuda")
    assert resolve_device("auto") == torch.device("mps" if torch.backends.mps.is_available() else "cpu")


def test_a_used_job_dir_is_refused(make_runner: Callable[..., WorkloadRunner], job_dir: Path) -> None:
    job_dir.mkdir()
    (job_dir / "leftover").write_text("from an earlier run")
    with pytest.raises(JobDirNotEmpty):
        make_runner().run(spec_of(matmul_document()), {}, job_dir)


def test_inputs_must_match_the_spec_before_anything_starts(
    make_runner: Callable[..., WorkloadRunner], job_dir: Path
) -> None:
    with pytest.raises(InputInvalid, match=r"names inputs \[\] but the runner got \['weights'\]"):
        make_runner().run(spec_of(matmul_document()), {"weights": b""}, job_dir)
    assert not job_dir.exists()
