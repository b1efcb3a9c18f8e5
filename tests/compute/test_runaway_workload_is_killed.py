"""A workload past its time limit is killed with its process group, even when it ignores SIGTERM (T26)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from offchain.compute.errors import WorkloadTimeout
from offchain.compute.runner import WorkloadRunner

from .support import matmul_document, spec_of


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (an orphaned zombie waits on init, not on us)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _assert_no_unreaped_child() -> None:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return
    assert pid == 0, f"child {pid} was left for the caller to reap"


def test_a_child_ignoring_sigterm_and_its_grandchild_are_killed(
    hostile_runner: Callable[..., WorkloadRunner], job_dir: Path
) -> None:
    spec = spec_of({**matmul_document(), "resources": {"max_runtime_s": 1}})
    runner = hostile_runner("ignore-sigterm", kill_grace_s=0.5)

    started = time.monotonic()
    with pytest.raises(WorkloadTimeout, match="max_runtime_s=1") as caught:
        runner.run(spec, {}, job_dir)
    elapsed = time.monotonic() - started

    assert "SIGKILL" in caught.value.message and caught.value.code == "E_WORKLOAD_TIMEOUT"
    assert 1.0 <= elapsed < 20  # 1 s limit + 0.5 s grace + child start-up (a loaded CI box is slow)
    pids = json.loads((job_dir / "pids.json").read_text())
    assert not Path(f"/proc/{pids['child']}").exists()  # reaped by the runner: no zombie
    deadline = time.monotonic() + 5
    while _running(pids["grandchild"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(pids["grandchild"])
    _assert_no_unreaped_child()


def test_a_child_that_never_becomes_ready_is_killed_at_the_startup_limit(
    hostile_runner: Callable[..., WorkloadRunner], job_dir: Path
) -> None:
    runner = hostile_runner("never-ready", startup_timeout_s=1.0, kill_grace_s=0.5)
    with pytest.raises(WorkloadTimeout, match="did not start within startup_timeout_s=1"):
        runner.run(spec_of(matmul_document()), {}, job_dir)
    _assert_no_unreaped_child()
