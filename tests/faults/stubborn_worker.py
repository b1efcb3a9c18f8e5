"""The real worker program with one test-only change: its workload child can be told to ignore SIGTERM.

``python -m tests.faults.stubborn_worker`` is ``python -m offchain.worker`` (the same `main`, the same
settings, the same `WorkloadRunner`) except that `RunnerConfig.child_command` starts
``python -P -m tests.faults.stubborn_worker child`` instead of ``offchain.compute.child``. That child *is*
the real child (`offchain.compute.child.main`), with one patch: a ``matmul`` job whose seed is
`STUBBORN_SEED` ignores SIGTERM, starts a grandchild that ignores it too, writes both pids to
``pids.json`` in its job folder and sleeps. Every other job runs exactly as in production, so one worker
process can be fed that hostile job among ordinary ones (T26 through the real worker).

It runs the spawn executor (``TESSERA_EXECUTOR=spawn``): the warm executor forks its children from a zygote
and never starts a child command. The same kills, limits and confinement under the warm executor are pinned
by ``tests/compute/test_executor_keeps_job_isolation.py`` and
``test_executor_recovers_after_a_crash_or_oom.py``.

Nothing here is imported by the worker itself; the launcher exists for `tests/faults/test_hostile_jobs.py`.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

STUBBORN_SEED = 424_242
PIDS_FILE = "pids.json"
CHILD_COMMAND = (sys.executable, "-P", "-m", "tests.faults.stubborn_worker", "child")
_SLEEPER = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"


def run_child(argv: list[str]) -> None:
    """The workload child: `offchain.compute.child` with the stubborn matmul patched in."""
    from offchain.compute import child
    from offchain.compute.workloads import Matmul

    original = Matmul.run

    def run(self: Matmul, inputs: object, device: object) -> object:
        if self.seed != STUBBORN_SEED:
            return original(self, inputs, device)  # type: ignore[arg-type]
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        grandchild = subprocess.Popen([sys.executable, "-c", _SLEEPER])
        pids = {"child": os.getpid(), "grandchild": grandchild.pid}
        Path(PIDS_FILE).write_text(json.dumps(pids))  # cwd is the job folder
        time.sleep(600)
        raise SystemExit("the stubborn workload was not killed")

    Matmul.run = run  # type: ignore[method-assign]
    child.exit_now(child.main(argv))


def run_worker() -> int:
    """`offchain.worker`'s main with the child command replaced (nothing else changes)."""
    from offchain.compute.runner import RunnerConfig
    from offchain.worker import compute_adapter
    from offchain.worker.__main__ import main

    compute_adapter.RunnerConfig = functools.partial(  # type: ignore[misc]
        RunnerConfig, child_command=CHILD_COMMAND
    )
    # A replaced child command is a spawned interpreter: the warm (fork) executor never execs one.
    os.environ["TESSERA_EXECUTOR"] = "spawn"
    return main()


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        run_child(sys.argv[2:])
    else:
        sys.exit(run_worker())
