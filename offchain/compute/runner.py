"""Run one job's workload in a child process with a time limit, a memory bound and a clean teardown.

Two executors (``RunnerConfig.executor``). ``fork`` (the default): one warm zygote per device slot has
imported torch once and forks a fresh child per job (see ``executor`` for what isolation that keeps and
what it gives up); a job waits for a free slot, so a device runs one job at a time. ``spawn``: what
follows, a fresh interpreter per job. Both lay out the job directory, supervise and collect alike.

The child is ``subprocess`` + exec of ``python -P -m offchain.compute.child``: a fresh interpreter inherits
no CUDA context, lock or thread from the worker (fork would), gets its own process group from
``start_new_session``, and needs no pickling of arguments (multiprocessing spawn would).

Every job gets a process that has never run anything else. Starting one (interpreter, torch import,
device set-up) takes seconds, so after each job the runner starts the next one ahead of time
(``RunnerConfig.prestart``): it gets ready and waits on stdin for a job directory, and exits if the runner
goes away. The first job of a runner, and any job that finds no standby ready, starts its own child.

The parent never imports torch. It checks every input (safetensors, or a model archive: ``inputformats``)
before anything loads it, remembering the sha256 of archives that passed so a repeated model is not
checked again, lays out the job directory (see ``jobdir``), hands it to the child, waits for its ready
byte (bounded by ``startup_timeout_s`` from its spawn), then for its exit (bounded by the spec's
``max_runtime_s`` from the later of hand-over and ready). Past a limit the whole group gets SIGTERM, then
SIGKILL after ``kill_grace_s``; after any exit the group gets SIGKILL (stray grandchildren) before the
child is reaped, so no zombie remains. The child's environment is an allow-list: the worker's keys and
URLs stay here.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import offchain
from offchain.compute.devices import slot_device
from offchain.compute.errors import (
    ComputeError,
    InputInvalid,
    JobDirNotEmpty,
    WorkloadFailed,
    WorkloadOom,
    WorkloadTimeout,
    error_for_code,
)
from offchain.compute.executor import ExecutorConfig, ExecutorPool, JobExit, ZygoteRefused
from offchain.compute.inputformats import check_input_bytes, check_input_file, is_archive
from offchain.compute.jobdir import (
    INPUT_DIR,
    JOB_FILE,
    LOG_FILE,
    MAX_STATUS_BYTES,
    RESULT_FILE,
    SCRATCH_DIR,
    STATUS_FILE,
    ChildJob,
    ChildStatus,
    DeviceChoice,
    input_path,
)
from offchain.compute.spec import JobSpec, canonical_spec_bytes

# Passed through to the child; everything else in the worker's environment (keys, RPC URLs) is withheld.
_ENV_PASSED = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LD_LIBRARY_PATH",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "CUDA_HOME",
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "HIP_VISIBLE_DEVICES",
)
# A standby child has no job directory yet: its HOME and TMPDIR lie under a file, so nothing can be created.
_NOWHERE = os.path.join(os.devnull, "tessera-standby")
_LOG_TAIL_BYTES = 8192
_CHECKED_ARCHIVES = 256  # sha256 digests of model archives remembered as checked

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    """How this worker runs workloads; the composition root builds it from the worker's settings.

    ``threads`` is part of the CPU device class: CPU results are only bit-comparable between workers
    using the same count. ``memory_cap_mb`` is the worker's own ceiling; a job gets the smaller of it and
    the spec's ``max_memory_mb``. ``prestart`` is how many ready children to keep waiting for the next
    jobs (0: start one per job, when the job comes). ``child_command`` replaces
    ``python -P -m offchain.compute.child`` (tests start misbehaving children with it); READY_FD, DEVICE
    and THREADS are appended to it. ``prestart`` and ``child_command`` are for the ``spawn`` executor.

    ``executor="fork"`` runs one zygote per entry of ``devices`` (``cpu``, ``cuda``, ``cuda:N``, ``mps``;
    empty: one slot of ``device``), recycled after ``recycle_after`` jobs, each keeping up to
    ``model_cache_mb`` of loaded models (``executor_models``); ``zygote_command`` replaces
    ``python -P -m offchain.compute.executor_zygote`` (tests again).
    """

    device: DeviceChoice = "auto"
    threads: int = 1
    startup_timeout_s: float = 120.0
    kill_grace_s: float = 5.0
    memory_cap_mb: int | None = None
    max_result_bytes: int = 256 << 20
    prestart: int = 1
    child_command: Sequence[str] | None = None
    executor: Literal["fork", "spawn"] = "fork"
    devices: tuple[str, ...] = ()
    recycle_after: int = 256
    zygote_command: Sequence[str] | None = None
    model_cache_mb: int = 2048

    def __post_init__(self) -> None:
        if self.child_command is not None and self.executor != "spawn":
            raise ValueError("child_command replaces the spawned child: set executor='spawn' with it")
        if self.recycle_after < 1:
            raise ValueError(f"recycle_after must be at least 1, got {self.recycle_after}")


@dataclass(frozen=True, slots=True)
class JobResult:
    """A finished job: the canonical result bytes on disk, their sha256, and where the time went.

    ``wall_s`` is the whole ``run`` call; ``startup_s`` the part of it spent waiting for the child to be
    ready (about 0 when a prestarted child was); ``compute_s`` the workload itself, timed in the child,
    and ``compute_cpu_s`` the CPU time the child's threads spent on it (insensitive to other load).
    ``model_cache_hits`` names the archive inputs whose loaded model the zygote already held.
    """

    digest: bytes
    path: Path
    size: int
    device: str
    device_class: str
    wall_s: float
    startup_s: float
    compute_s: float
    compute_cpu_s: float
    prestarted: bool
    model_cache_hits: tuple[str, ...] = ()

    @property
    def digest_hex(self) -> str:
        return "0x" + self.digest.hex()


@dataclass(slots=True)
class _Child:
    """A started child process: its pid file descriptor, its ready pipe and stdin, when it became ready."""

    process: subprocess.Popen[bytes]
    pidfd: int
    ready_read: int
    spawned: float
    ready_at: float | None = None
    closed: bool = field(default=False)

    def poll_ready(self, deadline: float) -> bool:
        """Wait until ready, exited or ``deadline``; True once it has signalled ready."""
        watched = [self.ready_read, self.pidfd]
        while self.ready_at is None:
            readable = _wait_readable(watched, deadline)
            if not readable or self.pidfd in readable and self.ready_read not in readable:
                return False  # the deadline passed, or it exited unready
            if os.read(self.ready_read, 1):
                self.ready_at = time.perf_counter()
            else:  # it closed the pipe without the byte: only its exit is left to wait for
                watched = [self.pidfd]
        return True

    def discard(self) -> None:
        """Kill the whole group (it may still run), reap the child, release the descriptors. Idempotent."""
        if self.closed:
            return
        self.closed = True
        # Not yet reaped, so the pid (= the group id) cannot have been reused: kill the group, then reap.
        _signal_group(self.process.pid, signal.SIGKILL)
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        self.process.wait()
        os.close(self.pidfd)
        os.close(self.ready_read)


_Exit = JobExit  # how a child ended: exit status, why the runner killed it (if it did), start-up time


class WorkloadRunner:
    """Runs jobs, each in a fresh child process; thread-safe; ``close`` stops standby children and zygotes."""

    def __init__(self, config: RunnerConfig | None = None) -> None:
        self.config = config or RunnerConfig()
        self._lock = threading.Lock()
        self._standby: list[_Child] = []
        self._checked: OrderedDict[bytes, None] = OrderedDict()  # sha256 of archives that passed the checks
        self._pool: ExecutorPool | None = None
        if self.config.executor == "fork":
            self._pool = ExecutorPool([self._executor_config(slot) for slot in self.slots])
        self._finalizer = weakref.finalize(self, _discard_all, self._standby, self._pool)

    @property
    def slots(self) -> tuple[str, ...]:
        """The device slots jobs run on, one job each at a time (``fork``); ``spawn`` has no such bound."""
        return self.config.devices or (self.config.device,)

    def run(
        self,
        spec: JobSpec,
        inputs: Mapping[str, bytes | Path],
        job_dir: Path,
        *,
        timeout_s: float | None = None,
    ) -> JobResult:
        """Run ``spec`` on ``inputs`` (name -> safetensors bytes or file) in the fresh ``job_dir``.

        The workload may run for the spec's ``max_runtime_s`` or ``timeout_s``, whichever is shorter (the
        caller's time left before its deadline; the limit never changes the result). With the ``fork``
        executor, waiting for a free device slot counts against ``timeout_s`` too.
        Raises a ``ComputeError`` subclass for every job-level failure; the caller records its ``code``.
        """
        started = time.perf_counter()
        job_dir = Path(job_dir).resolve()
        runtime_s, limit_name = float(spec.resources.max_runtime_s), "max_runtime_s"
        if timeout_s is not None and timeout_s < runtime_s:
            runtime_s, limit_name = max(0.0, timeout_s), "the runner's timeout_s"
        limit_name = f"{limit_name}={runtime_s:g}"
        self._prepare(spec, inputs, job_dir)
        if self._pool is not None:
            return self._run_forked(job_dir, started, runtime_s, limit_name)
        return self._run_spawned(job_dir, started, runtime_s, limit_name)

    def _run_spawned(
        self, job_dir: Path, started: float, runtime_s: float, limit_name: str, slot: str | None = None
    ) -> JobResult:
        child = self._take_standby() if slot is None else None
        prestarted = child is not None
        if child is None:
            child = self._spawn(job_dir, slot)
        try:
            outcome = self._supervise(child, job_dir, runtime_s, limit_name)
        finally:
            child.discard()
            try:
                self.prestart()
            except ComputeError as err:  # the next job starts its own child; this one is unaffected
                log.warning("could not prestart a workload child: %s", err)
        return self._collect(job_dir, outcome, started, prestarted)

    def prestart(self, *, wait_s: float = 0.0) -> bool:
        """Start standby children up to ``config.prestart`` (``fork``: every idle slot's zygote); they get
        ready in the background.

        With ``wait_s``, wait up to that long for all of them to be ready; returns whether they are.
        """
        if self._pool is not None:
            return self._pool.prestart(wait_s)
        with self._lock:
            for child in [child for child in self._standby if not _alive(child)]:
                self._standby.remove(child)
                child.discard()
            while len(self._standby) < self.config.prestart and self._finalizer.alive:
                self._standby.append(self._spawn(None))
            standby = list(self._standby)
        deadline = time.perf_counter() + wait_s
        return all(child.poll_ready(deadline) for child in standby)

    def close(self) -> None:
        """Stop the standby children and the zygotes. A ``spawn`` runner still works afterwards, starting a
        child per job; a ``fork`` runner refuses further jobs."""
        with self._lock:
            self._finalizer()

    def __enter__(self) -> WorkloadRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- before -------------------------------------------------------------------------------------
    def _prepare(self, spec: JobSpec, inputs: Mapping[str, bytes | Path], job_dir: Path) -> None:
        missing = sorted(set(spec.inputs) - set(inputs))
        unexpected = sorted(set(inputs) - set(spec.inputs))
        if missing or unexpected:
            raise InputInvalid(
                f"the spec names inputs {sorted(spec.inputs)} but the runner got {sorted(inputs)}",
                hint="fetch every input the spec names, and only those",
            )
        job_dir.mkdir(parents=True, exist_ok=True)
        if any(job_dir.iterdir()):
            raise JobDirNotEmpty(f"{job_dir} is not empty")
        (job_dir / INPUT_DIR).mkdir()
        (job_dir / SCRATCH_DIR).mkdir()
        for name in sorted(inputs):
            source, what = inputs[name], f"input {name!r} ({spec.inputs[name]})"
            if isinstance(source, bytes):
                if not self._checked_before(spec, name, source):
                    check_input_bytes(spec.workload, name, source, source=what)
                    self._remember_checked(spec, name, source)
                input_path(job_dir, name).write_bytes(source)
            else:  # check the copy the child will read, not the original (which could still change)
                copy = input_path(job_dir, name)
                shutil.copyfile(source, copy)
                try:
                    if not self._checked_before(spec, name, copy):
                        check_input_file(spec.workload, name, copy, source=what)
                        self._remember_checked(spec, name, copy)
                except ComputeError:
                    copy.unlink()
                    raise
        memory_mb = spec.resources.max_memory_mb
        if self.config.memory_cap_mb is not None:
            memory_mb = min(memory_mb, self.config.memory_cap_mb)
        job = ChildJob(
            spec=canonical_spec_bytes(spec).decode("ascii"),
            max_memory_mb=memory_mb,
            max_result_bytes=self.config.max_result_bytes,
        )
        (job_dir / JOB_FILE).write_text(job.model_dump_json())

    def _checked_before(self, spec: JobSpec, name: str, data: bytes | Path) -> bool:
        """Whether these archive bytes (by sha256) passed the checks in an earlier job of this runner: the
        checks are a function of the bytes, so a repeated model is not validated again."""
        if not is_archive(spec.workload, name):
            return False  # a safetensors check reads only the header: cheaper than hashing the file
        digest = _sha256(data)
        with self._lock:
            if digest in self._checked:
                self._checked.move_to_end(digest)
                return True
        return False

    def _remember_checked(self, spec: JobSpec, name: str, data: bytes | Path) -> None:
        if is_archive(spec.workload, name):
            with self._lock:
                self._checked[_sha256(data)] = None
                while len(self._checked) > _CHECKED_ARCHIVES:
                    self._checked.popitem(last=False)

    # --- during -------------------------------------------------------------------------------------
    def _run_forked(self, job_dir: Path, started: float, runtime_s: float, limit_name: str) -> JobResult:
        assert self._pool is not None
        executor = self._pool.acquire(started + runtime_s)
        if executor is None and not self._finalizer.alive:
            raise WorkloadFailed("the runner is closed", hint="make a new WorkloadRunner")
        if executor is None:
            raise WorkloadTimeout(
                f"no device slot of {list(self.slots)} was free before {limit_name} ran out",
                hint="run fewer jobs at once, or add device slots (TESSERA_DEVICES)",
            )
        try:
            outcome, prestarted = executor.run(job_dir, runtime_s, limit_name)
        except ZygoteRefused as err:  # e.g. a torch build that starts threads on import: fork is unsafe
            log.warning("%s; this job runs in a fresh interpreter instead", err.message)
            return self._run_spawned(job_dir, started, runtime_s, limit_name, slot=executor.config.slot)
        finally:
            self._pool.release(executor)
        return self._collect(job_dir, outcome, started, prestarted)

    def _executor_config(self, slot: str) -> ExecutorConfig:
        config = self.config
        device, cuda_visible = slot_device(slot, os.environ.get("CUDA_VISIBLE_DEVICES"))
        env = self._child_env(_NOWHERE)
        env["OPENBLAS_NUM_THREADS"] = "1"  # numpy's BLAS pool would be a second thread at fork time
        env["PYTORCH_NVML_BASED_CUDA_CHECK"] = "1"  # is_available() without initialising CUDA (fork-safe)
        if cuda_visible is not None:
            env["CUDA_VISIBLE_DEVICES"] = cuda_visible
        return ExecutorConfig(
            slot=slot,
            command=tuple(
                config.zygote_command or (sys.executable, "-P", "-m", "offchain.compute.executor_zygote")
            ),
            env=env,
            device=device,
            threads=config.threads,
            startup_timeout_s=config.startup_timeout_s,
            kill_grace_s=config.kill_grace_s,
            recycle_after=config.recycle_after,
            model_cache_mb=config.model_cache_mb,
        )

    def _take_standby(self) -> _Child | None:
        """A standby child that is alive and ready or still within its start-up time; stale ones go."""
        with self._lock:
            while self._standby:
                child = self._standby.pop(0)
                in_time = time.perf_counter() < child.spawned + self.config.startup_timeout_s
                if _alive(child) and (child.poll_ready(0.0) or in_time):
                    return child
                child.discard()
        return None

    def _spawn(self, job_dir: Path | None, slot: str | None = None) -> _Child:
        """Start a child: for ``job_dir`` (its output goes to the job's log), or as a standby (None); on
        device slot ``slot`` (a ``fork`` runner's, when its zygote failed), else on ``config.device``."""
        config = self.config
        command = list(config.child_command or (sys.executable, "-P", "-m", "offchain.compute.child"))
        device, cuda_visible = (
            slot_device(slot, os.environ.get("CUDA_VISIBLE_DEVICES")) if slot else (config.device, None)
        )
        env = self._child_env(job_dir / SCRATCH_DIR if job_dir else _NOWHERE)
        if cuda_visible is not None:
            env["CUDA_VISIBLE_DEVICES"] = cuda_visible
        ready_read, ready_write = os.pipe()
        output = open(job_dir / LOG_FILE, "wb") if job_dir else open(os.devnull, "wb")  # noqa: SIM115
        try:
            process = subprocess.Popen(
                [*command, str(ready_write), device, str(config.threads)],
                cwd=job_dir or "/",
                env=env,
                stdin=subprocess.PIPE,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=(ready_write,),
            )
        except OSError as err:
            os.close(ready_read)
            raise WorkloadFailed(f"could not start the workload child: {err}") from None
        finally:
            os.close(ready_write)
            output.close()
        return _Child(process, os.pidfd_open(process.pid), ready_read, spawned=time.perf_counter())

    def _supervise(self, child: _Child, job_dir: Path, runtime_s: float, limit_name: str) -> _Exit:
        config = self.config
        handed_over = time.perf_counter()
        assert child.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # a child that died is reported below
            child.process.stdin.write(f"{job_dir}\n".encode())
            child.process.stdin.close()
        if not child.poll_ready(child.spawned + config.startup_timeout_s) and not _exited(child):
            self._terminate(child)
            why = f"the child did not start within startup_timeout_s={config.startup_timeout_s:g}"
            return _Exit(_returncode(child), why, time.perf_counter() - handed_over)
        began = max(handed_over, child.ready_at or time.perf_counter())
        startup_s = began - handed_over
        if not _wait_readable([child.pidfd], began + runtime_s):
            self._terminate(child)
            why = f"the workload ran past {limit_name}"
            return _Exit(_returncode(child), why, startup_s)
        return _Exit(_returncode(child), None, startup_s)

    def _terminate(self, child: _Child) -> None:
        """SIGTERM the group, give it ``kill_grace_s``, then SIGKILL it."""
        _signal_group(child.process.pid, signal.SIGTERM)
        if not _wait_readable([child.pidfd], time.perf_counter() + self.config.kill_grace_s):
            _signal_group(child.process.pid, signal.SIGKILL)
            _wait_readable([child.pidfd], time.perf_counter() + 60)

    def _child_env(self, scratch: Path | str) -> dict[str, str]:
        env = {key: os.environ[key] for key in _ENV_PASSED if key in os.environ}
        package_root = str(Path(offchain.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        threads = str(self.config.threads)
        env.update(
            HOME=str(scratch),
            TMPDIR=str(scratch),
            XDG_CACHE_HOME=str(scratch),
            TORCH_HOME=str(scratch),
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONHASHSEED="0",
            PYTHONUNBUFFERED="1",
            CUBLAS_WORKSPACE_CONFIG=":4096:8",
            OMP_NUM_THREADS=threads,
            MKL_NUM_THREADS=threads,
        )
        return env

    # --- after --------------------------------------------------------------------------------------
    def _collect(self, job_dir: Path, outcome: _Exit, started: float, prestarted: bool) -> JobResult:
        if outcome.timed_out:
            raise WorkloadTimeout(
                f"{outcome.timed_out}; its process group was killed (SIGTERM, then SIGKILL after "
                f"{self.config.kill_grace_s:g} s)"
            )
        status = _read_status(job_dir)
        if status is None:
            raise _crash_error(job_dir, outcome.returncode)
        if not status.ok:
            raise error_for_code(status.code)(status.message, hint=status.hint)
        path = job_dir / RESULT_FILE
        try:
            data = path.read_bytes()
        except OSError as err:
            raise WorkloadFailed(f"the child reported success but its result is unreadable: {err}") from None
        return JobResult(
            digest=hashlib.sha256(data).digest(),
            path=path,
            size=len(data),
            device=status.device,
            device_class=status.device_class,
            wall_s=time.perf_counter() - started,
            startup_s=outcome.startup_s,
            compute_s=status.compute_s,
            compute_cpu_s=status.compute_cpu_s,
            prestarted=prestarted,
            model_cache_hits=status.model_cache_hits,
        )


def _sha256(data: bytes | Path) -> bytes:
    if isinstance(data, bytes):
        return hashlib.sha256(data).digest()
    with open(data, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").digest()


def _crash_error(job_dir: Path, returncode: int) -> ComputeError:
    """The child died without writing status.json: a signal, or a failure before it could report."""
    last = _last_log_line(job_dir / LOG_FILE)
    if returncode < 0:
        name = signal.Signals(-returncode).name
        if returncode == -signal.SIGKILL:
            # The runner only sends SIGKILL past a limit (reported as a timeout): this one came from outside.
            return WorkloadOom(f"the child was killed by {name}, most likely by the kernel's OOM killer")
        how = f"the child died of {name}"
    else:
        how = f"the child exited with status {returncode} without reporting"
    if any(marker in last.lower() for marker in ("cannot allocate", "can't allocate", "out of memory")):
        return WorkloadOom(f"{how}: {last}")
    return WorkloadFailed(f"{how}: {last or 'no output'}")


def _discard_all(children: list[_Child], pool: ExecutorPool | None) -> None:
    while children:
        children.pop().discard()
    if pool is not None:
        pool.close()


def _alive(child: _Child) -> bool:
    return not child.closed and not _exited(child)


def _exited(child: _Child) -> bool:
    return bool(_wait_readable([child.pidfd], 0.0))  # a pidfd is readable once its process has exited


def _wait_readable(fds: list[int], deadline: float) -> list[int]:
    """The fds of ``fds`` that are readable now or become so before ``deadline`` (perf_counter time)."""
    while True:
        remaining = max(0.0, deadline - time.perf_counter())
        readable, _, _ = select.select(fds, [], [], remaining)
        if readable or remaining == 0.0:
            return readable


def _returncode(child: _Child) -> int:
    """The child's exit status, read without reaping it (WNOWAIT); 0 while it still runs."""
    info = os.waitid(os.P_PIDFD, child.pidfd, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    if info is None:
        return 0
    return -info.si_status if info.si_code in (os.CLD_KILLED, os.CLD_DUMPED) else info.si_status


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _read_status(job_dir: Path) -> ChildStatus | None:
    path = job_dir / STATUS_FILE
    if not path.is_file():
        return None
    with open(path, "rb") as handle:
        data = handle.read(MAX_STATUS_BYTES + 1)
    if len(data) > MAX_STATUS_BYTES:
        return None
    try:
        return ChildStatus.model_validate_json(data)
    except ValueError:
        return None


def _last_log_line(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - _LOG_TAIL_BYTES))
            tail = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
