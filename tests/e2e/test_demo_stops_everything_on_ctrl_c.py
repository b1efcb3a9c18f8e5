"""Ctrl-C in the middle of the demo stops the workers and the chain it started and exits with 130."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.e2e.conftest import demo_env, processes_mentioning

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def test_interrupt_while_jobs_run(tmp_path):
    log = tmp_path / "demo.out"
    with open(log, "w") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "offchain.cli", "demo"], cwd=tmp_path, env=demo_env(tmp_path), stdout=out,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 180
            while "workers started" not in log.read_text():
                assert demo.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            assert len(processes_mentioning(str(tmp_path))) >= 3  # the workers are up

            demo.send_signal(signal.SIGINT)
            code = demo.wait(timeout=60)
        finally:
            if demo.poll() is None:
                demo.kill()

    assert code == 130, log.read_text()
    assert "interrupted" in log.read_text()
    assert processes_mentioning(str(tmp_path)) == []
