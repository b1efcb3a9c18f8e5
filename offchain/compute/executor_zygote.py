"""The executor zygote: ``python -P -m offchain.compute.executor_zygote REPLY_FD DEVICE THREADS CACHE_MB``.

Started by ``executor.ForkExecutor`` in its own session with the child's allow-listed environment. It pays
the interpreter start and ``import torch`` once, initialises nothing on a device (CUDA is not fork-safe:
every job child creates its own context), makes itself non-dumpable (no same-user process can ptrace it
or read its memory), checks it has a single thread (fork copies only the calling thread), and says
``ready``. It never runs job code itself: for each ``job DIR`` line on stdin it forks one child, which
calls ``setsid`` (its own process group), asks for SIGKILL if the zygote dies, and runs
``child.run_forked``: it moves into DIR, bounds its memory and file sizes, gets ready and runs the job.
It keeps up to CACHE_MB of loaded models (``executor_models``): a job's archives are checked and loaded
here once, before its fork, and shared with every later child whose job names the same bytes.

Protocol (lines; runner -> zygote on stdin, zygote -> runner on REPLY_FD)::

    zygote: ready | fail <why>           once, after the imports
    runner: job <dir>                     zygote: pid <pid>, then ready (the child is set up), then exit <rc>
                                          (or fail <why>, and it exits: unsafe to fork after loading a model)
    runner: reap                          after it has killed the child's group; zygote: reaped

The child is reaped only on ``reap``, so its pid (= its process group id) cannot be reused while the
runner may still signal that group. EOF on stdin: the zygote SIGKILLs a running child's group and exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from offchain.compute.executor_models import Preloaded
    from offchain.compute.model_cache import ModelCache

_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4


def main(argv: list[str] | None = None) -> int:
    """Import torch once, then fork one child per job line until stdin closes."""
    args = sys.argv[1:] if argv is None else argv
    reply_fd, choice, threads = int(args[0]), args[1], int(args[2])
    cache_mb = int(args[3]) if len(args) > 3 else 0
    commands = _Lines(sys.stdin.fileno())
    try:
        import torch  # noqa: F401 - the point of the zygote: imported once, shared by every child

        from offchain.compute import child
        from offchain.compute.model_cache import ModelCache

        device_choice = child._device_choice(choice)
        models: ModelCache[Preloaded] = ModelCache(cache_mb << 20)
        _prctl(_PR_SET_DUMPABLE, 0)
        _single_threaded("after its imports")
    except BaseException as exc:  # noqa: BLE001 - reported to the runner, which falls back on nothing
        _say(reply_fd, f"fail {type(exc).__name__}: {exc}".replace("\n", " ")[:500])
        return 1
    _say(reply_fd, "ready")
    while (line := commands.next_line()) is not None:
        if not line.startswith("job "):
            continue  # a stray "reap" (its child is already reaped)
        forked = _fork_job(Path(line[4:]), device_choice, threads, reply_fd, commands.fd, models)
        if forked is None:
            return 1  # unsafe to fork any more: the runner runs this job elsewhere and replaces us
        if not _watch(*forked, reply_fd, commands):
            return 0
    return 0


def _single_threaded(when: str) -> None:
    """Refuse to go on where a fork would be unsafe: a second thread, or CUDA initialised here."""
    import torch

    threads_now = len(os.listdir("/proc/self/task"))
    if threads_now != 1:
        raise RuntimeError(f"the zygote has {threads_now} threads {when}; fork needs one")
    if torch.cuda.is_initialized():
        raise RuntimeError(f"CUDA is initialised in the zygote {when}; its children could not use it")


def _fork_job(
    job_dir: Path, choice: str, threads: int, reply_fd: int, stdin_fd: int, models: ModelCache[Preloaded]
) -> tuple[int, int] | None:
    """Fork the job child; returns its pid and the read end of the pipe it writes its ready byte to, or
    None (after saying ``fail``) when loading the job's model left this process unsafe to fork."""
    from offchain.compute import child
    from offchain.compute.executor_models import preload

    preloaded, hits = preload(job_dir, models) if models.max_bytes else ({}, ())
    if preloaded:
        try:
            _single_threaded("after loading a model")
        except RuntimeError as err:
            _say(reply_fd, f"fail {err}")
            return None
    ready_read, ready_write = os.pipe()
    zygote = os.getpid()
    pid = os.fork()
    if pid == 0:  # the job child: never returns
        code = 1
        try:
            os.setsid()
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != zygote:  # the zygote died before the line above took effect
                os._exit(1)
            os.close(ready_read)
            os.close(reply_fd)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, stdin_fd)
            os.close(null)
            code = child.run_forked(job_dir, choice, threads, ready_write, preloaded, hits)  # type: ignore[arg-type]
        finally:
            child.exit_now(code)
    os.close(ready_write)
    _say(reply_fd, f"pid {pid}")
    return pid, ready_read


def _watch(pid: int, ready_read: int, reply_fd: int, commands: _Lines) -> bool:
    """Relay the child's ready byte and exit status, then reap it on ``reap``; False once stdin closed."""
    pidfd = os.pidfd_open(pid)
    ready_fd: int | None = ready_read
    try:
        while True:
            watched = [pidfd, commands.fd] + ([ready_fd] if ready_fd is not None else [])
            readable, _, _ = select.select(watched, [], [])
            if ready_fd is not None and ready_fd in readable:
                if os.read(ready_fd, 1):
                    _say(reply_fd, "ready")
                os.close(ready_fd)
                ready_fd = None
            elif pidfd in readable:
                break
            elif commands.fd in readable and not commands.fill():  # the runner went away
                _kill_group(pid)
                os.waitpid(pid, 0)
                return False
        info = os.waitid(os.P_PIDFD, pidfd, os.WEXITED | os.WNOWAIT)
        assert info is not None
        killed = info.si_code in (os.CLD_KILLED, os.CLD_DUMPED)
        _say(reply_fd, f"exit {-info.si_status if killed else info.si_status}")
        while (line := commands.next_line()) is not None and line != "reap":
            pass
        os.waitpid(pid, 0)
        _say(reply_fd, "reaped")
        return line is not None
    finally:
        if ready_fd is not None:
            os.close(ready_fd)
        os.close(pidfd)


class _Lines:
    """Lines read from a raw file descriptor (no ``sys.stdin`` buffering, so ``select`` stays truthful)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = b""
        self._eof = False

    def fill(self) -> bool:
        """Read what is there (blocking once); False at EOF."""
        data = os.read(self.fd, 4096)
        self._buffer += data
        self._eof = not data
        return bool(data)

    def next_line(self) -> str | None:
        """The next line without its newline; None at EOF."""
        while b"\n" not in self._buffer:
            if self._eof or not self.fill():
                return None
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode("utf-8", errors="replace").strip()


def _say(fd: int, line: str) -> None:
    with contextlib.suppress(BrokenPipeError):
        os.write(fd, (line + "\n").encode())


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}, {value}) failed")


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)
