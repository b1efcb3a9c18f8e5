"""Running out of memory fails the job with E_WORKLOAD_OOM; the parent survives to run the next job (T25)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from offchain.compute.child import classify
from offchain.compute.errors import WorkloadOom
from offchain.compute.runner import WorkloadRunner

from .support import matmul_document, spec_of


def test_allocation_past_max_memory_mb_is_oom_and_the_next_job_runs(
    make_runner: Callable[..., WorkloadRunner], tmp_path: Path
) -> None:
    runner = make_runner()
    greedy = {**matmul_document(n=4096), "resources": {"max_memory_mb": 64}}  # three 64 MiB matrices
    with pytest.raises(WorkloadOom, match="can't allocate memory") as caught:
        runner.run(spec_of(greedy), {}, tmp_path / "greedy")
    assert "max_memory_mb" in caught.value.hint

    result = runner.run(spec_of(matmul_document(n=8)), {}, tmp_path / "next")
    assert result.size > 0


def test_cuda_out_of_memory_is_oom(hostile_runner: Callable[..., WorkloadRunner], job_dir: Path) -> None:
    with pytest.raises(WorkloadOom, match="CUDA out of memory"):
        hostile_runner("cuda-oom").run(spec_of(matmul_document()), {}, job_dir)


def test_a_child_killed_by_sigkill_is_reported_as_oom(
    hostile_runner: Callable[..., WorkloadRunner], job_dir: Path
) -> None:
    with pytest.raises(WorkloadOom, match="SIGKILL, most likely by the kernel's OOM killer"):
        hostile_runner("sigkill-self").run(spec_of(matmul_document()), {}, job_dir)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (MemoryError(), "E_WORKLOAD_OOM"),
        (torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"), "E_WORKLOAD_OOM"),
        (
            RuntimeError("[enforce fail] DefaultCPUAllocator: can't allocate memory: you tried"),
            "E_WORKLOAD_OOM",
        ),
        (RuntimeError("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"), "E_WORKLOAD_FAILED"),
        (KeyError("layers.0.weight"), "E_WORKLOAD_FAILED"),
    ],
)
def test_exceptions_are_classified(exc: BaseException, code: str) -> None:
    assert classify(exc)[0] == code
