"""One job, step by step: decide, claim, compute, upload, commit, reveal, finalize; resumable from the ledger.

`Pipeline.advance(job_id)` reads the job's `JobState` from the ledger and performs the next steps until it
must wait (a transaction in flight, reveals not open yet, the job not final) or the job is terminal. Every
state change is a compare-and-swap in the ledger, so two threads advancing one job cannot both act, and a
restarted worker continues where the last one stopped:

    SEEN --decide--> SKIPPED (reason code; no transaction)
         \\-> CLAIMING -> CLAIMED -> COMPUTED -> UPLOADED -> COMMITTING -> COMMITTED
              -> REVEALING -> REVEALED [-> FINALIZING] -> DONE          (FAILED from any step, with a code)

Decide fetches the spec (bounded, sha256 checked against the event's ``spec_digest``: the claim policy
needs its runtime bound) and every input (bounded, verified against its CID, checked as safetensors)
before claiming, so a bad spec or input is refused before any transaction is sent and never costs
collateral (docs/SPEC.md §9.13). After the claim, `eth_call` of a commit checks that a commit could still
land before any compute starts, and no commit goes out while the job's post block is not canonical.

Work is done once: a spec is fetched and hashed once and parsed once per digest (cached), inputs are
checked once (before the claim; the runner checks its own copy), and the result is hashed once (by the
runner). The four transactions are rows of one table, `TX_STEPS`, behind one `Pipeline._send` and one
`Pipeline._settle`; deadlines are judged on chain time (`offchain.chain.clock`). The reveal is always
`reveal_and_finalize`: the last reveal owed settles the job in the same transaction, so a job whose
committers all reveal needs no finalize. Only when a committer never reveals does one worker per job
send finalize after the reveal deadline (`offchain.worker.finalizer`), and never for a job already
settled or settling in the pending block. docs/WORKER.md describes the whole machine.

Transient trouble (RPC, IPFS timeouts) leaves the state as it is; the next `advance` retries. Once a
commitment is on chain, no error makes the pipeline give up before the chain says the job is over: a
missed reveal costs collateral.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path

from hexbytes import HexBytes

from offchain.chain.bindings import Call, Event, JobView, Phase, Tessera, WorkerEntry, commitment
from offchain.chain.logs import block_hash
from offchain.chain.protocol import BPS, MAX_REPLICAS
from offchain.chain.txmanager import FeeAboveCap, TxManager, TxReverted, TxStatus
from offchain.compute.errors import SpecTooLarge
from offchain.errors import (
    CidMismatch,
    InputTooLarge,
    IpfsTimeout,
    IpfsUnavailable,
    RpcUnreachable,
    TesseraError,
)
from offchain.ipfs.backend import IpfsBackend
from offchain.worker import faults
from offchain.worker.compute_port import ComputeOutput, ComputePort, JobCodeFailed, SpecSummary
from offchain.worker.error_result import agreed_error_code, write_error_result
from offchain.worker.finalizer import finalize_order, finalize_rank
from offchain.worker.ledger import (
    ACTIVE,
    TERMINAL,
    EscalatedRound,
    JobRecord,
    JobState,
    Ledger,
    PostedJob,
)
from offchain.worker.metrics import WorkerMetrics

log = logging.getLogger(__name__)

# Gas a job costs this worker: claim, commit, reveal_and_finalize (maybe finalize); measured on anvil.
JOB_GAS = 600_000
SPEC_MAX_BYTES = 1024 * 1024
ERROR_RESULT_FILE = "error-result.json"  # an agreed error result (offchain.worker.error_result), per job
SPEC_CACHE_SIZE = 64  # parsed specs kept by digest (a spec is parsed once, not once per step)
AWAITING_COMPUTE = frozenset({JobState.CLAIMING, JobState.CLAIMED})
TRANSIENT = (RpcUnreachable, IpfsTimeout, IpfsUnavailable, FeeAboveCap)
MINED = (TxStatus.MINED, TxStatus.CONFIRMED)
# Staking events that change an operator's bonded stake or the total: selection (`selected_at`) moves.
STAKE_EVENTS = frozenset({"Staked", "UnstakeRequested", "UnstakeCancelled", "OperatorSlashed"})
NOT_SELECTED = "not selected"  # the registry's claim revert before `selected_at`
SETTLES = {"JobCompleted": Phase.COMPLETED, "JobFailed": Phase.FAILED}  # the events that end a claimed job
SETTLEMENT_CHECK_S = 15.0  # chain seconds between reads of an ESCALATED job (its events end it first)


class Attempt(Enum):
    """Where the current attempt of a job's transaction (claim, commit, reveal, finalize) stands."""

    NONE = "none"  # never sent, or every attempt dropped / reverted / refused
    PENDING = "pending"
    LANDED = "landed"  # mined with success


GONE = (TxStatus.REVERTED, TxStatus.DROPPED, TxStatus.FAILED)


class SpecDigestMismatch(TesseraError):
    code = "E_SPEC_DIGEST_MISMATCH"
    default_hint = "the requester posted a spec_digest that is not the sha256 of the spec at spec_cid"


@dataclass(frozen=True)
class Policy:
    """The claim policy and its margins (built from Settings by the service)."""

    min_fee_to_gas_ratio: float = 1.0  # fee share per gas cost, both in TSR
    tsr_per_eth: float = 1.0  # converts the gas cost (ETH wei) into TSR wei
    max_in_flight: int = 4
    max_claimed_uncomputed: int = 2  # backpressure: claimed jobs whose compute has not finished
    max_input_bytes: int = 256 * 1024 * 1024
    ipfs_timeout_s: float = 60.0
    claim_margin_s: float = 30.0  # to claim: max runtime + this must fit before the commit deadline
    commit_reserve_s: float = 10.0  # once claimed: compute while more than this remains (upload + commit)
    max_fetch_retries: int = 5
    finalize_fallback_s: float = 30.0  # the wait per rank before a worker not chosen sends finalize


@dataclass(frozen=True)
class TxStep:
    """One of a job's transactions, as a row of `TX_STEPS`: how the call is built, the state while an
    attempt is out (``waiting``) and once it landed (``landed``), how the chain shows it done without
    our receipt (``done``: a flag of our worker entry; None: the job is over), what a refusal by
    simulation means (``refused``), and where a dropped or reverted attempt goes (``retry_from``; None:
    the same call is sent again). ``legacy_names``: names the step had in earlier versions; a ledger that
    recorded an attempt under one keeps using it (a restarted worker must not send the step twice)."""

    name: str  # the idempotency key is ``<name>:<job id>``; also the metrics label
    waiting: JobState
    landed: JobState
    call: Callable[[Pipeline, JobRecord], Call]
    done: Callable[[WorkerEntry], bool] | None
    refused: Callable[[Pipeline, JobRecord, TxReverted], bool]
    retry_from: JobState | None = None
    legacy_names: tuple[str, ...] = ()  # earlier names of the step: keys an older ledger may hold


class Pipeline:
    """Advances jobs through their states; see the module docstring. Thread-safe per job via the ledger."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        contracts: Tessera,
        txm: TxManager,
        ipfs: IpfsBackend,
        compute: ComputePort,
        policy: Policy,
        jobs_dir: Path,
        metrics: WorkerMetrics | None = None,
        chain_time: Callable[[], float],
        make_salt: Callable[[], bytes] = lambda: secrets.token_bytes(32),
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        """``chain_time``: the chain's current time (`ChainClock.now`): every deadline is a block timestamp,
        judged on it, never on the wall clock. ``stopping`` is checked between steps: a stopping worker
        finishes its current step only."""
        self.ledger = ledger
        self.contracts = contracts
        self.txm = txm
        self.ipfs = ipfs
        self.compute = compute
        self.policy = policy
        self.jobs_dir = Path(jobs_dir)
        self.metrics = metrics or WorkerMetrics()
        self.me = txm.address
        self._chain_time = chain_time
        self._specs: OrderedDict[bytes, SpecSummary] = OrderedDict()  # spec digest -> parsed spec
        self._specs_lock = threading.Lock()
        self._finalize_turns: dict[int, float] = {}  # job id -> chain time from which we may finalize
        # job id -> (round, stake generation, selected_at): read once per round and stake change
        self._selection: dict[int, tuple[int, int, int]] = {}
        self._settlement_checks: dict[int, float] = {}  # ESCALATED job id -> chain time of its next read
        self._challenge_ends: dict[int, float] = {}  # 1-replica job id -> end of its challenge window (or 0)
        self._stake_generation = 0  # bumped by every Staking event that moves a stake (`on_stake_event`)
        self._make_salt = make_salt
        self._stopping = stopping

    # ------------------------------------------------------------------ events in
    def on_event(self, event: Event) -> int | None:
        """Record what an event says; return the id of a job that should be advanced now, if any."""
        args = event.args
        if event.name == "JobPosted":
            posted = PostedJob(
                job_id=int(args["job_id"]),
                spec_cid=str(args["spec_cid"]),
                spec_digest=bytes(args["spec_digest"]),
                fee=int(args["fee"]),
                replicas=int(args["replicas"]),
                quorum=int(args["quorum"]),
                collateral=int(args["collateral"]),
                claim_deadline=int(args["claim_deadline"]),
                commit_deadline=int(args["commit_deadline"]),
                reveal_deadline=int(args["reveal_deadline"]),
                posted_block=event.block_number,
                posted_block_hash=event.block_hash,
            )
            if self.ledger.record_posted(posted):
                log.info("job posted", extra={"job_id": posted.job_id, "cid": posted.spec_cid})
            else:
                self._reposted(posted)
            return posted.job_id
        if event.contract != "JobRegistry" or "job_id" not in args:
            return None
        job_id = int(args["job_id"])
        job = self.ledger.get_job(job_id)
        if job is None:
            return None
        if event.name == "JobEscalated":
            return self._on_escalated(event)
        if event.name in SETTLES and job.state == JobState.ESCALATED:
            return self._settled_after_escalation(job, SETTLES[event.name])
        if event.name == "WorkerPaid" and str(args["worker"]).lower() == self.me.lower():
            epoch = self.contracts.current_epoch(block=event.block_number)
            self.ledger.update_job(job_id, paid=int(args["amount"]), epoch=epoch)
            log.info("paid %d wei of TSR", int(args["amount"]), extra={"job_id": job_id})
        return None if job.state in TERMINAL else job_id

    def on_stake_event(self, event: Event) -> None:
        """A Staking event: one that moves anyone's bonded stake (or the total) makes every cached
        `selected_at` stale; each job reads its own again on its next decide."""
        if event.name in STAKE_EVENTS:
            self._stake_generation += 1

    def _settled_after_escalation(self, job: JobRecord, phase: Phase) -> None:
        """JobCompleted / JobFailed of a job whose round-``job.round`` claim waited in ESCALATED: record the
        outcome (a WorkerPaid before it in the same transaction already recorded the payout)."""
        self._done(job, phase)
        return None

    def _on_escalated(self, event: Event) -> int | None:
        """JobEscalated: a job not claimed by this worker takes the new round's terms and is decided again
        (it may be claimed if this worker is selected for the round); a job this worker claimed waits in
        ESCALATED, collateral locked, until JobCompleted / JobFailed (its deadlines no longer apply)."""
        args = event.args
        new = EscalatedRound(
            job_id=int(args["job_id"]),
            round=int(args["round"]),
            replicas=int(args["replicas"]),
            quorum=int(args["quorum"]),
            claim_deadline=int(args["claim_deadline"]),
            commit_deadline=int(args["commit_deadline"]),
            reveal_deadline=int(args["reveal_deadline"]),
        )
        before = self.ledger.get_job(new.job_id)
        after = self.ledger.escalate(new)
        if before is None or after is None:
            return None
        self._finalize_turns.pop(new.job_id, None)
        extra = {"job_id": new.job_id}
        if after == before.state and before.round >= new.round:
            pass  # seen before (a restart rescans its logs)
        elif after == JobState.SEEN:
            log.info(
                "job %d escalated to round %d (%d replicas, quorum %d): deciding again",
                new.job_id, new.round, new.replicas, new.quorum, extra=extra,
            )  # fmt: skip
        elif after == JobState.ESCALATED and before.state != JobState.ESCALATED:
            self.metrics.escalations.inc()
            log.info(
                "job %d escalated to round %d: our round-%d claim waits for the final settlement "
                "(collateral stays locked)",
                new.job_id, new.round, before.round, extra=extra,
            )  # fmt: skip
        return None if after in TERMINAL else new.job_id

    def _reposted(self, posted: PostedJob) -> None:
        """A JobPosted for a known id: a reorg moved the post, or put another job under the id."""
        outcome = self.ledger.repost(posted)
        extra = {"job_id": posted.job_id, "cid": posted.spec_cid}
        if outcome == "replaced":
            # the cached spec is the old one; inputs are stored by CID and a running compute's result is
            # refused by the ledger (it was computed for another spec_digest)
            (self._job_dir(posted.job_id) / "spec.json").unlink(missing_ok=True)
            log.warning(
                "job %d: a reorg put another job under this id: starting over", posted.job_id, extra=extra
            )
        elif outcome == "kept" and (job := self.ledger.get_job(posted.job_id)) is not None:
            if job.spec_digest != posted.spec_digest:
                log.error(
                    "job %d: a reorg put another job under this id after our commitment (%s); it stands",
                    posted.job_id,
                    job.state,
                    extra=extra,
                )
        elif outcome == "moved":
            log.info("job %d: its post moved to block %d", posted.job_id, posted.posted_block, extra=extra)

    def on_reorg(self, ancestor: int) -> list[int]:
        """Forget jobs not yet acted on whose JobPosted may be gone; return the ids to re-check."""
        recheck = []
        for job in self.ledger.jobs(set(JobState) - TERMINAL):
            if job.state == JobState.SEEN and job.posted_block > ancestor:
                self.ledger.forget_unstarted(job.job_id)  # re-recorded if the event is still on chain
            else:
                recheck.append(job.job_id)
        return recheck

    # ------------------------------------------------------------------ the state machine
    def advance(self, job_id: int) -> JobState | None:
        """Perform every step that can be done now; returns the state reached."""
        for _ in range(16):  # bounded: each step moves the state forward or returns
            if self._stopping():
                break
            job = self.ledger.get_job(job_id)
            if job is None or job.state in TERMINAL:
                return None if job is None else job.state
            tx_step = WAITING.get(job.state)
            try:
                moved = self._settle(tx_step, job) if tx_step else self._steps[job.state](self, job)
            except TRANSIENT as err:
                # the cause stays on record while the job waits: a later give-up (E_DEADLINE_MISSED) names it
                self.ledger.update_job(job_id, retries=job.retries + 1, error_message=str(err)[:2000])
                log.warning("job %d: %s; will retry", job_id, err, extra={"job_id": job_id})
                return job.state
            except TesseraError as err:
                moved = self._fail_or_hold(job, err.code, str(err))
            except Exception as err:  # a bug must not kill the worker or, after a commit, the reveal
                log.exception(
                    "job %d: unexpected error in state %s", job_id, job.state, extra={"job_id": job_id}
                )
                moved = self._fail_or_hold(job, "E_INTERNAL", f"{type(err).__name__}: {err}")
            if not moved:
                return job.state
        job = self.ledger.get_job(job_id)
        return None if job is None else job.state

    def _fail_or_hold(self, job: JobRecord, code: str, message: str) -> bool:
        """FAILED before a commitment exists; after, record the error and keep the state (retried on the
        next tick). Returns whether the state moved."""
        if job.state in (
            JobState.COMMITTING,
            JobState.COMMITTED,
            JobState.REVEALING,
            JobState.REVEALED,
            JobState.FINALIZING,
        ):
            log.error(
                "job %d: %s (holding: a commitment is on chain)",
                job.job_id,
                message,
                extra={"job_id": job.job_id},
            )
            self.ledger.update_job(
                job.job_id, retries=job.retries + 1, error_code=code, error_message=message
            )
            return False
        return self._fail(job, code, message)

    def _fail(self, job: JobRecord, code: str, message: str, *, skipped: bool = False) -> bool:
        target = JobState.SKIPPED if skipped else JobState.FAILED
        self._selection.pop(job.job_id, None)
        if self.ledger.transition(
            job.job_id, job.state, target, error_code=code, error_message=message[:2000]
        ):
            (self.metrics.skips.labels(code) if skipped else self.metrics.failures.labels(code)).inc()
            self.metrics.jobs.labels(target.value).inc()
            log.log(
                logging.INFO if skipped else logging.WARNING,
                "job %d %s: %s",
                job.job_id,
                target.value,
                message,
                extra={"job_id": job.job_id},
            )
        return True

    # ---- SEEN: decide and claim
    def _decide(self, job: JobRecord) -> bool:
        now = self._chain_time()
        if now >= job.claim_deadline:
            return self._fail(job, "E_CLAIM_WINDOW_CLOSED", "the claim window has closed", skipped=True)
        if now < self._cached_selection(job, default=0):
            return False  # scheduled: selected for this round later (no read until then)
        if self.ledger.count(ACTIVE) >= self.policy.max_in_flight:
            return False  # at capacity: look again later, while the claim window lasts
        if self.ledger.count(AWAITING_COMPUTE) >= self.policy.max_claimed_uncomputed:
            return False  # claims already wait for compute: another would only wait longer
        view = self.contracts.get_job(job.job_id)
        if view.round > job.round and not view.phase.terminal:  # escalated before its event was handled
            self.ledger.escalate(_round_of(view))
            return True
        if view.phase not in (Phase.OPEN, Phase.CLAIMED) or view.claims >= view.replicas:
            return self._fail(
                job,
                "E_JOB_NOT_CLAIMABLE",
                f"the job is {view.phase.name.lower()} with {view.claims}/{view.replicas} claims",
                skipped=True,
            )
        if not self.contracts.is_eligible(self.me):
            return self._fail(
                job, "E_STAKE_TOO_LOW", "this operator is not eligible (stake or jail)", skipped=True
            )
        free = self.contracts.free_stake(self.me)
        if free < job.collateral:
            return self._fail(
                job,
                "E_STAKE_TOO_LOW",
                f"free stake {free} is below the collateral {job.collateral}",
                skipped=True,
            )
        share = job.fee * (BPS - self.contracts.protocol_fee_bps()) // BPS // max(1, job.replicas)
        gas_cost = int(JOB_GAS * self._gas_price() * self.policy.tsr_per_eth)  # in TSR wei
        if share < gas_cost * self.policy.min_fee_to_gas_ratio:
            return self._fail(
                job,
                "E_FEE_TOO_LOW",
                f"fee share {share} TSR wei does not cover gas worth {gas_cost} TSR wei "
                f"x {self.policy.min_fee_to_gas_ratio}",
                skipped=True,
            )
        if job.round > 0 and self.contracts.worker_entry(job.job_id, self.me).claimed:
            return self._fail(  # the registry refuses a claimant of an earlier round
                job, "E_ALREADY_CLAIMED", f"this operator claimed an earlier round of job {job.job_id}",
                skipped=True,
            )  # fmt: skip
        selected_at = self._selected_at(job)
        if selected_at >= job.claim_deadline:
            return self._fail(
                job,
                "E_NOT_SELECTED",
                f"not selected for job {job.job_id} round {job.round} before its claim deadline",
                skipped=True,
            )
        started = time.monotonic()
        try:
            summary = self._spec(job)
        except (CidMismatch, InputTooLarge, SpecDigestMismatch) as err:
            return self._fail(job, err.code, str(err), skipped=True)
        except TRANSIENT as err:
            if job.retries + 1 >= self.policy.max_fetch_retries:
                why = f"the spec could not be fetched in {job.retries + 1} tries; the last: {err}"
                return self._fail(job, "E_SPEC_UNAVAILABLE", why, skipped=True)
            raise
        except TesseraError as err:  # a spec the compute layer rejects
            return self._fail(job, err.code, str(err), skipped=True)
        self.metrics.stage_seconds.labels("fetch").observe(time.monotonic() - started)
        try:  # inputs before the claim too: a bad input then costs the requester's job, not our collateral
            self._inputs(job, summary, check=True)
        except TRANSIENT as err:
            if job.retries + 1 >= self.policy.max_fetch_retries:
                why = f"an input could not be fetched in {job.retries + 1} tries; the last: {err}"
                return self._fail(job, "E_INPUT_UNAVAILABLE", why, skipped=True)
            raise
        except TesseraError as err:  # too large, CID mismatch, unsafe or malformed weights
            return self._fail(job, err.code, str(err), skipped=True)
        needed = summary.max_runtime_s + self.policy.claim_margin_s
        now = self._chain_time()  # the spec fetch may have been slow: decide on the time of the claim
        claim_at = max(now, selected_at)
        if claim_at + needed > job.commit_deadline:
            return self._fail(
                job,
                "E_DEADLINE_TOO_CLOSE",
                f"needs {needed:.0f} s but the commit deadline is {job.commit_deadline - claim_at:.0f} s "
                f"after this operator may claim",
                skipped=True,
            )
        if now < selected_at:
            return False  # spec and inputs are ready; the claim waits for `selected_at` (logged when read)
        if not self.ledger.transition(job.job_id, JobState.SEEN, JobState.CLAIMING):
            return False
        return self._send(CLAIM, self.ledger.get_job(job.job_id))  # type: ignore[arg-type]

    def _cached_selection(self, job: JobRecord, *, default: int) -> int:
        """This worker's `selected_at` for the job's current round if read since the last stake change,
        else ``default``."""
        cached = self._selection.get(job.job_id)
        if cached is None or cached[:2] != (job.round, self._stake_generation):
            return default
        return cached[2]

    def _selected_at(self, job: JobRecord) -> int:
        """When this worker may claim the job's current round (`JobRegistry.selected_at`): read once per
        round, and again after a stake changed; logged when read."""
        cached = self._cached_selection(job, default=-1)
        if cached >= 0:
            return cached
        generation = self._stake_generation
        at = self.contracts.selected_at(job.job_id, self.me)
        self._selection[job.job_id] = (job.round, generation, at)
        now = self._chain_time()
        if now < at < job.claim_deadline:
            log.info(
                "selected for job %d round %d from chain time %d (in %.0f s): the claim waits until then",
                job.job_id, job.round, at, at - now, extra={"job_id": job.job_id},
            )  # fmt: skip
        return at

    def _claim_refused(self, job: JobRecord, err: TxReverted) -> bool:
        """A claim the simulation refused: "not selected" (the block's time is still before `selected_at`,
        or a stake moved) waits in SEEN and reads the selection again; any other reason skips the job."""
        if NOT_SELECTED in err.reason:
            self._selection.pop(job.job_id, None)
            self.ledger.transition(job.job_id, JobState.CLAIMING, JobState.SEEN)
            return False
        return self._fail(job, "E_CLAIM_REJECTED", err.reason, skipped=True)

    # ---- CLAIMED: fetch inputs and compute
    def _compute(self, job: JobRecord) -> bool:
        now = self._chain_time()
        left = job.commit_deadline - now - self.policy.commit_reserve_s
        if left <= 0:
            last = f"; the last error retried: {job.error_message}" if job.error_message else ""
            return self._fail(
                job, "E_DEADLINE_MISSED", f"too late to compute and commit before the deadline{last}"
            )
        # Would a commit still be accepted? Check before spending compute time.
        self.txm.simulate(self.contracts.commit(job.job_id, b"\x01" * 32))
        try:
            out = self._run(job, left)
        except JobCodeFailed as failed:  # the job's child reported it: the job's fault, or this device's
            out = self._agreed_error(job, failed.error, reported_by_job=True)
        except TRANSIENT:
            raise
        except TesseraError as err:  # the spec or an input refused here, or the runner / machine failed
            out = self._agreed_error(job, err, reported_by_job=False)
        log.info("computed digest %s", out.digest.hex(), extra={"job_id": job.job_id})
        faults.checkpoint("after_compute")
        return self.ledger.transition(
            job.job_id,
            JobState.CLAIMED,
            JobState.COMPUTED,
            for_spec=job.spec_digest,  # refused if a reorg put another spec under the id meanwhile
            result_digest=out.digest,
            result_path=str(out.path),
        )

    def _run(self, job: JobRecord, left: float) -> ComputeOutput:
        summary = self._spec(job)
        run_dir = self._job_dir(job.job_id) / "run"
        if run_dir.exists():
            shutil.rmtree(run_dir)  # a run interrupted by a restart starts over
        # fetched (verified against their CIDs) and checked before the claim; fetched again after a restart
        # if missing, and checked once more by the runner on its own copy: not here a second time
        inputs = self._inputs(job, summary, check=False)
        faults.checkpoint("after_fetch")
        started = time.monotonic()
        try:
            return self.compute.run(summary, inputs, run_dir, timeout_s=min(summary.max_runtime_s, left))
        finally:
            self.metrics.stage_seconds.labels("compute").observe(time.monotonic() - started)

    def _agreed_error(self, job: JobRecord, err: TesseraError, *, reported_by_job: bool) -> ComputeOutput:
        """The agreed error result of a failure every honest worker meets (`offchain.worker.error_result`),
        written to the job folder as the result to upload and commit; a local failure is raised again
        (the job then fails as before: abstain before a commitment, never a wrong result)."""
        code = agreed_error_code(err.code, str(err), reported_by_job=reported_by_job)
        if code is None:
            raise err
        path = write_error_result(code, self._job_dir(job.job_id) / ERROR_RESULT_FILE)
        log.warning(
            "job %d: %s is the job's own failure (%s): committing the agreed error result",
            job.job_id,
            code,
            err,
            extra={"job_id": job.job_id},
        )
        return ComputeOutput(digest=hashlib.sha256(path.read_bytes()).digest(), path=path)

    # ---- COMPUTED: upload
    def _upload(self, job: JobRecord) -> bool:
        started = time.monotonic()
        cid = str(self.ipfs.add_file(job.result_path))  # type: ignore[arg-type]
        self.metrics.stage_seconds.labels("upload").observe(time.monotonic() - started)
        log.info("result uploaded", extra={"job_id": job.job_id, "cid": cid})
        faults.checkpoint("after_upload")
        return self.ledger.transition(job.job_id, JobState.COMPUTED, JobState.UPLOADED, result_cid=cid)

    # ---- UPLOADED: commit
    def _commit(self, job: JobRecord) -> bool:
        if block_hash(self.contracts.w3, job.posted_block) != job.posted_block_hash:
            return False  # a reorg took the job's post: hold until its JobPosted is seen again
        self.ledger.ensure_salt(job.job_id, self._make_salt)  # stored before the commitment exists
        if not self.ledger.transition(job.job_id, JobState.UPLOADED, JobState.COMMITTING):
            return False
        return self._send(COMMIT, self.ledger.get_job(job.job_id))  # type: ignore[arg-type]

    def _commitment(self, job: JobRecord) -> bytes:
        return commitment(
            self.contracts.chain_id, self.contracts.registry.address, job.job_id, self.me,
            job.result_digest or b"", job.result_cid or "", job.salt or b"",
        )  # fmt: skip

    # ---- COMMITTED: reveal once reveals open
    def _reveal(self, job: JobRecord) -> bool:
        view = self.contracts.get_job(job.job_id)
        if view.phase.terminal:
            return self._done(job, view.phase)
        if view.round > job.round:
            return self._escalated(job, view)
        if view.phase != Phase.REVEALING and not self._reveal_opens_pending(job):
            return False
        return self._send(REVEAL, job)

    def _reveal_opens_pending(self, job: JobRecord) -> bool:
        """Whether reveals are open in the pending block, once chain time passed the claim deadline (a round
        not filled, every claimant committed, opens by time): the transaction lands there, and a chain that
        mines only on demand (anvil's automine) has no later block until someone sends one."""
        if self._chain_time() < job.claim_deadline:
            return False
        return self.contracts.get_job(job.job_id, block="pending").phase == Phase.REVEALING

    def _reveal_refused(self, job: JobRecord, err: TxReverted) -> bool:
        log.warning("job %d: reveal refused (%s)", job.job_id, err.reason, extra={"job_id": job.job_id})
        # past the reveal deadline: settle (in turn), so the rest of the collateral unlocks
        if self._finalize_turn_now(job) and not self._settled_or_settling(job):
            self._send(FINALIZE, job, move=False)
        return False

    # ---- REVEALED: finalize in turn, unless someone else does (offchain.worker.finalizer)
    def _finalize(self, job: JobRecord) -> bool:
        view = self.contracts.get_job(job.job_id)
        if view.phase.terminal:
            return self._done(job, view.phase)
        if view.round > job.round:
            return self._escalated(job, view)
        if self._in_challenge_window(job, view):
            return False  # an optimistic result settles when its challenge window closes
        if not self._finalize_turn_now(job):
            return False  # reveals pending, or another worker's turn first
        if self._settled_or_settling(job):
            return False  # a settling transaction is pending: its JobCompleted / JobFailed ends the job
        return self._send(FINALIZE, job)

    # ---- ESCALATED: our round escalated; wait for the final settlement (JobCompleted / JobFailed)
    def _await_settlement(self, job: JobRecord) -> bool:
        """No transaction and no deadline of ours is left: the later rounds' claimants reveal and settle.
        The job ends when the chain says it is over; the outcome (and WorkerPaid) is recorded then."""
        now = self._chain_time()
        if now < self._settlement_checks.get(job.job_id, 0.0):
            return False
        self._settlement_checks[job.job_id] = now + SETTLEMENT_CHECK_S
        view = self.contracts.get_job(job.job_id)
        if view.phase.terminal:
            return self._done(job, view.phase)
        return False

    def _escalated(self, job: JobRecord, view: JobView) -> bool:
        """The chain shows a later round than the ledger (the JobEscalated event not handled yet): record it
        now (`Ledger.escalate`: a claimed job waits in ESCALATED)."""
        self._finalize_turns.pop(job.job_id, None)
        return self.ledger.escalate(_round_of(view)) is not None

    def _in_challenge_window(self, job: JobRecord, view: JobView) -> bool:
        """Whether ``job`` is optimistic and its challenge window (its round-0 reveal window) is still open:
        finalize cannot settle it before, so the worker waits without simulating or sending one. Whether a
        job is optimistic is read once (it never changes); a challenge escalates it (`_escalated`)."""
        if job.round > 0 or job.replicas != 1:
            return False
        end = self._challenge_ends.get(job.job_id)
        if end is None:
            end = float(view.reveal_deadline) if self.contracts.is_optimistic(job.job_id) else 0.0
            self._challenge_ends[job.job_id] = end
            if end:
                log.info(
                    "job %d: optimistic: the result settles when its challenge window closes (chain time %d)",
                    job.job_id,
                    end,
                    extra={"job_id": job.job_id},
                )
        return self._chain_time() < end

    def _settled_or_settling(self, job: JobRecord) -> bool:
        """Whether the job is settled in the pending block: a `reveal_and_finalize` (or another worker's
        finalize) in the pool settles it. `finalize` of a settled job does not revert (it logs
        JobAlreadySettled), so the send's simulation cannot tell: without this check the worker would
        pay for a no-op."""
        return self.contracts.get_job(job.job_id, block="pending").phase.terminal

    def _finalize_turn_now(self, job: JobRecord) -> bool:
        """Whether this worker should send finalize now: finalize would succeed, and this worker's rank
        among the job's workers (`finalize_rank`) times ``finalize_fallback_s`` of chain time has passed
        since it first saw that. The rank is read from the chain once, when finalize becomes possible.
        A job of one replica has no one to race: its worker just tries (the send simulates it)."""
        if job.replicas <= 1:
            return True
        now = self._chain_time()
        turn = self._finalize_turns.get(job.job_id)
        if turn is None:
            try:
                self.txm.simulate(FINALIZE.call(self, job))
            except TxReverted:
                return False  # reveals are still due
            # the current round's claimants only: an earlier round's cannot act on this one
            claimants = self.contracts.claimants(job.job_id)[self.contracts.get_job(job.job_id).first_slot :]
            revealers = [w for w in claimants if self.contracts.worker_entry(job.job_id, w).revealed]
            rank = finalize_rank(job.job_id, self.me, revealers, claimants)
            turn = now + rank * self.policy.finalize_fallback_s
            self._finalize_turns[job.job_id] = turn
            if rank:
                log.info(
                    "job %d: finalize is %s's to send; this worker (rank %d) sends it in %.0f s if not",
                    job.job_id,
                    finalize_order(job.job_id, revealers, claimants)[0],
                    rank,
                    turn - now,
                    extra={"job_id": job.job_id},
                )
        return now >= turn

    # ---- the transactions: one send and one settle over the TX_STEPS table
    def _send(self, step: TxStep, job: JobRecord, *, move: bool = True) -> bool:
        """Send the current attempt of ``step`` for ``job`` (idempotent: an attempt still out is returned
        as is), then move the job to ``step.waiting`` unless ``move`` is False. Returns whether the job
        moved or an attempt is out (the state machine looks again at once)."""
        key = self._live_key(self._base_key(step, job))
        try:
            record = self.txm.send(step.call(self, job), key=key, job_id=job.job_id)
        except TxReverted as err:
            if self._landed_on_chain(step, job):  # ours landed unseen (a restart), or the job is over
                return self._land(step, job)
            return step.refused(self, job, err)
        self.metrics.txs.labels(step.name).inc()
        extra = {"job_id": job.job_id, "tx_hash": HexBytes(record.hash).to_0x_hex()}
        log.info("%s sent", step.name, extra={**extra, "cid": job.result_cid} if step is REVEAL else extra)
        if not move or job.state == step.waiting:
            return True
        return self.ledger.transition(job.job_id, job.state, step.waiting)

    def _settle(self, step: TxStep, job: JobRecord) -> bool:
        """In ``step.waiting``: wait for the attempt; once it landed (or the chain shows its effect) move
        to ``step.landed``; when it is gone (dropped, reverted, never sent) go back to ``step.retry_from``
        or, without one, send it again."""
        attempt = self._attempt(self._base_key(step, job))
        if attempt is Attempt.PENDING:
            return False
        if attempt is Attempt.LANDED or self._landed_on_chain(step, job):
            return self._land(step, job)
        if step.retry_from is not None:
            return self.ledger.transition(job.job_id, step.waiting, step.retry_from)
        return self._send(step, job)

    def _landed_on_chain(self, step: TxStep, job: JobRecord) -> bool:
        """Whether the chain shows ``step`` done for this worker (for finalize: the job is over)."""
        if step.done is None:
            return self.contracts.get_job(job.job_id).phase.terminal
        return step.done(self.contracts.worker_entry(job.job_id, self.me))

    def _land(self, step: TxStep, job: JobRecord) -> bool:
        if step.landed == JobState.DONE:
            view = self.contracts.get_job(job.job_id)
            if view.round > job.round and not view.phase.terminal:
                return self._escalated(job, view)  # our finalize closed a disputed round: it escalated
            return self._done(job, view.phase)
        return self.ledger.transition(job.job_id, job.state, step.landed)

    def _base_key(self, step: TxStep, job: JobRecord) -> str:
        """The idempotency key of ``step`` for ``job`` (``reveal_and_finalize:7``), or the key under an
        earlier name of the step (``reveal:7``) when the ledger already holds an attempt under that one:
        a worker restarted on an older ledger follows its attempt instead of sending another."""
        for name in step.legacy_names:
            legacy = f"{name}:{job.job_id}"
            if self.txm.store.tx(legacy) is not None:
                return legacy
        return f"{step.name}:{job.job_id}"

    def _live_key(self, base: str) -> str:
        """The idempotency key of the current attempt of ``base`` (``claim:7``): ``base`` itself, or
        ``base#n`` once every earlier attempt was dropped, reverted or refused."""
        key, n = base, 1
        while (record := self.txm.store.tx(key)) is not None and record.status in GONE:
            n += 1
            key = f"{base}#{n}"
        return key

    def _attempt(self, base: str) -> Attempt:
        """How the current attempt of ``base`` stands, after checking the chain for its receipt."""
        key = self._live_key(base)
        if self.txm.store.tx(key) is None:
            return Attempt.NONE
        record = self.txm.status(key)
        if record is None or record.status in GONE:
            return Attempt.NONE
        return Attempt.LANDED if record.status in MINED else Attempt.PENDING

    def _done(self, job: JobRecord, phase: Phase) -> bool:
        outcome = phase.name.lower()
        self._finalize_turns.pop(job.job_id, None)
        self._settlement_checks.pop(job.job_id, None)
        self._challenge_ends.pop(job.job_id, None)
        self._selection.pop(job.job_id, None)
        if self.ledger.transition(job.job_id, job.state, JobState.DONE, outcome=outcome):
            self.metrics.jobs.labels(outcome).inc()
            log.info("job %d is %s", job.job_id, outcome, extra={"job_id": job.job_id})
        return True

    _steps: dict[JobState, Callable[[Pipeline, JobRecord], bool]] = {
        JobState.SEEN: _decide,
        JobState.CLAIMED: _compute,
        JobState.COMPUTED: _upload,
        JobState.UPLOADED: _commit,
        JobState.COMMITTED: _reveal,
        JobState.REVEALED: _finalize,
        JobState.ESCALATED: _await_settlement,
    }

    # ------------------------------------------------------------------ emission
    def claim_emission(self) -> int:
        """Claim this worker's emission for ended epochs in which it was paid; returns epochs claimed."""
        current = self.contracts.current_epoch()
        jobs = [
            j for j in self.ledger.jobs([JobState.DONE]) if j.epoch is not None and not j.emission_claimed
        ]
        epochs = sorted({j.epoch for j in jobs if j.epoch < current})  # type: ignore[operator]
        pending = [e for e in epochs if self.contracts.points_of(self.me, e) > 0]
        settled = set(epochs) - set(pending)
        for j in jobs:
            if j.epoch in settled:
                self.ledger.update_job(j.job_id, emission_claimed=True)
        if not pending:
            return 0
        batch = pending[:32]
        key = "emission:" + ",".join(str(e) for e in batch)
        try:
            record = self.txm.send(self.contracts.claim_emission(batch), key=key)
        except TxReverted as err:
            log.warning("emission claim for epochs %s refused: %s", batch, err.reason)
            return 0
        self.metrics.txs.labels("emission").inc()
        log.info(
            "emission claimed for epochs %s", batch, extra={"tx_hash": HexBytes(record.hash).to_0x_hex()}
        )
        return len(batch)

    # ------------------------------------------------------------------ helpers
    def _job_dir(self, job_id: int) -> Path:
        path = self.jobs_dir / str(job_id)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _spec(self, job: JobRecord) -> SpecSummary:
        """The job's spec: fetched once (bounded), checked against the event's sha256, kept on disk, and
        parsed once per digest (the parsed spec is cached by it for the job's later steps)."""
        with self._specs_lock:
            cached = self._specs.get(job.spec_digest)
            if cached is not None:
                self._specs.move_to_end(job.spec_digest)
                return cached
        path = self._job_dir(job.job_id) / "spec.json"
        if path.exists():
            raw = path.read_bytes()
        else:
            try:
                raw = self.ipfs.cat(
                    job.spec_cid, max_bytes=SPEC_MAX_BYTES, timeout_s=self.policy.ipfs_timeout_s
                )
            except InputTooLarge as err:
                raise SpecTooLarge(f"the spec at {job.spec_cid} is too large: {err}") from None
        digest = hashlib.sha256(raw).digest()
        if digest != job.spec_digest:
            raise SpecDigestMismatch(
                f"the spec at {job.spec_cid} hashes to {digest.hex()}, "
                f"but the job names {job.spec_digest.hex()}"
            )
        if not path.exists():
            path.write_bytes(raw)
        summary = self.compute.parse(raw)
        with self._specs_lock:
            self._specs[digest] = summary
            while len(self._specs) > SPEC_CACHE_SIZE:
                self._specs.popitem(last=False)
        return summary

    def _inputs(self, job: JobRecord, summary: SpecSummary, *, check: bool) -> dict[str, Path]:
        """The job's input files, fetched once each (bounded, verified against their CIDs, written
        atomically) into the job folder; with ``check``, then checked by the compute layer (safetensors,
        never pickle): once, before the claim."""
        inputs_dir = self._job_dir(job.job_id) / "inputs"
        inputs_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        inputs: dict[str, Path] = {}
        for name, cid in summary.input_cids.items():
            dest = inputs_dir / cid
            if not dest.exists():
                self.ipfs.cat_to_file(
                    cid, dest, max_bytes=self.policy.max_input_bytes, timeout_s=self.policy.ipfs_timeout_s
                )
            inputs[name] = dest
        if check:
            self.compute.check_inputs(summary, inputs)
        self.metrics.stage_seconds.labels("fetch").observe(time.monotonic() - started)
        return inputs

    def _gas_price(self) -> int:
        return min(self.txm.fees.max_fee_wei, self.txm.base_fee() + self.txm.fees.priority_fee_wei)


# The four transactions of a job. `Pipeline._send` sends any of them, `Pipeline._settle` follows any of
# them in its ``waiting`` state; the state handlers above only decide *whether* to send.
CLAIM = TxStep(
    "claim",
    JobState.CLAIMING,
    JobState.CLAIMED,
    call=lambda p, job: p.contracts.claim(job.job_id),
    done=lambda entry: entry.claimed,
    refused=Pipeline._claim_refused,
)
COMMIT = TxStep(
    "commit",
    JobState.COMMITTING,
    JobState.COMMITTED,
    call=lambda p, job: p.contracts.commit(job.job_id, p._commitment(job)),  # the same on every attempt
    done=lambda entry: entry.committed,
    refused=lambda p, job, err: p._fail(job, "E_COMMIT_REJECTED", err.reason),
)
REVEAL = TxStep(
    "reveal_and_finalize",  # the last reveal owed settles the job: no finalize transaction then
    JobState.REVEALING,
    JobState.REVEALED,
    call=lambda p, job: _escalated_headroom(
        job,
        p.contracts.reveal_and_finalize(
            job.job_id, job.result_digest or b"", job.result_cid or "", job.salt or b"", _claimants_bound(job)
        ),
    ),  # headroom for a settlement of every claimant (the estimate may not see it)
    done=lambda entry: entry.revealed,
    refused=Pipeline._reveal_refused,
    retry_from=JobState.COMMITTED,  # check the phase again before another reveal
    legacy_names=("reveal",),  # a ledger written before reveal_and_finalize: its attempt is still ours
)
FINALIZE = TxStep(
    "finalize",
    JobState.FINALIZING,
    JobState.DONE,
    call=lambda p, job: p.contracts.finalize(job.job_id, _claimants_bound(job)),  # every claimant
    done=None,
    refused=lambda p, job, err: False,  # reveals pending: look again later
    retry_from=JobState.REVEALED,  # lost or reverted: take the turn again (someone else's may have won)
)
TX_STEPS = (CLAIM, COMMIT, REVEAL, FINALIZE)
WAITING = {step.waiting: step for step in TX_STEPS}


def _claimants_bound(job: JobRecord) -> int:
    """At most how many workers a settlement of ``job`` pays or slashes: its replicas in round 0; in an
    escalated round every earlier round's claimants too (all slots, at most)."""
    return job.replicas if job.round == 0 else MAX_REPLICAS


def _escalated_headroom(job: JobRecord, call: Call) -> Call:
    """An escalated round's settling reveal also slashes with a bounty and pays up to 8 workers: twice the
    8-claimant headroom (a round-1 reveal with 538,900 of headroom ran out of gas in the e2e escalation
    test). Unused gas is not charged: only the limit grows."""
    return call if job.round == 0 else replace(call, headroom=2 * call.headroom)


def _round_of(view: JobView) -> EscalatedRound:
    """The current round of a job as `get_job` shows it, for `Ledger.escalate`."""
    return EscalatedRound(
        job_id=view.job_id,
        round=view.round,
        replicas=view.replicas,
        quorum=view.quorum,
        claim_deadline=view.claim_deadline,
        commit_deadline=view.commit_deadline,
        reveal_deadline=view.reveal_deadline,
    )
