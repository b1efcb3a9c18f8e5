"""Worker overhead and throughput: the real `Worker` service, in-process, on a real anvil (automine).

    .venv/bin/python benchmarks/worker.py                                  # prints the tables
    .venv/bin/python benchmarks/worker.py --results benchmarks/RESULTS.md  # also rewrites `## Worker`

Setup: anvil with automine (a block per transaction), the four contracts deployed with web3 from the
worker tests' helpers (`tests/support/contracts.py`: short epochs, contract defaults otherwise), one staked
operator running `offchain.worker.service.Worker` in this process (its real scheduler, job pool, SQLite
ledger, TxManager, log poller, local IPFS store and `WorkloadRunner`, one child process per job), with
``poll_interval_s`` 0.1 and ``confirmations`` 0. The only addition is a `WorkloadRunner` subclass that
keeps each run's `JobResult` (the runner's ``compute_s``, timed inside the child). The workload is a
no-op-sized ``matmul`` (n=8, 1 iteration); every job has 1 replica, quorum 1, windows of 600 s.

The windows do not gate completion: with 1 replica, the claim fills the job (claims == replicas), so
reveals open as soon as its one claimant has committed, and its reveal (`reveal_and_finalize`, the last
reveal owed) settles the job in the same transaction: no finalize. Nothing waits for a deadline or a
time jump.

(a) Overhead per job: jobs posted one at a time (the next once the last is done and the runner's standby
    child is ready); wall time from JobPosted mined (the requester's `eth_sendTransaction` returned: anvil
    automines it) to JobCompleted mined (the worker's reveal_and_finalize `eth_sendRawTransaction`
    returned: its `sent_at` in the ledger; the receipt is checked), minus the runner's ``compute_s``.
    Breakdown from the ledger's state-change and transaction timestamps and the runner's `JobResult`;
    JSON-RPC requests counted and timed in the worker's provider.
(b) Throughput: 40 jobs posted in one JSON-RPC batch; jobs per minute from the batch's return to the last
    settling reveal, with ``max_in_flight`` 1 and 8 (separate workers, same chain, same run).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import platform
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from common import median, print_table  # benchmarks/ is on sys.path when this runs as a script

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for tests.support

from web3 import Web3  # noqa: E402

from offchain.chain.bindings import Phase, Tessera  # noqa: E402
from offchain.chain.manifest import load_manifest  # noqa: E402
from offchain.chain.rpc import FailoverProvider, web3_over  # noqa: E402
from offchain.compute.demo_models import matmul_spec  # noqa: E402
from offchain.compute.runner import JobResult, RunnerConfig, WorkloadRunner  # noqa: E402
from offchain.compute.spec import canonical_spec_bytes  # noqa: E402
from offchain.devchain import running_chain  # noqa: E402
from offchain.ipfs import LocalBlockStore  # noqa: E402
from offchain.settings import Settings  # noqa: E402
from offchain.worker.compute_adapter import OffchainCompute  # noqa: E402
from offchain.worker.ledger import JobState  # noqa: E402
from offchain.worker.service import Worker  # noqa: E402
from tests.support.chain import TSR, dev_account, rpc, transact  # noqa: E402
from tests.support.contracts import compile_artifacts, deploy_tessera  # noqa: E402

POLL_S = 0.1
CONFIRMATIONS = 0
FEE = TSR
COLLATERAL = 10 * TSR
STAKE = 1_000 * TSR
WINDOW = 600
TARGET_MEDIAN_MS = 250.0
OVERHEAD_JOBS = 20
BURST_JOBS = 40
IN_FLIGHT = (1, 8)


# ---------------------------------------------------------------- instrumentation
class RecordingRunner(WorkloadRunner):
    """The real runner; keeps every `JobResult` by job id (the pipeline runs in ``<jobs>/<id>/run``)."""

    def __init__(self, config: RunnerConfig) -> None:
        super().__init__(config)
        self.results: dict[int, JobResult] = {}

    def run(self, spec, inputs, job_dir, *, timeout_s=None):  # type: ignore[override]
        result = super().run(spec, inputs, job_dir, timeout_s=timeout_s)
        self.results[int(Path(job_dir).parent.name)] = result
        return result


class CountingProvider(FailoverProvider):
    """The worker's own provider, counting and timing JSON-RPC requests by method."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)

    def make_request(self, method, params):  # type: ignore[override]
        started = time.perf_counter()
        try:
            return super().make_request(method, params)
        finally:
            elapsed = time.perf_counter() - started
            with self.lock:
                self.calls[str(method)] += 1
                self.seconds[str(method)] += elapsed

    def snapshot(self) -> tuple[Counter[str], dict[str, float]]:
        with self.lock:
            return Counter(self.calls), dict(self.seconds)


@dataclass
class Running:
    worker: Worker
    runner: RecordingRunner
    provider: CountingProvider
    data_dir: Path


# ---------------------------------------------------------------- the market
@dataclass
class Market:
    w3: Web3
    url: str
    manifest: Path
    contracts: Tessera
    ipfs_dir: Path
    tmp: Path
    requester: str
    spec_cid: str
    spec_digest: bytes
    operator_key: str
    meta: dict = field(default_factory=dict)
    receipt_lag: list[float] = field(default_factory=list)  # send returned -> all receipts readable

    def batch(self, calls: Sequence[tuple[str, list]]) -> list:
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        req = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=120) as resp:
            replies = sorted(json.loads(resp.read()), key=lambda r: r["id"])
        errors = [r["error"] for r in replies if "error" in r]
        if errors:
            raise RuntimeError(f"{len(errors)} of {len(calls)} calls failed, first: {errors[0]}")
        return [r["result"] for r in replies]

    def post(self, count: int) -> tuple[list[int], float]:
        """Post ``count`` jobs in one batch (automine: a block each); returns their ids and the wall time
        (time.time) at which the batch returned, i.e. when every JobPosted had been mined."""
        first = self.contracts.job_count() + 1
        data = self.contracts.registry.encode_abi(
            "post_job",
            args=[self.spec_cid, self.spec_digest, FEE, 1, 1, COLLATERAL, WINDOW, WINDOW, WINDOW],
        )
        nonce = int(self.batch([("eth_getTransactionCount", [self.requester, "pending"])])[0], 16)
        tx = {
            "from": self.requester,
            "to": self.contracts.registry.address,
            "data": data,
            "gas": hex(400_000),
        }
        calls = [("eth_sendTransaction", [{**tx, "nonce": hex(nonce + i)}]) for i in range(count)]
        hashes = self.batch(calls)
        posted_at = time.time()  # anvil mines each transaction as it arrives (within milliseconds)
        deadline = time.monotonic() + 30
        while True:
            receipts = self.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
            if all(r is not None for r in receipts) or time.monotonic() > deadline:
                break
            time.sleep(0.002)
        self.receipt_lag.append(time.time() - posted_at)
        missing = sum(r is None for r in receipts)
        reverted = sum(r is not None and r["status"] != "0x1" for r in receipts)
        if missing or reverted:
            raise RuntimeError(f"post_job: {reverted} of {count} reverted, {missing} not mined within 30 s")
        return list(range(first, first + count)), posted_at


SELECTION_FACTOR = 64  # JobRegistry.MAX_SELECTION_FACTOR


def build_market(tmp: Path, chain_url: str) -> Market:
    w3 = Web3(Web3.HTTPProvider(chain_url))
    governance, operator, requester = dev_account(0), dev_account(1), dev_account(2)
    manifest = deploy_tessera(w3, governance, compile_artifacts(), tmp / "deployments")
    contracts = Tessera(w3, load_manifest(manifest))
    transact(w3, governance, contracts.token, "transfer", operator.address, STAKE)
    transact(w3, governance, contracts.token, "transfer", requester.address, 1_000 * TSR)
    transact(w3, operator, contracts.token, "approve", contracts.staking.address, STAKE)
    transact(w3, operator, contracts.staking, "register", "bafkreioperatormetadata")
    transact(w3, operator, contracts.staking, "stake", STAKE)
    transact(w3, requester, contracts.token, "approve", contracts.registry.address, 2**256 - 1)
    # Selection (stake-weighted, JobRegistry.selected_at): the one operator holds all the stake, so it is
    # selected at a round's opening anyway; the largest selection_factor makes that hold for any stake
    # split, so the figures never include a wait for selection.
    transact(w3, governance, contracts.registry, "set_selection_factor", SELECTION_FACTOR)
    raw = canonical_spec_bytes(matmul_spec(n=8, iterations=1))
    ipfs_dir = tmp / "ipfs"
    cid = str(LocalBlockStore(ipfs_dir).add_bytes(raw))
    client = str(rpc(w3, "web3_clientVersion"))
    return Market(
        w3=w3,
        url=chain_url,
        manifest=manifest,
        contracts=contracts,
        ipfs_dir=ipfs_dir,
        tmp=tmp,
        requester=requester.address,
        spec_cid=cid,
        spec_digest=hashlib.sha256(raw).digest(),
        operator_key="0x" + bytes(operator.key).hex(),
        meta={"client": client},
    )


def start_worker(market: Market, name: str, max_in_flight: int) -> Running:
    settings = Settings(
        _env_file=None,
        rpc_url=market.url,
        deployment=market.manifest,
        private_key=market.operator_key,
        data_dir=market.tmp / name,
        ipfs="local",
        ipfs_dir=market.ipfs_dir,
        poll_interval_s=POLL_S,
        confirmations=CONFIRMATIONS,
        max_in_flight=max_in_flight,
        device="cpu",
        start_block=int(market.w3.eth.block_number) + 1,  # only this scenario's jobs
    )
    provider = CountingProvider([settings.rpc_url], timeout_s=settings.rpc_timeout_s)
    runner = RecordingRunner(RunnerConfig(device=settings.device, memory_cap_mb=settings.workload_memory_mb))
    worker = Worker(settings, w3=web3_over(provider), compute=OffchainCompute(settings, runner=runner))
    worker.setup()
    worker.start()
    return Running(worker, runner, provider, settings.data_dir)


def stop_worker(running: Running) -> None:
    running.worker.stop()
    running.worker.close()
    running.runner.close()


def wait_done(running: Running, job_ids: Sequence[int], timeout_s: float) -> None:
    ledger = running.worker.ledger
    ids = set(job_ids)

    def done() -> bool:
        return all((j := ledger.get_job(i)) is not None and j.state in (JobState.DONE,) for i in ids)

    if not running.worker.wait_for(done, timeout_s=timeout_s, poll_s=0.02):
        stuck = {i: (j.state.value, j.error_code) if (j := ledger.get_job(i)) else None for i in ids}
        raise RuntimeError(f"jobs not done after {timeout_s} s: {stuck}")


# ---------------------------------------------------------------- reading the ledger
@dataclass
class JobTimes:
    job_id: int
    posted: float
    history: dict[str, float]  # to_state -> first time
    sent: dict[str, float]  # claim/commit/reveal_and_finalize -> sent_at
    result: JobResult

    @property
    def completed(self) -> float:
        return self.sent["reveal_and_finalize"]  # the one reveal owed settles the job

    @property
    def overhead_s(self) -> float:
        return self.completed - self.posted - self.result.compute_s


def job_times(running: Running, posted: Mapping[int, float]) -> list[JobTimes]:
    db = sqlite3.connect(f"file:{running.data_dir / 'ledger.sqlite3'}?mode=ro", uri=True)
    try:
        out = []
        for job_id, t0 in sorted(posted.items()):
            history: dict[str, float] = {}
            for state, at in db.execute(
                "SELECT to_state, at FROM job_history WHERE job_id = ? ORDER BY at", (job_id,)
            ):
                history.setdefault(state, at)
            sent = {
                key.split(":")[0]: at
                for key, at in db.execute("SELECT key, sent_at FROM txs WHERE job_id = ?", (job_id,))
            }
            if set(sent) != {"claim", "commit", "reveal_and_finalize"}:  # a finalize would be a wasted tx
                raise RuntimeError(f"job {job_id}: unexpected transactions {sorted(sent)}")
            out.append(JobTimes(job_id, t0, history, sent, running.runner.results[job_id]))
        return out
    finally:
        db.close()


def check_completed(market: Market, job_ids: Sequence[int]) -> None:
    bad = [j for j in job_ids if market.contracts.get_job(j).phase != Phase.COMPLETED]
    if bad:
        raise RuntimeError(f"jobs not Completed on chain: {bad}")


# ---------------------------------------------------------------- scenarios
@dataclass
class Usage:
    """The worker's JSON-RPC requests and this process's CPU time, summed over the jobs' lifetimes."""

    calls: Counter[str] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    cpu_s: float = 0.0
    wall_s: float = 0.0


def measure_overhead(market: Market, running: Running, n: int) -> tuple[list[JobTimes], Usage]:
    posted: dict[int, float] = {}
    usage = Usage()
    for _ in range(n):
        running.runner.prestart(wait_s=60)  # the standby child is ready, as between spaced-out jobs
        time.sleep(2 * POLL_S)  # let the duties settle: the job arrives at a random point of the tick
        calls0, secs0 = running.provider.snapshot()
        cpu0, wall0 = time.process_time(), time.monotonic()
        ids, t0 = market.post(1)
        posted[ids[0]] = t0
        wait_done(running, ids, timeout_s=60)
        usage.cpu_s += time.process_time() - cpu0
        usage.wall_s += time.monotonic() - wall0
        calls1, secs1 = running.provider.snapshot()
        usage.calls += calls1 - calls0
        for m in calls1 - calls0:
            usage.seconds[m] += secs1[m] - secs0.get(m, 0.0)
    check_completed(market, list(posted))
    return job_times(running, posted), usage


def measure_burst(market: Market, running: Running, n: int) -> dict:
    running.runner.prestart(wait_s=60)
    time.sleep(2 * POLL_S)
    ids, t0 = market.post(n)
    wait_done(running, ids, timeout_s=180)
    check_completed(market, ids)
    times = job_times(running, dict.fromkeys(ids, t0))
    end = max(t.completed for t in times)
    latencies = [t.completed - t.posted for t in times]
    return {
        "jobs": n,
        "seconds": end - t0,
        "per_minute": 60 * n / (end - t0),
        "median_latency": median(latencies),
        "compute_s": sum(t.result.compute_s for t in times) / n,
        "startup_s": sum(t.result.startup_s for t in times) / n,
        "cold_children": sum(not t.result.prestarted for t in times),
    }


def warm_up(market: Market, running: Running) -> None:
    """One job first: the first child start (cold torch import) and first-use costs are not measured."""
    ids, _ = market.post(1)
    wait_done(running, ids, timeout_s=120)


# ---------------------------------------------------------------- tables
def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


STAGES = [
    # (label, start, end, what it is)
    ("detect", "posted", "seen", "JobPosted mined -> the log poll records it (poll interval + eth_getLogs)"),
    ("decide", "seen", "claiming", "claim policy: job view, eligibility, free stake, gas price, spec fetch"),
    ("claim tx", "claiming", "tx:claim", "simulate + estimate gas + fee + nonce + sign + broadcast"),
    ("claim landed", "tx:claim", "claimed", "receipt lookup; state CLAIMED"),
    ("pre-run", "claimed", "run:start", "eth_call of a commit, spec parse, job folder"),
    ("child wait", "run:start", "run:ready", "waiting for a ready child (0 when the standby was ready)"),
    ("compute", "run:ready", "run:computed", "the runner's compute_s (subtracted from the overhead)"),
    ("runner rest", "run:computed", "computed", "job hand-off to the child, result canonicalise + hash"),
    ("upload", "computed", "uploaded", "result into the local IPFS store"),
    ("commit tx", "uploaded", "tx:commit", "commitment check (eth_call) + send"),
    ("commit landed", "tx:commit", "committed", "receipt lookup"),
    ("reveal tx", "committed", "tx:reveal_and_finalize", "job view + send; JobCompleted mined"),
    ("reveal landed", "tx:reveal_and_finalize", "revealed", "receipt lookup"),
]


def points(t: JobTimes) -> dict[str, float]:
    h = t.history
    run_start = h["computed"] - t.result.wall_s  # `run` ends just before the COMPUTED transition
    p = {
        "posted": t.posted,
        "seen": h["seen"],
        "claiming": h["claiming"],
        "claimed": h["claimed"],
        "computed": h["computed"],
        "uploaded": h["uploaded"],
        "committed": h["committed"],
        "revealed": h["revealed"],
        "run:start": run_start,
        "run:ready": run_start + t.result.startup_s,
    }
    p["run:computed"] = p["run:ready"] + t.result.compute_s
    for k, v in t.sent.items():
        p[f"tx:{k}"] = v
    return p


def overhead_tables(times: list[JobTimes], usage: Usage) -> str:
    n = len(times)
    total = [1000 * (t.completed - t.posted) for t in times]
    compute = [1000 * t.result.compute_s for t in times]
    over = [1000 * t.overhead_s for t in times]
    med = median(over)
    verdict = f"≤ {TARGET_MEDIAN_MS:.0f} ms: {'yes' if med <= TARGET_MEDIAN_MS else 'NO'}"
    text = print_table(
        f"Overhead per job (ms; {n} jobs, 1 replica, matmul n=8, 1 worker, poll 0.1 s, 0 confirmations)",
        ["measure", "median", "p90", "min", "max", "target"],
        [
            [
                "JobPosted mined → JobCompleted mined",
                median(total),
                pct(total, 0.9),
                min(total),
                max(total),
                "",
            ],
            ["runner compute_s", median(compute), pct(compute, 0.9), min(compute), max(compute), ""],
            ["**overhead** (wall − compute_s)", med, pct(over, 0.9), min(over), max(over), verdict],
        ],
    )
    rows = []
    for label, a, b, what in STAGES:
        d = [1000 * (points(t)[b] - points(t)[a]) for t in times]
        rows.append([label, median(d), pct(d, 0.9), statistics.fmean(d), what])
    text += "\n" + print_table(
        "Where the time goes (ms per job, from the ledger's timestamps and the runner's JobResult)",
        ["stage", "median", "p90", "mean", "what"],
        rows,
    )
    total_calls = sum(usage.calls.values())
    total_s = sum(usage.seconds.values())
    top = sorted(usage.calls, key=lambda m: -usage.seconds[m])[:8]
    rpc_rows = [
        [m, usage.calls[m] / n, 1000 * usage.seconds[m] / usage.calls[m], 1000 * usage.seconds[m] / n]
        for m in top
    ]
    rpc_rows.append(["all methods", total_calls / n, 1000 * total_s / total_calls, 1000 * total_s / n])
    rpc_rows.append(["(process CPU time, all threads)", "", "", 1000 * usage.cpu_s / n])
    rpc_rows.append(["(wall time, post → done seen)", "", "", 1000 * usage.wall_s / n])
    text += "\n" + print_table(
        "Worker JSON-RPC requests per job (from post to done, duties' ticks included; summed over "
        "threads, so the ms overlap)",
        ["method", "requests / job", "ms / request", "ms / job"],
        rpc_rows,
    )
    return text


def throughput_table(results: dict[int, dict]) -> str:
    base = results[1]["per_minute"]
    rows = []
    for k, r in results.items():
        rows.append(
            [
                k,
                r["jobs"],
                r["seconds"],
                r["per_minute"],
                r["per_minute"] / base,
                r["median_latency"],
                1000 * r["compute_s"],
                1000 * r["startup_s"],
                r["cold_children"],
            ]
        )
    return print_table(
        f"Throughput, 1 worker, {BURST_JOBS} jobs posted at once (matmul n=8, 1 replica)",
        [
            "max_in_flight",
            "jobs",
            "seconds (posted → last JobCompleted)",
            "jobs / minute",
            "ratio vs 1 in flight",
            "median latency s",
            "mean compute_s ms",
            "mean child wait ms",
            "jobs without a ready child",
        ],
        rows,
    )


def findings(times: list[JobTimes], usage: Usage, burst: dict[int, dict]) -> str:
    over = [1000 * t.overhead_s for t in times]
    med = median(over)
    steps = defaultdict(list)
    for t in times:
        p = points(t)
        for label, a, b, _ in STAGES:
            steps[label].append(1000 * (p[b] - p[a]))
    biggest = sorted(((median(v), k) for k, v in steps.items() if k != "compute"), reverse=True)[:3]
    ratio = burst[8]["per_minute"] / burst[1]["per_minute"]
    tx_steps = [median(steps[k]) for k in ("claim tx", "commit tx", "reveal tx")]
    lines = [
        "### Findings",
        "",
        f"- Overhead per job: median {med:.0f} ms, p90 {pct(over, 0.9):.0f} ms over {len(times)} jobs: "
        f"target median ≤ {TARGET_MEDIAN_MS:.0f} ms {'met' if med <= TARGET_MEDIAN_MS else 'missed'}. "
        "Largest stages (median): " + ", ".join(f"{k} {v:.0f} ms" for v, k in biggest) + ".",
        f"- The three transaction steps (claim, commit, reveal_and_finalize: from the state that allows the "
        f"transaction to its broadcast) take {sum(tx_steps):.0f} ms of the median job. Per job the worker "
        f"made {sum(usage.calls.values()) / len(times):.0f} JSON-RPC requests "
        f"({1000 * sum(usage.seconds.values()) / max(1, sum(usage.calls.values())):.1f} ms each on "
        f"average, duties' ticks included) and its process used "
        f"{1000 * usage.cpu_s / len(times):.0f} ms of CPU in {1000 * usage.wall_s / len(times):.0f} ms: "
        "the time goes to many sequential round trips and Python work per step, not to waiting for "
        "blocks (automine) or for the poll interval (detect and the receipt lookups are the poll-bound "
        "parts). Most frequent requests per job: "
        + ", ".join(f"{m} {c / len(times):.0f}" for m, c in usage.calls.most_common(3))
        + ". The CPU figure is this whole process (the worker and the benchmark's light polling).",
        f"- Throughput: {burst[1]['per_minute']:.0f} jobs/min with 1 in flight, "
        f"{burst[8]['per_minute']:.0f} with 8 in flight (×{ratio:.2f}). Back-to-back jobs wait for a "
        f"workload child (one fresh child per job, one standby): mean child wait "
        f"{1000 * burst[1]['startup_s']:.0f} ms per job at 1 in flight and "
        f"{1000 * burst[8]['startup_s']:.0f} ms at 8, against a median overhead of {med:.0f} ms; on "
        f"{machine_cores()} cores the children's start-up (interpreter and torch import) bounds the rate.",
    ]
    return "\n".join(lines) + "\n"


def write_results(path: Path, text: str, meta: dict) -> None:
    """Replace the `## Worker` section of `path` (other sections are kept), creating the file if needed."""
    section = (
        "## Worker\n\n"
        f"Measured {dt.date.today().isoformat()} on {meta['machine']}, {meta['client']}, Python "
        f"{platform.python_version()}. The real `Worker` service runs in the benchmark's process (its "
        "scheduler, job pool, SQLite ledger, TxManager, log poller, local IPFS store and `WorkloadRunner` "
        f"with a child process per job) against anvil with automine; poll_interval_s {POLL_S}, "
        f"confirmations {CONFIRMATIONS}, device cpu. Jobs: matmul n=8, 1 iteration, 1 replica, quorum 1, "
        "windows of 600 s. The windows do not gate completion: the one claim fills the job, so reveals "
        "open once its claimant has committed, and its reveal_and_finalize settles the job (no finalize).\n\n"
        "Overhead = wall time from JobPosted mined (the requester's `eth_sendTransaction` returned) to "
        "JobCompleted mined (the worker's reveal_and_finalize broadcast returned: `sent_at` in its "
        "ledger) minus the "
        "runner's `compute_s` for that job. Jobs are posted one at a time, each once the last is done "
        "and the runner's standby child is ready. Throughput: 40 jobs posted in one JSON-RPC batch, "
        "timed from the batch's return to the last settling reveal; 1 and 8 in flight in the same run (a "
        "separate worker each, one warm-up job first). On 2 cores the 8-in-flight figure is noisy (up to 8 "
        "children start at once and compete with the worker for the CPU): compare several runs.\n\n"
        "Reproduce: `.venv/bin/python benchmarks/worker.py` (prints these tables; about "
        f"{meta['minutes']:.0f} minutes), or `.venv/bin/python benchmarks/worker.py --results "
        "benchmarks/RESULTS.md` to rewrite this section.\n\n"
        f"{text.rstrip()}\n"
    )
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    if re.search(r"(?m)^## Worker\s*$", old):
        new = re.sub(r"(?ms)^## Worker\s*$.*?(?=^## |\Z)", lambda _: section + "\n", old, count=1)
    else:
        new = old.rstrip() + "\n\n" + section
    path.write_text(new.rstrip() + "\n")


def machine_cores() -> int:
    return len(os.sched_getaffinity(0))


def machine() -> str:
    cores = machine_cores()
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    return f"{cores} CPU cores ({model})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, help="also rewrite the `## Worker` section of this file")
    parser.add_argument("--jobs", type=int, default=OVERHEAD_JOBS, help="jobs for the overhead figure")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("offchain.chain.keys").setLevel(logging.ERROR)  # the dev key warning
    # "skipped: maximum number of running instances": a 0.1 s duty still running at its next tick
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    started = time.monotonic()
    burst: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="tessera-bench-worker-") as tmp, running_chain() as chain:
        market = build_market(Path(tmp), chain.rpc_url)
        print(f"(deployed on {market.meta['client']} in {time.monotonic() - started:.1f} s)", file=sys.stderr)
        print(
            f"(selection_factor set to {SELECTION_FACTOR} by governance: the operator is selected for every "
            "job at once, no wait for selection is measured)",
            file=sys.stderr,
        )
        one = start_worker(market, "worker-1", 1)
        try:
            warm_up(market, one)
            times, usage = measure_overhead(market, one, args.jobs)
            print(f"(overhead run done at {time.monotonic() - started:.0f} s)", file=sys.stderr)
            burst[1] = measure_burst(market, one, BURST_JOBS)
        finally:
            stop_worker(one)
        print(f"(1 in flight done at {time.monotonic() - started:.0f} s)", file=sys.stderr)
        eight = start_worker(market, "worker-8", 8)
        try:
            warm_up(market, eight)
            burst[8] = measure_burst(market, eight, BURST_JOBS)
        finally:
            stop_worker(eight)
    minutes = (time.monotonic() - started) / 60
    lag = market.receipt_lag
    print(
        f"(total {minutes * 60:.0f} s; post receipts readable {1000 * median(lag):.1f} ms after send "
        f"returned, median)",
        file=sys.stderr,
    )
    text = findings(times, usage, burst) + "\n" + overhead_tables(times, usage)
    text += "\n" + throughput_table(burst)
    print(findings(times, usage, burst))
    if args.results:
        write_results(args.results, text, {**market.meta, "machine": machine(), "minutes": max(1, minutes)})
        print(f"wrote the Worker section of {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
