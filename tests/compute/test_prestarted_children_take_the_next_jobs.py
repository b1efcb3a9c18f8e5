"""A ``spawn`` runner starts the next child ahead of time: it takes the next job at once, same result bytes.

Each standby child runs at most one job; a dead one is replaced by a fresh start; ``close`` stops them;
and a standby whose runner disappears exits by itself (its stdin closes), so none is ever orphaned.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from offchain.compute import demo_models
from offchain.compute.runner import WorkloadRunner

from .support import running


def _wait_gone(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not running(pid)


def test_standby_takes_the_next_job_and_is_replaced_and_stopped(
    make_runner: Callable[..., WorkloadRunner], tmp_path: Path
) -> None:
    runner = make_runner(executor="spawn", prestart=1)
    spec = demo_models.matmul_spec(n=32, seed=6)

    cold = runner.run(spec, {}, tmp_path / "cold")
    assert not cold.prestarted and cold.startup_s > 0.2
    assert runner.prestart(wait_s=120)
    warm = runner.run(spec, {}, tmp_path / "warm")
    assert warm.prestarted and warm.startup_s < 0.2
    assert warm.digest == cold.digest

    standby = runner._standby[0].process.pid  # the replacement started after the warm job
    os.kill(standby, 9)
    assert _wait_gone(standby)
    again = runner.run(spec, {}, tmp_path / "again")  # the dead standby is dropped: a fresh child runs it
    assert not again.prestarted and again.digest == cold.digest

    replacement = runner._standby[0].process.pid
    runner.close()
    assert not Path(f"/proc/{replacement}").exists()  # killed and reaped


def test_a_standby_exits_when_its_runner_dies(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import os
        from offchain.compute.runner import RunnerConfig, WorkloadRunner
        runner = WorkloadRunner(RunnerConfig(device="cpu", executor="spawn", prestart=1))
        assert runner.prestart(wait_s=120)
        print(runner._standby[0].process.pid, flush=True)
        os._exit(0)  # no clean-up at all, as if the worker were killed
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert _wait_gone(int(done.stdout.strip()))
