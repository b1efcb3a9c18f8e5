"""Run one job's workload in a child process with a time limit, a memory bound and a clean teardown.

The child is ``subprocess`` + exec of ``python -P -m offchain.compute.child``: a fresh interpreter inherits
no CUDA context, lock or thread from the worker (fork would), gets its own process group from
``start_new_session``, and needs no pickling of arguments (multiprocessing spawn would).

The parent never imports torch. It checks every input is safetensors before anything loads it, lays out
the job directory (see ``jobdir``), starts the child with a minimal environment whose HOME, TMPDIR and caches
point inside the job directory, waits for its ready byte (start-up: interpreter, torch, device), then for
its exit. Past ``max_runtime_s`` the whole group gets SIGTERM, then SIGKILL after ``kill_grace_s``; after
any exit the group gets SIGKILL (stray grandchildren) before the child is reaped, so no zombie remains.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import offchain
from offchain.compute.errors import (
    ComputeError,
    InputInvalid,
    JobDirNotEmpty,
    UnsafeWeights,
    WorkloadFailed,
    WorkloadOom,
    WorkloadTimeout,
    error_for_code,
)
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
from offchain.compute.tensorio import check_safetensors, check_safetensors_file

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
_LOG_TAIL_BYTES = 8192


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    """How this worker runs workloads; the composition root builds it from the worker's settings.

    ``threads`` is part of the CPU device class: CPU results are only bit-comparable between workers
    using the same count. ``memory_cap_mb`` is the worker's own ceiling; a job gets the smaller of it and
    the spec's ``max_memory_mb``. ``child_command`` replaces ``python -P -m offchain.compute.child`` (the
    tests use it to start misbehaving children); JOB_DIR and READY_FD are appended to it.
    """

    device: DeviceChoice = "auto"
    threads: int = 1
    startup_timeout_s: float = 60.0
    kill_grace_s: float = 5.0
    memory_cap_mb: int | None = None
    max_result_bytes: int = 256 << 20
    child_command: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class JobResult:
    """A finished job: the canonical result bytes on disk, their sha256, and where the time went."""

    digest: bytes
    path: Path
    size: int
    device: str
    device_class: str
    wall_s: float
    startup_s: float
    compute_s: float

    @property
    def digest_hex(self) -> str:
        return "0x" + self.digest.hex()


@dataclass(slots=True)
class _Exit:
    returncode: int
    timed_out: str | None  # why the runner killed it, when it did
    startup_s: float


class WorkloadRunner:
    """Runs jobs one at a time, each in a fresh child process; holds no state between runs."""

    def __init__(self, config: RunnerConfig | None = None) -> None:
        self.config = config or RunnerConfig()

    def run(self, spec: JobSpec, inputs: Mapping[str, bytes | Path], job_dir: Path) -> JobResult:
        """Run ``spec`` on ``inputs`` (name -> safetensors bytes or file) in the fresh ``job_dir``.

        Raises a ``ComputeError`` subclass for every job-level failure; the caller records its ``code``.
        """
        started = time.perf_counter()
        job_dir = Path(job_dir).resolve()
        self._prepare(spec, inputs, job_dir)
        outcome = self._run_child(spec, job_dir)
        return self._collect(spec, job_dir, outcome, started)

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
                check_safetensors(source, source=what)
                input_path(job_dir, name).write_bytes(source)
            else:  # check the copy the child will read, not the original (which could still change)
                shutil.copyfile(source, input_path(job_dir, name))
                try:
                    check_safetensors_file(input_path(job_dir, name), source=what)
                except UnsafeWeights:
                    input_path(job_dir, name).unlink()
                    raise
        memory_mb = spec.resources.max_memory_mb
        if self.config.memory_cap_mb is not None:
            memory_mb = min(memory_mb, self.config.memory_cap_mb)
        job = ChildJob(
            spec=canonical_spec_bytes(spec).decode("ascii"),
            device=self.config.device,
            threads=self.config.threads,
            max_memory_mb=memory_mb,
            max_result_bytes=self.config.max_result_bytes,
        )
        (job_dir / JOB_FILE).write_text(job.model_dump_json())

    # --- during -------------------------------------------------------------------------------------
    def _run_child(self, spec: JobSpec, job_dir: Path) -> _Exit:
        command = list(self.config.child_command or (sys.executable, "-P", "-m", "offchain.compute.child"))
        ready_read, ready_write = os.pipe()
        spawned = time.perf_counter()
        try:
            with open(job_dir / LOG_FILE, "wb") as log:
                process = subprocess.Popen(
                    [*command, str(job_dir), str(ready_write)],
                    cwd=job_dir,
                    env=self._child_env(job_dir),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    pass_fds=(ready_write,),
                )
        except OSError as err:
            os.close(ready_read)
            raise WorkloadFailed(f"could not start the workload child: {err}") from None
        finally:
            os.close(ready_write)
        pidfd = os.pidfd_open(process.pid)
        try:
            return self._supervise(spec, process.pid, pidfd, ready_read, spawned)
        finally:
            # The child is exited or stopped here but not yet reaped, so its pid (= the group id) cannot
            # have been reused: kill whatever is left in the group, then reap.
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
            os.close(pidfd)
            os.close(ready_read)

    def _supervise(self, spec: JobSpec, pid: int, pidfd: int, ready_read: int, spawned: float) -> _Exit:
        config = self.config
        ready_at = None
        deadline = spawned + config.startup_timeout_s
        while ready_at is None:
            readable = _wait_readable([ready_read, pidfd], deadline)
            if not readable:
                self._terminate(pid, pidfd)
                why = f"the child did not start within startup_timeout_s={config.startup_timeout_s:g}"
                return _Exit(_returncode(pidfd), why, time.perf_counter() - spawned)
            if ready_read in readable and os.read(ready_read, 1):
                ready_at = time.perf_counter()
            elif pidfd in readable or ready_read in readable:  # exited, or closed the pipe unready
                break
        startup_s = (ready_at or time.perf_counter()) - spawned
        deadline = (ready_at or time.perf_counter()) + spec.resources.max_runtime_s
        if not _wait_readable([pidfd], deadline):
            self._terminate(pid, pidfd)
            why = f"the workload ran past max_runtime_s={spec.resources.max_runtime_s}"
            return _Exit(_returncode(pidfd), why, startup_s)
        return _Exit(_returncode(pidfd), None, startup_s)

    def _terminate(self, pid: int, pidfd: int) -> None:
        """SIGTERM the group, give it ``kill_grace_s``, then SIGKILL it."""
        _signal_group(pid, signal.SIGTERM)
        if not _wait_readable([pidfd], time.perf_counter() + self.config.kill_grace_s):
            _signal_group(pid, signal.SIGKILL)
            _wait_readable([pidfd], time.perf_counter() + 60)

    def _child_env(self, job_dir: Path) -> dict[str, str]:
        env = {key: os.environ[key] for key in _ENV_PASSED if key in os.environ}
        package_root = str(Path(offchain.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        scratch = str(job_dir / SCRATCH_DIR)
        threads = str(self.config.threads)
        env.update(
            HOME=scratch,
            TMPDIR=scratch,
            XDG_CACHE_HOME=scratch,
            TORCH_HOME=scratch,
            PYTHONDONTWRITEBYTECODE="1",
            PYTHONHASHSEED="0",
            PYTHONUNBUFFERED="1",
            CUBLAS_WORKSPACE_CONFIG=":4096:8",
            OMP_NUM_THREADS=threads,
            MKL_NUM_THREADS=threads,
        )
        return env

    # --- after --------------------------------------------------------------------------------------
    def _collect(self, spec: JobSpec, job_dir: Path, outcome: _Exit, started: float) -> JobResult:
        if outcome.timed_out:
            raise WorkloadTimeout(
                f"{outcome.timed_out}; its process group was killed (SIGTERM, then SIGKILL after "
                f"{self.config.kill_grace_s:g} s)"
            )
        status = _read_status(job_dir)
        if status is None:
            raise self._crash_error(job_dir, outcome.returncode)
        if not status.ok:
            error_class = error_for_code(status.code)
            raise error_class(status.message, hint=status.hint)
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
        )

    def _crash_error(self, job_dir: Path, returncode: int) -> ComputeError:
        """The child died without writing status.json: a signal, or a failure before it could report."""
        last = _last_log_line(job_dir / LOG_FILE)
        if returncode < 0:
            name = signal.Signals(-returncode).name
            if returncode == -signal.SIGKILL:
                # The runner only sends SIGKILL on timeout (handled above): this one came from the kernel.
                return WorkloadOom(f"the child was killed by {name}, most likely by the kernel's OOM killer")
            how = f"the child died of {name}"
        else:
            how = f"the child exited with status {returncode} without reporting"
        if any(marker in last.lower() for marker in ("cannot allocate", "can't allocate", "out of memory")):
            return WorkloadOom(f"{how}: {last}")
        return WorkloadFailed(f"{how}: {last or 'no output'}")


def _wait_readable(fds: list[int], deadline: float) -> list[int]:
    """The fds of ``fds`` that became readable before ``deadline`` (perf_counter time); [] on timeout."""
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return []
        try:
            readable, _, _ = select.select(fds, [], [], remaining)
        except InterruptedError:  # pragma: no cover - PEP 475 retries select itself
            continue
        if readable:
            return readable


def _returncode(pidfd: int) -> int:
    """The exit status of the pidfd's process, read without reaping it (WNOWAIT); 0 if still running."""
    info = os.waitid(os.P_PIDFD, pidfd, os.WEXITED | os.WNOHANG | os.WNOWAIT)
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
