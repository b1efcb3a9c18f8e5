"""The composition root: `Worker(settings)` builds every part, `setup()` checks them, `run()` drives them.

Parts: a failover `Web3`, the deployment manifest and typed bindings, the signing key, one SQLite file
holding the chain layer's `ChainStore` (transactions, log cursor) and the worker's job `Ledger`, the
`TxManager`, the `LogPoller` (which feeds the `ChainClock` deadlines are judged on), the IPFS backend,
the compute port and the `Pipeline`.

Threads, not asyncio: web3's synchronous API, SQLite and a compute layer that already runs workloads in
child processes make blocking calls in a few threads the simplest correct design. APScheduler 3.x's
BackgroundScheduler runs the periodic duties (poll logs, advance jobs, settle transactions, claim
emission, heartbeat), each with ``max_instances=1`` and ``coalesce=True`` (a late duty runs once, not
once per missed tick) and a ``misfire_grace_time`` of several periods (a busy machine delays, never
skips). Jobs themselves run in a separate pool of ``max_in_flight + 2`` threads: the scheduler is not
the job queue.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor as SchedulerPool
from apscheduler.schedulers.background import BackgroundScheduler
from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.chain.bindings import Event, Tessera
from offchain.chain.clock import ChainClock
from offchain.chain.keys import load_account
from offchain.chain.logs import LogPoller, Reorg
from offchain.chain.manifest import Manifest, load_manifest
from offchain.chain.preflight import PreflightReport, preflight
from offchain.chain.protocol import SlashReason
from offchain.chain.rpc import connect, raw_block
from offchain.chain.store import ChainStore, SqliteFile
from offchain.chain.txmanager import FeePolicy, TxManager
from offchain.compute.cache_inputs import cached_inputs
from offchain.ipfs.backend import IpfsBackend
from offchain.ipfs.open import open_ipfs
from offchain.settings import Settings
from offchain.worker import faults
from offchain.worker.compute_port import ComputePort
from offchain.worker.ledger import ACTIVE, TERMINAL, JobState, Ledger
from offchain.worker.metrics import HealthServer, WorkerMetrics
from offchain.worker.pipeline import Pipeline, Policy

log = logging.getLogger(__name__)

HEARTBEAT_S = 15.0
EMISSION_S = 60.0
SLASH_REASONS = {int(reason): reason.name.lower() for reason in SlashReason}  # 1: wrong_result, 2: liveness


def default_compute(settings: Settings) -> ComputePort:
    from offchain.worker.compute_adapter import OffchainCompute

    return OffchainCompute(settings)


class Worker:
    """One oracle worker. Build, `setup()`, then `run()` (blocking) or `start()`/`stop()` (tests)."""

    def __init__(
        self,
        settings: Settings,
        *,
        account: LocalAccount | None = None,
        w3: Web3 | None = None,
        ipfs: IpfsBackend | None = None,
        compute: ComputePort | None = None,
        clock: Callable[[], float] = time.time,
        ticks: Callable[[], float] = time.monotonic,
        make_salt: Callable[[], bytes] | None = None,
        require_stake: bool = True,
    ) -> None:
        """Everything but ``settings`` is injectable (tests, the demo running several workers in one
        process); defaults are built from ``settings`` in `setup`. ``clock``: wall time, for records
        (ledger timestamps, a stuck transaction's age); ``ticks``: the monotonic time the `ChainClock`
        adds to the newest head's timestamp (deadlines are chain time, never the wall clock)."""
        self.settings = settings
        self.clock = clock
        self.chain_clock = ChainClock(ticks=ticks)
        self.metrics = WorkerMetrics()
        self._account = account
        self._w3 = w3
        self._ipfs = ipfs
        self._compute = compute
        self._make_salt = make_salt
        self._require_stake = require_stake
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._scheduled: set[int] = set()
        self._last_poll: float | None = None
        self._setup_done = False
        self._scheduler: BackgroundScheduler | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._http: HealthServer | None = None
        # set by setup()
        self.w3: Web3
        self.manifest: Manifest
        self.contracts: Tessera
        self.account: LocalAccount
        self.file: SqliteFile
        self.store: ChainStore
        self.ledger: Ledger
        self.txm: TxManager
        self.poller: LogPoller
        self.pipeline: Pipeline
        self.report: PreflightReport

    # ------------------------------------------------------------------ lifecycle
    def setup(self) -> PreflightReport:
        """Connect, load the manifest, run the preflight checks, open the ledger, resume transactions."""
        s = self.settings
        self.w3 = self._w3 or connect(s)
        chain_id = int(self.w3.eth.chain_id)
        manifest_file = s.manifest_path(chain_id)
        self.manifest = load_manifest(manifest_file)
        self.contracts = Tessera(self.w3, self.manifest)
        if (latest := raw_block(self.w3, "latest")) is not None:
            self.chain_clock.observe_block(latest)  # chain time before the first poll
        self.account = self._account or load_account(s)
        self.report = preflight(
            self.w3,
            self.manifest,
            self.contracts,
            self.account.address,
            require_stake=self._require_stake,
            rpc_url=s.rpc_url,
        )
        s.data_dir.mkdir(parents=True, exist_ok=True)
        self.file = SqliteFile(s.data_dir / "ledger.sqlite3")
        self.store = ChainStore(self.file)
        self.ledger = Ledger(self.file, clock=self.clock)
        self.ledger.bind(chain_id, self.manifest.address("JobRegistry"), self.account.address)
        fees = FeePolicy.from_gwei(s.priority_fee_gwei, s.max_fee_gwei, s.fee_bump_percent, s.stuck_after_s)
        self.txm = TxManager(
            self.w3,
            self.account,
            self.store,
            chain_id=chain_id,
            fees=fees,
            confirmations=s.confirmations,
            clock=self.clock,
            checkpoint=faults.checkpoint,
        )
        self.txm.resume()
        start = s.start_block if s.start_block is not None else self.manifest.deployment_block
        self.poller = LogPoller(
            self.w3,
            self.store,
            addresses=[self.manifest.address("JobRegistry"), self.manifest.address("Staking")],
            start_block=start,
            confirmations=s.confirmations,
            max_range=s.log_range_blocks,
            clock=self.chain_clock,
        )
        ipfs = self._ipfs or cached_inputs(open_ipfs(s), s.data_dir / "input-cache", s.model_cache_disk_mb)
        compute = self._compute or default_compute(s)
        policy = Policy(
            min_fee_to_gas_ratio=s.min_fee_to_gas_ratio,
            tsr_per_eth=s.tsr_per_eth,
            claim_margin_s=s.claim_margin_s,
            commit_reserve_s=s.commit_reserve_s,
            max_in_flight=s.max_in_flight,
            max_claimed_uncomputed=s.max_claimed_uncomputed,
            max_input_bytes=s.max_input_bytes,
            ipfs_timeout_s=s.ipfs_timeout_s,
            finalize_fallback_s=s.finalize_fallback_s,
        )
        extra = {"make_salt": self._make_salt} if self._make_salt else {}
        self.pipeline = Pipeline(
            ledger=self.ledger,
            contracts=self.contracts,
            txm=self.txm,
            ipfs=ipfs,
            compute=compute,
            policy=policy,
            jobs_dir=s.data_dir / "jobs",
            metrics=self.metrics,
            chain_time=self.chain_clock.now,
            stopping=self._stop.is_set,
            **extra,
        )
        self.metrics.balance.set(self.report.balance_wei)
        self.metrics.free_stake.set(self.report.free_stake)
        self._setup_done = True
        log.info(
            "worker %s ready on chain %d (registry %s), head %d, free stake %d, ledger %s",
            self.account.address,
            chain_id,
            self.manifest.address("JobRegistry"),
            self.report.head,
            self.report.free_stake,
            self.ledger.path,
        )
        return self.report

    def start(self) -> None:
        """Start the duties, the job pool and (if ``metrics_port``) the HTTP endpoint; returns at once."""
        if not self._setup_done:
            self.setup()
        s = self.settings
        self._stop.clear()
        self._pool = ThreadPoolExecutor(max_workers=s.max_in_flight + 2, thread_name_prefix="tessera-job")
        grace = max(5, int(s.poll_interval_s * 10))
        self._scheduler = BackgroundScheduler(
            executors={"default": SchedulerPool(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": grace},
            timezone="UTC",
        )
        self._scheduler.add_listener(self._on_duty_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        now = datetime.now().astimezone()
        duties: list[tuple[str, Callable[[], object], float]] = [
            ("poll", self.poll, s.poll_interval_s),
            ("advance", self.advance_all, s.poll_interval_s),
            ("txs", self.txm.refresh, s.poll_interval_s),
            ("emission", self.pipeline.claim_emission, EMISSION_S),
            ("heartbeat", self.heartbeat, HEARTBEAT_S),
        ]
        for i, (name, fn, every) in enumerate(duties):
            self._scheduler.add_job(
                fn,
                "interval",
                seconds=every,
                id=name,
                name=name,
                next_run_time=now + timedelta(milliseconds=10 * i),
            )
        self._scheduler.start()
        if s.metrics_port:
            self._http = HealthServer(self.metrics, port=s.metrics_port, alive=self.alive, ready=self.ready)
            self._http.start()
            log.info("metrics on http://127.0.0.1:%d/metrics", self._http.port)

    def run(self) -> None:
        """`start`, then block until `stop` is called (from a signal handler or another thread)."""
        self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        finally:
            self.stop()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop duties and wait for running jobs (a workload child is bounded by its own timeout)."""
        self._stop.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        if self._http is not None:
            self._http.stop()
            self._http = None
        log.info("worker stopped")

    def request_stop(self) -> None:
        """Ask `run` to return (safe from a signal handler: it only sets an event)."""
        self._stop.set()

    def close(self) -> None:
        """Release the ledger's file (after `stop`)."""
        file = getattr(self, "file", None)
        if file is not None:
            file.close()

    # ------------------------------------------------------------------ duties
    def poll(self) -> int:
        """Ingest new confirmed registry logs; schedule the jobs they concern. Returns logs handled."""
        result = self.poller.poll(self._handle_logs, on_reorg=self._on_reorg)
        self._last_poll = time.monotonic()
        self.metrics.head.set(result.head)
        self.metrics.cursor.set(result.scanned_to)
        self.metrics.last_poll.set(self.clock())
        return result.delivered

    def advance_all(self) -> None:
        """Schedule every job that is not terminal (deadlines move with time, not only with events)."""
        for job in self.ledger.jobs(set(JobState) - TERMINAL):
            self.schedule(job.job_id)
        self.metrics.in_flight.set(self.ledger.count(ACTIVE))

    def heartbeat(self) -> None:
        balance = int(self.w3.eth.get_balance(self.account.address))
        free = self.contracts.free_stake(self.account.address)
        self.metrics.balance.set(balance)
        self.metrics.free_stake.set(free)
        log.info(
            "heartbeat: %d jobs active, balance %d wei, free stake %d",
            self.ledger.count(ACTIVE),
            balance,
            free,
        )

    def schedule(self, job_id: int) -> None:
        """Advance ``job_id`` on the job pool unless it is already queued or running."""
        with self._lock:
            if job_id in self._scheduled or self._pool is None or self._stop.is_set():
                return
            self._scheduled.add(job_id)
        try:
            future = self._pool.submit(self.pipeline.advance, job_id)
        except RuntimeError:  # the pool is shutting down
            with self._lock:
                self._scheduled.discard(job_id)
            return
        future.add_done_callback(lambda f, j=job_id: self._job_done(j, f))

    def _job_done(self, job_id: int, future: Future) -> None:
        with self._lock:
            self._scheduled.discard(job_id)
        if not future.cancelled() and future.exception() is not None:
            log.error("job %d: advance crashed: %r", job_id, future.exception(), extra={"job_id": job_id})

    def _handle_logs(self, logs: list) -> None:
        for raw in logs:
            event = self.contracts.decode_log(raw)
            if event is None:
                continue
            if event.contract == "Staking":
                self.pipeline.on_stake_event(event)
                self._on_staking_event(event)
                continue
            job_id = self.pipeline.on_event(event)
            if job_id is not None:
                self.schedule(job_id)

    def _on_staking_event(self, event: Event) -> None:
        """Make a slash or a jail of this operator loud (log and metrics); other operators' are ignored."""
        args = event.args
        if str(args.get("operator", "")).lower() != self.account.address.lower():
            return
        if event.name == "OperatorSlashed":
            reason = SLASH_REASONS.get(int(args["reason"]), f"reason {int(args['reason'])}")
            self.metrics.slashed.labels(reason).inc(int(args["amount"]))
            log.error(
                "this operator was slashed %s TSR wei for %s on job %d",
                int(args["amount"]),
                reason.replace("_", " "),
                int(args["job_id"]),
                extra={"job_id": int(args["job_id"])},
            )
        elif event.name == "OperatorJailed":
            until = int(args["until"])
            self.metrics.jailed_until.set(until)
            log.error(
                "this operator is jailed until %s: no new claims until then (`tessera operator status`)",
                datetime.fromtimestamp(until, UTC).isoformat(timespec="seconds"),
            )

    def _on_reorg(self, reorg: Reorg) -> None:
        self.metrics.reorgs.inc()
        for job_id in self.pipeline.on_reorg(reorg.ancestor):
            self.schedule(job_id)

    def _on_duty_event(self, event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning(
                "duty %s missed its run at %s (the machine is overloaded)",
                event.job_id,
                event.scheduled_run_time,
            )
        elif event.exception is not None:
            log.warning("duty %s failed: %s", event.job_id, event.exception)

    # ------------------------------------------------------------------ health
    def alive(self) -> bool:
        return self._scheduler is not None and self._scheduler.running and not self._stop.is_set()

    def ready(self) -> tuple[bool, str]:
        if not self._setup_done:
            return False, "setup has not completed"
        if self._last_poll is None:
            return False, "no log poll has succeeded yet"
        age = time.monotonic() - self._last_poll
        limit = max(30.0, 10 * self.settings.poll_interval_s)
        if age > limit:
            return False, f"the last successful log poll was {age:.0f} s ago"
        return True, "ready"

    def wait_for(self, predicate: Callable[[], bool], *, timeout_s: float, poll_s: float = 0.1) -> bool:
        """Block until ``predicate()`` holds or ``timeout_s`` passes (tests and the demo)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(poll_s)
        return predicate()
