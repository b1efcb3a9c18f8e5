"""Benchmark: the workload runner's overhead against the same torch code called in-process, in one run.

* CPU: a seeded ``matmul`` sized to compute for >= 1 s, run through ``WorkloadRunner`` (child process,
  limits, canonical result, sha256) vs ``Matmul.run`` called directly here with the same deterministic
  settings and thread count. Ratio = runner wall / direct wall (target <= 1.05), for the steady state
  (the default ``fork`` executor: its zygote was ready, so the child is a fork) and for a cold child
  (``spawn`` with nothing started ahead); the child's start-up (fork + device set-up, or interpreter +
  torch import + device set-up) is reported separately.
* GPU (when CUDA is available): matmul TFLOP/s inside the child vs plain ``torch.matmul`` timed here with
  ``cuda.synchronize``. The child's figure is marginal: the compute-time difference of two runs with
  different iteration counts, so the seeded generation and host-to-device copy of A and B cancel out.
* Reference models (the ``export`` workload: GPT generation, CNN classifier, LoRA step): the job's compute
  time in the warm runner (model cache hit) vs the eager module called here, per device; the GPT's
  tokens/s; with CUDA, whether the CPU and GPU exact-mode digests agree (different device classes, so
  they need not: the row records it) and whether the generated tokens / labels agree.

Run as a script: ``.venv/bin/python benchmarks/runner.py [--seconds 1.5] [--repeat 3] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import math
import resource
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import print_table  # benchmarks/ is on sys.path when this runs as a script

from offchain.compute.runner import JobResult, RunnerConfig, WorkloadRunner
from offchain.compute.spec import Exact, JobSpec, Resources
from offchain.compute.workloads import Matmul


def _spec(n: int, iterations: int) -> JobSpec:
    return JobSpec(
        version=1,
        workload=Matmul(name="matmul", n=n, seed=0, iterations=iterations),
        resources=Resources(max_runtime_s=600, max_memory_mb=4096),
        determinism=Exact(mode="exact"),
    )


def _direct(workload: Matmul, device_name: str) -> tuple[float, float]:
    """Wall and CPU seconds of ``workload.run`` in this process."""
    import torch

    device = torch.device(device_name)
    start, start_cpu = time.perf_counter(), time.process_time()
    workload.run({}, device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start, time.process_time() - start_cpu


def cpu_table(seconds: float, repeat: int, threads: int, workdir: Path) -> None:
    import torch

    n = 1024
    probe = Matmul(name="matmul", n=n, seed=0, iterations=5)
    _direct(probe, "cpu")  # warm up
    per_iteration = _direct(probe, "cpu")[1] / 5  # CPU time, which other load on the machine does not inflate
    iterations = max(1, math.ceil(seconds / per_iteration))
    workload, spec = Matmul(name="matmul", n=n, seed=0, iterations=iterations), _spec(n, iterations)

    config = RunnerConfig(device="cpu", threads=threads)
    direct_runs: list[tuple[float, float]] = []
    warm_runs: list[JobResult] = []
    cold_runs: list[tuple[JobResult, float]] = []
    cold_config = replace(config, executor="spawn", prestart=0)
    with WorkloadRunner(config) as warm, WorkloadRunner(cold_config) as cold:
        for i in range(repeat):  # interleaved, so drifting machine load hits every side alike
            direct_runs.append(_direct(workload, "cpu"))
            warm.prestart(wait_s=300)  # steady state: the zygote is ready
            warm_runs.append(warm.run(spec, {}, workdir / f"warm-{i}"))
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            result = cold.run(spec, {}, workdir / f"cold-{i}")
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            child_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
            cold_runs.append((result, child_cpu))
        warm.close()
    assert len({run.digest for run in warm_runs + [run for run, _ in cold_runs]}) == 1
    direct, direct_cpu = min(run[0] for run in direct_runs), min(run[1] for run in direct_runs)
    best_warm = min(warm_runs, key=lambda run: run.wall_s)
    best_cold, cold_cpu = min(cold_runs, key=lambda pair: pair[0].wall_s)
    compute_cpu = min(run.compute_cpu_s for run in warm_runs)
    own = best_warm.wall_s - best_warm.startup_s - best_warm.compute_s
    rows: list[list[object]] = [
        ["direct: Matmul.run in this process", direct, 1.0, direct_cpu, 1.0],
        [
            "runner, warm executor (fork from a ready zygote, steady state): wall",
            best_warm.wall_s,
            best_warm.wall_s / direct,
            "",
            "",
        ],
        ["  of which waiting for the child to be ready", best_warm.startup_s, "", "", ""],
        ["  of which the runner itself (hand-over, result, sha256, exit, reap)", own, own / direct, "", ""],
        [
            "  of which the workload, timed inside the child",
            best_warm.compute_s,
            best_warm.compute_s / direct,
            compute_cpu,
            compute_cpu / direct_cpu,
        ],
        [
            "runner, cold child (spawn executor, nothing started ahead): wall",
            best_cold.wall_s,
            best_cold.wall_s / direct,
            "",
            "",
        ],
        [
            "  of which child start-up (spawn to ready: interpreter + torch import)",
            best_cold.startup_s,
            "",
            "",
            "",
        ],
        ["  the cold child's whole CPU time (start-up included)", "", "", cold_cpu, cold_cpu / direct_cpu],
    ]
    print_table(
        f"Runner overhead on CPU: matmul n={n} float32 x {iterations}, {threads} thread(s), "
        f"best of {repeat} (torch {torch.__version__}; target: runner wall / direct <= 1.05)",
        ["what", "wall s", "wall ratio", "CPU s", "CPU ratio"],
        rows,
    )


def gpu_table(repeat: int, workdir: Path) -> None:
    import torch

    n = 4096
    flops = 2 * n**3
    a = torch.randn(n, n, device="cuda")
    b = torch.randn(n, n, device="cuda")
    c = a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(200):
        torch.matmul(a, b, out=c)
    torch.cuda.synchronize()
    per_iteration = (time.perf_counter() - start) / 200
    low, high = 50, 50 + max(100, math.ceil(2.0 / per_iteration))

    runner = WorkloadRunner(RunnerConfig(device="cuda", prestart=0))  # no standby warming up mid-timing
    plain_walls, marginals = [], []
    for i in range(repeat):
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(high - low):
            torch.matmul(a, b, out=c)
        torch.cuda.synchronize()
        plain_walls.append(time.perf_counter() - start)
        short = runner.run(_spec(n, low), {}, workdir / f"gpu-{i}-low")
        long = runner.run(_spec(n, high), {}, workdir / f"gpu-{i}-high")
        marginals.append(long.compute_s - short.compute_s)
    plain = (high - low) * flops / min(plain_walls) / 1e12
    child = (high - low) * flops / min(marginals) / 1e12
    print_table(
        f"GPU matmul n={n} float32 (TF32 off), {torch.cuda.get_device_name()}, best of {repeat}",
        ["what", "TFLOP/s", "ratio to plain torch"],
        [
            ["plain torch.matmul in this process (cuda.synchronize)", plain, 1.0],
            [f"runner child, marginal over {high - low} iterations", child, child / plain],
            ["child start-up (cold, spawn to ready incl. CUDA context), seconds", long.startup_s, ""],
        ],
    )


def _eager_s(module, example: dict, device: str, repeat: int) -> float:
    import torch

    module = module.to(device)
    inputs = {k: v.to(device) for k, v in example.items()}
    best = math.inf
    with torch.no_grad():
        for _ in range(repeat + 1):  # the first call warms up
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            module(**inputs)
            if device == "cuda":
                torch.cuda.synchronize()
            best = min(best, time.perf_counter() - start)
    return best


def reference_table(repeat: int, threads: int, workdir: Path) -> None:
    """Each reference model as an ``export`` job in the warm runner vs its eager module, on every device."""
    import torch

    from offchain.compute.export_tool import export_spec
    from offchain.compute.models import gpt
    from offchain.compute.models.reference import REFERENCE_MODELS, reference_job, reference_module
    from offchain.compute.tensorio import load_tensors
    from offchain.ipfs.importer import compute_cid

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows, digests, outputs = [], {}, {}
    for name in REFERENCE_MODELS:
        job = reference_job(name)
        module, example, _ = reference_module(name)
        model_cid, input_cid = (str(compute_cid(data)) for data in (job.archive, job.inputs))
        spec = export_spec(model_cid=model_cid, input_cid=input_cid, outputs=job.outputs)
        files = {"model": job.archive, "input": job.inputs}
        for device in devices:
            with WorkloadRunner(RunnerConfig(device=device, threads=threads)) as runner:
                runs = [
                    runner.run(spec, files, workdir / f"{name}-{device}-{i}")
                    for i in range(repeat + 1)  # the first run loads the model: a cache miss
                ]
            best = min(runs[1:], key=lambda r: r.compute_s)
            eager = _eager_s(module, example, device, repeat)
            digests[name, device] = best.digest.hex()
            outputs[name, device] = load_tensors(best.path.read_bytes(), source=device)
            tokens = gpt.GptConfig().new_tokens * int(example["ids"].shape[0]) if name == "gpt" else 0
            rows.append(
                [
                    f"{name} on {device}: job compute (cache hit) vs eager module",
                    best.compute_s,
                    eager,
                    best.compute_s / eager,
                    f"{tokens / best.compute_s:,.0f}" if tokens else "",
                    f"{runs[0].wall_s:.2f} / {best.wall_s:.3f}",
                ]
            )
    title = f"Reference models through the export workload, {threads} thread(s), best of {repeat}"
    print_table(
        title,
        ["what", "job s", "eager s", "ratio", "tokens/s", "wall s miss / hit"],
        rows,
    )
    if "cuda" not in devices:
        print("(no CUDA device: CPU-vs-GPU digest agreement skipped)")
        return
    agree = []
    for name in REFERENCE_MODELS:
        cpu, cuda = outputs[name, "cpu"], outputs[name, "cuda"]
        discrete = [k for k in ("ids", "label") if k in cpu]
        same = all(torch.equal(cpu[k], cuda[k]) for k in discrete) if discrete else ""
        agree.append([name, digests[name, "cpu"] == digests[name, "cuda"], ", ".join(discrete), same])
    print_table(
        "Exact-mode digests, CPU vs CUDA (equal digests are not required across device classes)",
        ["model", "digests equal", "discrete outputs", "discrete outputs equal"],
        agree,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="target compute time of the CPU job")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads, both sides")
    args = parser.parse_args()
    import torch

    from offchain.compute.determinism import configure_torch

    configure_torch(args.threads)  # the child's settings: same kernels, same thread count, TF32 off
    with tempfile.TemporaryDirectory(prefix="tessera-bench-runner-") as tmp:
        cpu_table(args.seconds, args.repeat, args.threads, Path(tmp))
        if torch.cuda.is_available():
            gpu_table(args.repeat, Path(tmp))
        else:
            print("(no CUDA device: GPU table skipped)")
        reference_table(args.repeat, args.threads, Path(tmp))


if __name__ == "__main__":
    main()
