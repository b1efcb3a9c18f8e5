"""Benchmark: small jobs per minute with warm executors (fork from a zygote) vs a fresh child per job.

Every configuration runs the same small job (seeded ``matmul`` n=8: the work is nothing, the overhead is
everything) back to back from ``--concurrency`` threads for ``--seconds`` seconds, through the real
``WorkloadRunner`` (job directory, limits, child process, canonical result, sha256), and counts completed
jobs. The baseline is the ``spawn`` executor as the worker ran it before warm executors (a fresh
interpreter per job, one started ahead of time per runner); it is measured in the same run, first, and
every ratio is against it. All results must be the same bytes.

A second table times one job of the reference transformer (``export`` workload, the GPT-2-style greedy
generator of ``offchain.compute.models``) per configuration: a fresh child (spawn), a warm executor whose
model cache misses (``model_cache_mb=0``: the child checks and loads the archive itself), and a warm
executor whose zygote already holds the loaded model (a hit). Median of ``--repeat`` jobs each; the
baseline is the fresh child, measured in the same run.

Run as a script: ``.venv/bin/python benchmarks/throughput.py [--seconds 20] [--concurrency 2] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from common import print_table  # benchmarks/ is on sys.path when this runs as a script

from offchain.compute import demo_models
from offchain.compute.runner import JobResult, RunnerConfig, WorkloadRunner


@dataclass(frozen=True)
class Measured:
    jobs: int
    seconds: float
    digests: frozenset[bytes]
    median_wall_s: float

    @property
    def per_minute(self) -> float:
        return self.jobs * 60 / self.seconds


def measure(config: RunnerConfig, seconds: float, concurrency: int, workdir: Path) -> Measured:
    """Jobs completed by ``concurrency`` threads in ``seconds`` (after each runner's first, warm-up job)."""
    spec = demo_models.matmul_spec(n=8, seed=1)
    walls: list[float] = []
    digests: set[bytes] = set()
    lock = threading.Lock()
    with WorkloadRunner(config) as runner:
        runner.run(spec, {}, workdir / "warm-up")  # the first job pays the first start-up: not counted
        runner.prestart(wait_s=120)
        stop_at = time.perf_counter() + seconds
        counter = iter(range(1 << 30))

        def loop() -> None:
            while time.perf_counter() < stop_at:
                with lock:
                    index = next(counter)
                result = runner.run(spec, {}, workdir / f"job-{index}")
                with lock:
                    walls.append(result.wall_s)
                    digests.add(result.digest)

        started = time.perf_counter()
        threads = [threading.Thread(target=loop) for _ in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    walls.sort()
    return Measured(len(walls), elapsed, frozenset(digests), walls[len(walls) // 2] if walls else 0.0)


def model_cache_table(repeat: int, workdir: Path) -> None:
    """Per-job wall time of the reference transformer: fresh child vs warm executor, cache miss vs hit."""
    from offchain.compute.export_tool import export_spec
    from offchain.compute.models.reference import reference_job

    job = reference_job("gpt")
    model_cid = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"  # a label: nothing is fetched here
    input_cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
    spec = export_spec(model_cid=model_cid, input_cid=input_cid, outputs=job.outputs)
    inputs = {"model": job.archive, "input": job.inputs}
    configurations = [
        ("fresh child per job (spawn): baseline", RunnerConfig(device="cpu", executor="spawn", prestart=0)),
        (
            "warm executor, model cache miss (child checks and loads)",
            RunnerConfig(device="cpu", model_cache_mb=0),
        ),
        ("warm executor, model cache hit (zygote holds the model)", RunnerConfig(device="cpu")),
    ]
    rows: list[list[object]] = []
    digests: set[bytes] = set()
    baseline = 0.0
    for i, (what, config) in enumerate(configurations):
        results: list[JobResult] = []
        with WorkloadRunner(config) as runner:
            runner.run(spec, inputs, workdir / f"model-{i}-warm-up")  # zygote started; the model cached
            for k in range(repeat):
                results.append(runner.run(spec, inputs, workdir / f"model-{i}-{k}"))
        walls = sorted(result.wall_s for result in results)
        computes = sorted(result.compute_s for result in results)
        wall, compute = walls[len(walls) // 2], computes[len(computes) // 2]
        baseline = baseline or wall
        digests |= {result.digest for result in results}
        hits = sum(bool(result.model_cache_hits) for result in results)
        rows.append([what, wall * 1000, compute * 1000, f"{hits}/{len(results)}", wall / baseline])
    if len(digests) != 1:
        raise SystemExit(f"the model runs disagree on the result bytes: {len(digests)} digests")
    print_table(
        f"Reference transformer (export workload, {len(job.archive):,}-byte archive) on CPU, one job at a "
        f"time, median of {repeat}",
        ["executor", "job wall ms", "workload ms (in the child)", "cache hits", "ratio to fresh child"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each configuration runs")
    parser.add_argument("--concurrency", type=int, default=2, help="threads submitting jobs at once")
    parser.add_argument("--repeat", type=int, default=5, help="transformer jobs per configuration")
    args = parser.parse_args()
    base = RunnerConfig(device="cpu", threads=1)
    slots = tuple("cpu" for _ in range(args.concurrency))
    configurations = [
        (
            "fresh child per job (spawn, one started ahead): baseline",
            RunnerConfig(device="cpu", executor="spawn"),
        ),
        ("warm executor: fork from a zygote, 1 CPU slot", base),
        (
            f"warm executors: fork from zygotes, {len(slots)} CPU slots",
            RunnerConfig(device="cpu", devices=slots),
        ),
    ]
    rows: list[list[object]] = []
    baseline: Measured | None = None
    digests: set[bytes] = set()
    with tempfile.TemporaryDirectory(prefix="tessera-bench-throughput-") as tmp:
        for i, (what, config) in enumerate(configurations):
            measured = measure(config, args.seconds, args.concurrency, Path(tmp) / str(i))
            baseline = baseline or measured
            digests |= measured.digests
            rows.append(
                [
                    what,
                    measured.jobs,
                    measured.per_minute,
                    measured.median_wall_s * 1000,
                    measured.per_minute / baseline.per_minute,
                ]
            )
    if len(digests) != 1:
        raise SystemExit(f"the configurations disagree on the result bytes: {len(digests)} digests")
    cores = os.cpu_count()
    print_table(
        f"Small-job throughput: matmul n=8 through WorkloadRunner on CPU, {args.concurrency} submitting "
        f"threads, {args.seconds:g} s each, {cores} cores (goal: warm / fresh >= 10)",
        ["executor", "jobs", "jobs/min", "median job wall ms", "ratio to fresh child"],
        rows,
    )
    with tempfile.TemporaryDirectory(prefix="tessera-bench-model-cache-") as tmp:
        model_cache_table(args.repeat, Path(tmp))


if __name__ == "__main__":
    main()
