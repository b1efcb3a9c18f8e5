"""A forked job child keeps the isolation of a spawned one.

It has no TESSERA_* setting in its environment (keys and URLs stay in the worker), lives in its own session
and process group (neither the worker's nor the zygote's), works inside its job directory, and is killed
with its grandchildren when it outlives its time limit, including the caller's ``timeout_s``. A zygote whose
runner dies exits by itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from offchain.compute.errors import WorkloadTimeout
from offchain.compute.runner import WorkloadRunner

from .hostile_zygote import HOSTILE_SEED
from .support import matmul_document, running, spec_of


def _wait_gone(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not running(pid)


def test_the_child_has_no_keys_its_own_process_group_and_works_in_its_job_dir(
    hostile_zygote_runner: Callable[..., WorkloadRunner], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESSERA_PRIVATE_KEY", "0x" + "ab" * 32)
    monkeypatch.setenv("TESSERA_RPC_URL", "http://127.0.0.1:8545")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    runner = hostile_zygote_runner("report")
    job_dir = tmp_path / "job"

    runner.run(spec_of(matmul_document()), {}, job_dir)

    report = json.loads((job_dir / "report.json").read_text())
    zygote = runner._pool.executors[0].zygote_pid
    assert not [key for key in report["env"] if key.startswith("TESSERA_") or "PROXY" in key.upper()]
    assert report["pgid"] == report["sid"] == report["pid"]  # its own session and group
    assert report["ppid"] == zygote and os.getpgid(zygote) not in (report["pgid"], os.getpgid(0))
    assert Path(report["cwd"]) == job_dir.resolve()
    for key in ("HOME", "TMPDIR", "XDG_CACHE_HOME", "TORCH_HOME"):
        assert Path(report["env"][key]).is_relative_to(job_dir.resolve()), key
    assert not Path(f"/proc/{report['pid']}").exists()  # reaped after the job


def test_a_child_ignoring_sigterm_and_its_grandchild_are_killed_at_the_limit(
    hostile_zygote_runner: Callable[..., WorkloadRunner], tmp_path: Path
) -> None:
    runner = hostile_zygote_runner("ignore-sigterm", kill_grace_s=0.5)
    spec = spec_of({**matmul_document(seed=HOSTILE_SEED), "resources": {"max_runtime_s": 1}})
    job_dir = tmp_path / "job"

    started = time.monotonic()
    with pytest.raises(WorkloadTimeout, match="max_runtime_s=1") as caught:
        runner.run(spec, {}, job_dir)
    assert "SIGKILL" in caught.value.message and 1.0 <= time.monotonic() - started < 20

    pids = json.loads((job_dir / "pids.json").read_text())
    assert not Path(f"/proc/{pids['child']}").exists()
    assert _wait_gone(pids["grandchild"])
    assert runner.run(spec_of(matmul_document()), {}, tmp_path / "next").size > 0


def test_timeout_s_shorter_than_the_spec_limits_the_run(
    hostile_zygote_runner: Callable[..., WorkloadRunner], tmp_path: Path
) -> None:
    runner = hostile_zygote_runner("ignore-sigterm", kill_grace_s=0.5)
    spec = spec_of({**matmul_document(seed=HOSTILE_SEED), "resources": {"max_runtime_s": 600}})

    started = time.monotonic()
    with pytest.raises(WorkloadTimeout, match="the runner's timeout_s=1"):
        runner.run(spec, {}, tmp_path / "job", timeout_s=1.0)
    assert time.monotonic() - started < 20


def test_a_zygote_exits_when_its_runner_dies(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import os
        from offchain.compute.runner import RunnerConfig, WorkloadRunner
        runner = WorkloadRunner(RunnerConfig(device="cpu", executor="fork"))
        assert runner.prestart(wait_s=120)
        print(runner._pool.executors[0].zygote_pid, flush=True)
        os._exit(0)  # no clean-up at all, as if the worker were killed
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert _wait_gone(int(done.stdout.strip()))
