"""A misbehaving workload child for the runner tests; never used outside them.

Started by ``WorkloadRunner`` through ``RunnerConfig.child_command`` as
``python hostile_child.py MODE READY_FD DEVICE THREADS`` (the job directory arrives on stdin, as for the
real child). Modes that need torch patch the real child and run it; the others only speak the protocol
and then misbehave:

- ``ignore-sigterm``: ready, ignore SIGTERM, start a grandchild that ignores it too, write both pids, hang.
- ``never-ready``: print its pid, then hang before signalling ready.
- ``sigkill-self``: ready, then SIGKILL itself (what the kernel's OOM killer does).
- ``segfault``: ready, then die of SIGSEGV.
- ``exit-silently``: ready, print a line, exit 3 without a status file.
- ``dump-env``: the real child, whose workload first writes its environment to env.json.
- ``cuda-oom`` / ``raise``: the real child with ``Matmul.run`` raising torch.OutOfMemoryError / ValueError.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

_SLEEPER = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"


def main() -> int:
    mode, ready_fd = sys.argv[1], int(sys.argv[2])
    if mode == "never-ready":
        print(os.getpid(), flush=True)  # into child.log: the test checks this pid is gone afterwards
        time.sleep(600)
    if mode in ("dump-env", "cuda-oom", "raise"):
        return _real_child(mode)
    os.write(ready_fd, b"R")
    job_dir = Path(sys.stdin.readline().strip())
    if mode == "ignore-sigterm":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        grandchild = subprocess.Popen([sys.executable, "-c", _SLEEPER])
        (job_dir / "pids.json").write_text(json.dumps({"child": os.getpid(), "grandchild": grandchild.pid}))
        time.sleep(600)
    elif mode == "sigkill-self":
        os.kill(os.getpid(), signal.SIGKILL)
    elif mode == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif mode == "exit-silently":
        print("hostile child: giving up without a word", flush=True)
        return 3
    raise SystemExit(f"unknown mode {mode}")


def _real_child(mode: str) -> int:
    import torch

    from offchain.compute import child
    from offchain.compute.workloads import Matmul

    original = Matmul.run

    def misbehave(self: Matmul, inputs: object, device: torch.device) -> object:
        if mode == "dump-env":
            Path("env.json").write_text(json.dumps(dict(os.environ)))  # cwd is the job directory
            return original(self, {}, device)
        if mode == "cuda-oom":
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 GiB")
        raise ValueError("boom: the workload failed on purpose")

    Matmul.run = misbehave  # type: ignore[method-assign]
    child.exit_now(child.main(sys.argv[2:]))
    return 1


if __name__ == "__main__":
    sys.exit(main())
