"""The workload child process: ``python -P -m offchain.compute.child READY_FD DEVICE THREADS``.

Started by ``runner.WorkloadRunner`` in its own session (so its own process group), either for a job at
hand or ahead of time as a standby. It first gets ready: imports torch, applies the deterministic
settings, picks and warms up the device, and writes one byte to READY_FD. Then it reads one line from
stdin, the job directory (EOF instead: the runner has no job for it, and it exits). For that job it moves
into the directory (cwd, HOME, TMPDIR, caches, stdout and stderr to ``child.log``), bounds its memory
(RLIMIT_DATA at its footprint now plus the job's ``max_memory_mb``) and file sizes, loads the inputs
(safetensors only), runs the workload, and writes ``result.safetensors`` and ``status.json``. Every
failure is written to ``status.json`` as a code the parent turns back into its error class.
Each process runs at most one job. ``run_forked`` is the same job in a process forked from the executor
zygote (``executor_zygote``), which has imported this module and torch once for many jobs.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

from offchain.compute.determinism import canonical_outputs, configure_torch, device_class, resolve_device
from offchain.compute.errors import ComputeError, WorkloadFailed, WorkloadOom
from offchain.compute.executor_models import Preloaded, hand_over
from offchain.compute.inputformats import load_input
from offchain.compute.jobdir import (
    JOB_FILE,
    LOG_FILE,
    RESULT_FILE,
    SCRATCH_DIR,
    STATUS_FILE,
    ChildJob,
    ChildStatus,
    DeviceChoice,
    input_path,
    write_atomically,
)
from offchain.compute.spec import JobSpec, Quantized, parse_spec
from offchain.compute.tensorio import canonical_bytes

RESULT_FORMAT_VERSION = "1"
FILE_SIZE_SLACK = 16 << 20  # room for child.log and status.json beside the result
_OOM_MARKERS = ("can't allocate memory", "cannot allocate memory", "out of memory")


def main(argv: list[str] | None = None) -> int:
    """Get ready, wait for a job, run it; 0 when ``result.safetensors`` was written (or no job came)."""
    args = sys.argv[1:] if argv is None else argv
    ready_fd, choice, threads = int(args[0]), _device_choice(args[1]), int(args[2])
    device: torch.device | None = None
    startup_failure: BaseException | None = None
    try:
        device = get_ready(choice, threads)
    except BaseException as exc:  # noqa: BLE001 - reported in the job's status.json once a job arrives
        startup_failure = exc
    os.write(ready_fd, b"R")
    os.close(ready_fd)

    line = sys.stdin.readline().strip()
    if not line:
        return 0  # the runner closed our stdin without a job

    def ready_device() -> torch.device:
        if startup_failure is not None:
            raise startup_failure
        assert device is not None
        return device

    return serve(Path(line), threads, ready_device)


def run_forked(
    job_dir: Path,
    choice: DeviceChoice,
    threads: int,
    ready_fd: int,
    preloaded: Mapping[str, Preloaded] | None = None,
    cache_hits: tuple[str, ...] = (),
) -> int:
    """A job in a process forked from the zygote (``executor_zygote``): torch is imported, nothing else is.

    Moves into ``job_dir`` first, then gets ready (torch settings, device, thread pools: milliseconds on
    CPU), writes one byte to ``ready_fd`` and runs the job; the exit status is ``main``'s. ``preloaded``:
    the zygote's loaded models of the job's archive inputs (``executor_models``), ``cache_hits`` the
    names among them it already had.
    """

    def ready_device() -> torch.device:
        try:
            return get_ready(choice, threads)
        finally:
            os.write(ready_fd, b"R")
            os.close(ready_fd)

    return serve(job_dir, threads, ready_device, preloaded or {}, cache_hits)


def serve(
    job_dir: Path,
    threads: int,
    ready_device: Callable[[], torch.device],
    preloaded: Mapping[str, Preloaded] | None = None,
    cache_hits: tuple[str, ...] = (),
) -> int:
    """Enter ``job_dir``, get the device, run the job and write ``status.json`` whatever happens."""
    try:
        enter_job_dir(job_dir)
        status = run_job(job_dir, ready_device(), threads, preloaded or {}, cache_hits)
    except BaseException as exc:  # noqa: BLE001 - every failure must reach status.json
        traceback.print_exc()
        code, message, hint = classify(exc)
        status = ChildStatus(ok=False, code=code, message=message, hint=hint)
    write_atomically(job_dir / STATUS_FILE, status.model_dump_json().encode())
    return 0 if status.ok else 1


def get_ready(choice: DeviceChoice, threads: int) -> torch.device:
    """Everything that does not depend on the job: torch settings, device choice, thread pools, context."""
    configure_torch(threads)
    device = resolve_device(choice)
    # Start the thread pools (and on CUDA the context and cuBLAS) so the memory baseline includes them.
    (torch.ones(64, 64, device=device) @ torch.ones(64, 64, device=device)).sum().item()
    torch.ones(1 << 16, device=device).sum().item()
    return device


def enter_job_dir(job_dir: Path) -> None:
    """Work inside ``job_dir`` from now on: cwd, HOME/TMPDIR/caches, and stdout/stderr into its log."""
    os.chdir(job_dir)
    scratch = str(job_dir / SCRATCH_DIR)
    for key in ("HOME", "TMPDIR", "XDG_CACHE_HOME", "TORCH_HOME"):
        os.environ[key] = scratch
    tempfile.tempdir = None  # forget a temp directory chosen before the job (it would be outside)
    log = os.open(job_dir / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)


def run_job(
    job_dir: Path,
    device: torch.device,
    threads: int,
    preloaded: Mapping[str, Preloaded] | None = None,
    cache_hits: tuple[str, ...] = (),
) -> ChildStatus:
    """The job itself, in order; raises on any failure."""
    job = ChildJob.model_validate_json((job_dir / JOB_FILE).read_bytes())
    spec = parse_spec(job.spec.encode())
    _bound_memory(job.max_memory_mb, device)
    _bound_file_size(job.max_result_bytes + FILE_SIZE_SLACK)

    inputs = {
        name: hand_over(
            name,
            load_input(spec.workload, name, input_path(job_dir, name), source=f"input {name!r}"),
            preloaded or {},
        )
        for name in sorted(spec.inputs)
    }
    start, start_cpu = time.perf_counter(), time.process_time()
    outputs = spec.workload.run(inputs, device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    compute_s, compute_cpu_s = time.perf_counter() - start, time.process_time() - start_cpu

    decimals = spec.determinism.decimals if isinstance(spec.determinism, Quantized) else None
    data = canonical_bytes(canonical_outputs(outputs, decimals=decimals), result_metadata(spec))
    if len(data) > job.max_result_bytes:
        limit = job.max_result_bytes
        raise WorkloadFailed(f"the result is {len(data):,} bytes; the runner's limit is {limit:,}")
    write_atomically(job_dir / RESULT_FILE, data)
    return ChildStatus(
        ok=True,
        device=device.type,
        device_class=device_class(device, threads),
        compute_s=compute_s,
        compute_cpu_s=compute_cpu_s,
        model_cache_hits=cache_hits,
    )


def result_metadata(spec: JobSpec) -> dict[str, str]:
    """The fixed ``__metadata__`` of a result: format version, workload and determinism mode."""
    mode = spec.determinism
    return {
        "tessera.version": RESULT_FORMAT_VERSION,
        "tessera.workload": spec.workload.name,
        "tessera.determinism": f"quantized:{mode.decimals}" if isinstance(mode, Quantized) else "exact",
    }


def classify(exc: BaseException) -> tuple[str, str, str | None]:
    """(code, message, hint) of a failure: ours keep theirs; memory exhaustion becomes ``E_WORKLOAD_OOM``."""
    if isinstance(exc, ComputeError):
        return exc.code, exc.message, exc.hint
    last_line = (str(exc).strip().splitlines() or [""])[-1][:300]
    text = f"{type(exc).__name__}: {last_line}" if last_line else type(exc).__name__
    out_of_memory = any(marker in last_line.lower() for marker in _OOM_MARKERS)
    if isinstance(exc, MemoryError | torch.OutOfMemoryError) or out_of_memory:
        return WorkloadOom.code, f"the workload ran out of memory ({text})", None
    return WorkloadFailed.code, f"the workload raised {text}", None


def exit_now(code: int) -> None:
    """Flush, then ``os._exit``: the result is on disk; interpreter teardown with torch takes ~2 s."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _device_choice(value: str) -> DeviceChoice:
    if value not in ("auto", "cpu", "cuda", "mps"):
        raise SystemExit(f"unknown device {value!r}")
    return value  # type: ignore[return-value]


def _bound_memory(max_memory_mb: int, device: torch.device) -> None:
    """RLIMIT_DATA = what the runtime holds now + the job's budget; on CUDA also cap the caching allocator.

    RLIMIT_AS would count the address space torch reserves but never touches (CUDA maps tens of GiB), so
    it refuses work that fits; RLIMIT_DATA counts private writable memory, which is what a workload grows.
    """
    budget = max_memory_mb << 20
    limit = _data_bytes() + budget
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    if device.type == "cuda":
        total = torch.cuda.get_device_properties(device).total_memory
        torch.cuda.set_per_process_memory_fraction(min(1.0, budget / total), device)


def _bound_file_size(limit: int) -> None:
    """RLIMIT_FSIZE: no file this process writes (result, log) grows past ``limit``; no core dumps."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _data_bytes() -> int:
    """VmData of this process in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmData:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("VmData is missing from /proc/self/status; the memory bound needs Linux")


if __name__ == "__main__":
    exit_now(main())
