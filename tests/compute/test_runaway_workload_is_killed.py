"""A workload past its time limit is killed with its process group, even when it ignores SIGTERM (T26)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from offchain.compute.errors import WorkloadTimeout
from offchain.compute.jobdir import LOG_FILE
from offchain.compute.runner import WorkloadRunner

from .support import matmul_document, running, spec_of


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
    assert not Path(f"/proc/{pids['child']}").exists()  # killed and reaped by the runner: no zombie
    deadline = time.monotonic() + 5
    while running(pids["grandchild"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(pids["grandchild"])


def test_a_child_that_never_becomes_ready_is_killed_at_the_startup_limit(
    hostile_runner: Callable[..., WorkloadRunner], job_dir: Path
) -> None:
    runner = hostile_runner("never-ready", startup_timeout_s=1.0, kill_grace_s=0.5)
    with pytest.raises(WorkloadTimeout, match="did not start within startup_timeout_s=1"):
        runner.run(spec_of(matmul_document()), {}, job_dir)
    pid = int((job_dir / LOG_FILE).read_text().split()[0])
    assert not Path(f"/proc/{pid}").exists()
