"""A zygote whose job children misbehave on cue, for the executor tests; never used outside them.

Started by ``WorkloadRunner`` through ``RunnerConfig.zygote_command`` as
``python hostile_zygote.py MODE REPLY_FD DEVICE THREADS``. It patches ``Matmul.run`` and then is the real
zygote, so every child it forks runs the patched workload. Only a matmul job with ``seed`` 666 misbehaves
(the next, well-behaved job on the same zygote must still complete):

- ``sigkill`` / ``segfault``: the child SIGKILLs itself (what the kernel's OOM killer does) / dies of SIGSEGV.
- ``ignore-sigterm``: the child ignores SIGTERM, starts a grandchild that ignores it too, writes both pids
  to pids.json, and hangs.
- ``refuse``: the zygote itself refuses to get ready (as one that finds threads after importing torch).
- ``unsafe-after-load``: the zygote finds itself unsafe to fork after loading a job's model (as one whose
  load started a thread or initialised CUDA would).
- ``report``: the child writes its environment, pid, process group, session and parent to report.json,
  then computes as usual (every job, whatever its seed).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HOSTILE_SEED = 666
_SLEEPER = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"


def main() -> int:
    mode = sys.argv[1]
    if mode == "refuse":
        os.write(int(sys.argv[2]), b"fail RuntimeError: the zygote has 3 threads after its imports\n")
        return 1
    from offchain.compute import executor_zygote
    from offchain.compute.workloads import Matmul

    original = Matmul.run

    def misbehave(self: Matmul, inputs: object, device: object) -> object:
        if mode == "report":
            report = {
                "env": dict(os.environ),
                "pid": os.getpid(),
                "pgid": os.getpgid(0),
                "sid": os.getsid(0),
                "ppid": os.getppid(),
                "cwd": os.getcwd(),
            }
            Path("report.json").write_text(json.dumps(report))  # cwd is the job directory
        elif self.seed == HOSTILE_SEED and mode == "sigkill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif self.seed == HOSTILE_SEED and mode == "segfault":
            os.kill(os.getpid(), signal.SIGSEGV)
        elif self.seed == HOSTILE_SEED and mode == "ignore-sigterm":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            grandchild = subprocess.Popen([sys.executable, "-c", _SLEEPER])
            Path("pids.json").write_text(json.dumps({"child": os.getpid(), "grandchild": grandchild.pid}))
            time.sleep(600)
        return original(self, inputs, device)  # type: ignore[arg-type]

    Matmul.run = misbehave  # type: ignore[method-assign]
    if mode == "unsafe-after-load":
        safe = executor_zygote._single_threaded

        def unsafe_after_load(when: str) -> None:
            if "model" in when:
                raise RuntimeError(f"the zygote has 2 threads {when}; fork needs one")
            safe(when)

        executor_zygote._single_threaded = unsafe_after_load
    return executor_zygote.main(sys.argv[2:])


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)
