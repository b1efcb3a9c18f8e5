"""A job child that crashes or runs out of memory fails its job only: the next job on the executor completes.

The zygote runs no job code, so a child's SIGKILL, segfault or RLIMIT_DATA overrun leaves it untouched (the
same zygote serves the next job); a zygote that dies is replaced by a fresh one, and one that has served
``recycle_after`` jobs is replaced too.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from offchain.compute.errors import WorkloadFailed, WorkloadOom
from offchain.compute.runner import WorkloadRunner

from .hostile_zygote import HOSTILE_SEED
from .support import matmul_document, spec_of

WELL_BEHAVED = spec_of(matmul_document(n=16, seed=3))
HOSTILE = spec_of(matmul_document(seed=HOSTILE_SEED))


@pytest.mark.parametrize(
    ("mode", "error", "message"),
    [
        ("sigkill", WorkloadOom, "SIGKILL, most likely by the kernel's OOM killer"),
        ("segfault", WorkloadFailed, "died of SIGSEGV"),
    ],
)
def test_after_a_child_dies_of_a_signal_the_next_job_completes_on_the_same_zygote(
    hostile_zygote_runner: Callable[..., WorkloadRunner],
    make_runner: Callable[..., WorkloadRunner],
    tmp_path: Path,
    mode: str,
    error: type[Exception],
    message: str,
) -> None:
    runner = hostile_zygote_runner(mode)
    expected = make_runner(executor="spawn").run(WELL_BEHAVED, {}, tmp_path / "reference").digest

    before = runner.run(WELL_BEHAVED, {}, tmp_path / "before")
    zygote = runner._pool.executors[0].zygote_pid
    with pytest.raises(error, match=message):
        runner.run(HOSTILE, {}, tmp_path / "hostile")
    after = runner.run(WELL_BEHAVED, {}, tmp_path / "after")

    assert before.digest == after.digest == expected
    assert after.prestarted and runner._pool.executors[0].zygote_pid == zygote


def test_after_an_allocation_past_max_memory_mb_the_next_job_completes(
    make_runner: Callable[..., WorkloadRunner], tmp_path: Path
) -> None:
    runner = make_runner(executor="fork")
    greedy = {**matmul_document(n=4096), "resources": {"max_memory_mb": 64}}  # three 64 MiB matrices
    with pytest.raises(WorkloadOom, match="can't allocate memory"):
        runner.run(spec_of(greedy), {}, tmp_path / "greedy")
    zygote = runner._pool.executors[0].zygote_pid

    result = runner.run(WELL_BEHAVED, {}, tmp_path / "next")
    assert result.size > 0 and runner._pool.executors[0].zygote_pid == zygote


def test_a_dead_zygote_is_replaced_and_the_next_job_completes(
    make_runner: Callable[..., WorkloadRunner], tmp_path: Path
) -> None:
    runner = make_runner(executor="fork")
    first = runner.run(WELL_BEHAVED, {}, tmp_path / "first")
    zygote = runner._pool.executors[0].zygote_pid
    assert zygote is not None
    os.kill(zygote, signal.SIGKILL)

    second = runner.run(WELL_BEHAVED, {}, tmp_path / "second")
    assert second.digest == first.digest and not second.prestarted
    assert runner._pool.executors[0].zygote_pid not in (None, zygote)


def test_a_zygote_is_recycled_after_recycle_after_jobs(
    make_runner: Callable[..., WorkloadRunner], tmp_path: Path
) -> None:
    runner = make_runner(executor="fork", recycle_after=2)
    pids = []
    for i in range(3):
        runner.run(WELL_BEHAVED, {}, tmp_path / f"job-{i}")
        pids.append(runner._pool.executors[0].zygote_pid)
    assert pids[0] != pids[1] == pids[2]  # replaced after the second job, at once (ready for the third)
    assert not Path(f"/proc/{pids[0]}").exists()  # the old one exited and was reaped


def test_a_zygote_that_cannot_get_ready_leaves_the_job_to_a_fresh_interpreter(
    hostile_zygote_runner: Callable[..., WorkloadRunner], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runner = hostile_zygote_runner("refuse")
    result = runner.run(WELL_BEHAVED, {}, tmp_path / "job")

    assert result.size > 0 and not result.prestarted
    assert "the zygote has 3 threads after its imports; this job runs in a fresh interpreter" in caplog.text
