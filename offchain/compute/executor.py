"""Warm executors: one zygote per device slot that has imported torch and forks a fresh child per job.

Why a zygote and not a long-lived process that runs job after job: a forked child starts from a process
that has run no job, so nothing one job leaves behind (monkeypatched modules, leaked memory, a corrupted
allocator, a CUDA context in a bad state) reaches the next; isolation stays per job, as with a freshly
spawned interpreter, and start-up drops from seconds (interpreter + ``import torch``) to milliseconds (a
fork). What it gives up compared to exec: every child shares the zygote's address-space layout (no fresh
ASLR per job). The zygote is non-dumpable, so a job running as the same user cannot ptrace it or write its
memory; it runs no job code, so a job's crash or OOM leaves it as it was. It is replaced when it dies,
when it breaks the protocol, and after ``recycle_after`` jobs.

``ForkExecutor`` is the runner's side of one zygote (see ``executor_zygote`` for the protocol);
``ExecutorPool`` hands one executor per device slot to one job at a time.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from offchain.compute.errors import WorkloadFailed, WorkloadTimeout


class ZygoteRefused(WorkloadFailed):
    """The zygote could not get ready (it said why): the runner runs the job in a fresh interpreter."""


@dataclass(frozen=True, slots=True)
class JobExit:
    """How a job's child ended: its exit status, why the runner killed it (if it did), its start-up time."""

    returncode: int
    timed_out: str | None
    startup_s: float


@dataclass(frozen=True, slots=True)
class ExecutorConfig:
    """One executor: the zygote's command (REPLY_FD, DEVICE, THREADS, CACHE_MB appended), its environment."""

    slot: str
    command: Sequence[str]
    env: Mapping[str, str]
    device: str
    threads: int
    startup_timeout_s: float
    kill_grace_s: float
    recycle_after: int
    model_cache_mb: int = 0


class _Zygote:
    """A started zygote process: its stdin, its reply pipe, when it was spawned, whether it said ready."""

    def __init__(self, config: ExecutorConfig) -> None:
        reply_read, reply_write = os.pipe()
        try:
            self.process = subprocess.Popen(
                [
                    *config.command,
                    str(reply_write),
                    config.device,
                    str(config.threads),
                    str(config.model_cache_mb),
                ],
                cwd="/",
                env=dict(config.env),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                pass_fds=(reply_write,),
            )
        except OSError as err:
            os.close(reply_read)
            raise WorkloadFailed(f"could not start the executor zygote: {err}") from None
        finally:
            os.close(reply_write)
        self.replies = _Replies(reply_read)
        self.spawned = time.perf_counter()
        self.ready = False
        self.failure: str | None = None
        self.jobs = 0

    def wait_ready(self, deadline: float) -> bool:
        """Wait for ``ready`` until ``deadline``; False (with ``failure`` set on a refusal) otherwise."""
        if not self.ready and self.failure is None:
            line = self.replies.next_line(deadline)
            if line == "ready":
                self.ready = True
            elif line is not None and line != _TIMEOUT:
                self.failure = line.removeprefix("fail ") or "it exited"
        return self.ready

    def send(self, line: str) -> bool:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(f"{line}\n".encode())
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError):
            return False
        return True

    def close(self) -> None:
        """Close its stdin (it exits, killing a running child), then kill its group and reap it."""
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=2)
        _signal_group(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.replies.close()


class ForkExecutor:
    """The runner's side of one zygote; runs one job at a time (``ExecutorPool`` sees to that)."""

    def __init__(self, config: ExecutorConfig) -> None:
        self.config = config
        self._zygote: _Zygote | None = None

    @property
    def zygote_pid(self) -> int | None:
        return self._zygote.process.pid if self._zygote is not None else None

    def start(self) -> None:
        """Start the zygote unless a live one exists (it imports torch in the background)."""
        if self._zygote is not None and self._zygote.process.poll() is not None:
            self._discard()
        if self._zygote is None:
            self._zygote = _Zygote(self.config)

    def wait_ready(self, wait_s: float) -> bool:
        self.start()
        assert self._zygote is not None
        return self._zygote.wait_ready(time.perf_counter() + wait_s)

    def is_ready(self) -> bool:
        """Whether the zygote has said ready (without waiting)."""
        return self._zygote is not None and self._zygote.wait_ready(0.0)

    def run(self, job_dir: Path, runtime_s: float, limit_name: str) -> tuple[JobExit, bool]:
        """Fork a child for ``job_dir`` (laid out by the runner), supervise it; how it ended, and whether
        the zygote that forked it was ready when the job came (False: the job waited for its start).

        ``runtime_s`` counts from the child's ready byte; ``limit_name`` names it in a timeout message.
        Raises ``WorkloadFailed`` / ``WorkloadTimeout`` when the zygote cannot give a child (then replaced).
        """
        config = self.config
        handed_over = time.perf_counter()
        for attempt in (1, 2):  # a zygote that died while idle gets one replacement, at once
            self.start()
            zygote = self._zygote
            assert zygote is not None
            warm = zygote.wait_ready(0.0)
            if not zygote.wait_ready(zygote.spawned + config.startup_timeout_s):
                failure = zygote.failure
                self._discard()
                if failure is not None:
                    raise ZygoteRefused(f"the executor zygote could not start: {failure}")
                raise WorkloadTimeout(
                    f"the executor did not start within startup_timeout_s={config.startup_timeout_s:g}"
                )
            pid = self._fork(zygote, job_dir, last_attempt=attempt == 2)
            if pid is not None:
                break
        assert pid is not None
        try:
            outcome = self._supervise(zygote, pid, handed_over, runtime_s, limit_name)
        except BaseException:
            _signal_group(pid, signal.SIGKILL)
            self._discard()
            raise
        _signal_group(pid, signal.SIGKILL)  # stray grandchildren; not yet reaped, so the group is still its
        zygote.jobs += 1
        reaped = zygote.send("reap") and zygote.replies.next_line(time.perf_counter() + 60) == "reaped"
        if not reaped or zygote.jobs >= config.recycle_after:
            self._discard()
            with contextlib.suppress(WorkloadFailed):
                self.start()  # the next zygote imports torch while nothing waits for it
        return outcome, warm

    def close(self) -> None:
        self._discard()

    def _fork(self, zygote: _Zygote, job_dir: Path, *, last_attempt: bool) -> int | None:
        """The child's pid; None when the zygote turned out dead (no child exists) and may be retried."""
        deadline = time.perf_counter() + self.config.startup_timeout_s
        line = zygote.replies.next_line(deadline) if zygote.send(f"job {job_dir}") else None
        if line is None or not line.startswith("pid "):
            self._discard()
            if line is None and not last_attempt:
                return None
            if line is not None and line.startswith("fail "):
                raise ZygoteRefused(f"the executor zygote refused the job: {line.removeprefix('fail ')}")
            what = "did not answer" if line == _TIMEOUT else "died" if line is None else f"said {line!r}"
            raise WorkloadFailed(f"the executor zygote {what} when handed a job; it is replaced")
        return int(line[4:])

    def _supervise(
        self, zygote: _Zygote, pid: int, handed_over: float, runtime_s: float, limit_name: str
    ) -> JobExit:
        config = self.config
        line = zygote.replies.next_line(handed_over + config.startup_timeout_s)
        startup_s = time.perf_counter() - handed_over
        timed_out: str | None = None
        if line == "ready":
            line = zygote.replies.next_line(time.perf_counter() + runtime_s)
            if line == _TIMEOUT:
                timed_out = f"the workload ran past {limit_name}"
        elif line == _TIMEOUT:
            timed_out = f"the child did not start within startup_timeout_s={config.startup_timeout_s:g}"
        if timed_out is not None:
            line = self._terminate(zygote, pid)
        if line is None or not line.startswith("exit "):
            raise WorkloadFailed(f"the executor zygote lost track of its child ({line!r}); it is replaced")
        return JobExit(int(line[5:]), timed_out, startup_s)

    def _terminate(self, zygote: _Zygote, pid: int) -> str | None:
        """SIGTERM the child's group, give it ``kill_grace_s``, then SIGKILL it; the zygote's next line."""
        _signal_group(pid, signal.SIGTERM)
        line = zygote.replies.next_line(time.perf_counter() + self.config.kill_grace_s)
        if line == _TIMEOUT:
            _signal_group(pid, signal.SIGKILL)
            line = zygote.replies.next_line(time.perf_counter() + 60)
        return line

    def _discard(self) -> None:
        if self._zygote is not None:
            zygote, self._zygote = self._zygote, None
            zygote.close()


class ExecutorPool:
    """One ``ForkExecutor`` per device slot; each runs one job at a time. Thread-safe."""

    def __init__(self, configs: Sequence[ExecutorConfig]) -> None:
        self.executors = [ForkExecutor(config) for config in configs]
        self._free = list(self.executors)
        self._changed = threading.Condition()
        self._closed = False

    def acquire(self, deadline: float) -> ForkExecutor | None:
        """A free executor, preferring one whose zygote is ready; None if none frees up by ``deadline``
        or the pool is closed."""
        with self._changed:
            while not self._free or self._closed:
                remaining = deadline - time.perf_counter()
                if remaining <= 0 or self._closed:
                    return None
                self._changed.wait(remaining)
            ready = [executor for executor in self._free if executor.is_ready()]
            chosen = (ready or self._free)[0]
            self._free.remove(chosen)
            return chosen

    def release(self, executor: ForkExecutor) -> None:
        with self._changed:
            if self._closed:
                executor.close()
            self._free.append(executor)
            self._changed.notify()

    def prestart(self, wait_s: float = 0.0) -> bool:
        """Start every idle executor's zygote; with ``wait_s``, wait that long for them all to be ready.

        The idle executors are held meanwhile (a job waits for them rather than reading the same pipe).
        """
        with self._changed:
            if self._closed:
                return False
            idle, self._free = self._free, []
        try:
            for executor in idle:
                with contextlib.suppress(WorkloadFailed):
                    executor.start()
            deadline = time.perf_counter() + wait_s
            return all(executor.wait_ready(max(0.0, deadline - time.perf_counter())) for executor in idle)
        finally:
            for executor in idle:
                self.release(executor)

    def close(self) -> None:
        """Stop the idle zygotes now; busy ones stop when their job is released."""
        with self._changed:
            self._closed = True
            for executor in self._free:
                executor.close()
            self._changed.notify_all()


_TIMEOUT = "\x00timeout"  # what _Replies.next_line returns when its deadline passes


class _Replies:
    """Lines from the zygote's reply pipe, each awaited until a deadline (perf_counter time)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = b""
        self._eof = False
        self._closed = False

    def next_line(self, deadline: float) -> str | None:
        """The next line; ``_TIMEOUT`` if none came by ``deadline``; None once the zygote closed the pipe."""
        while b"\n" not in self._buffer:
            if self._eof:
                return None
            remaining = max(0.0, deadline - time.perf_counter())
            readable, _, _ = select.select([self.fd], [], [], remaining)
            if not readable:
                return _TIMEOUT
            data = os.read(self.fd, 4096)
            self._buffer += data
            self._eof = not data
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode("utf-8", errors="replace").strip()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self.fd)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
