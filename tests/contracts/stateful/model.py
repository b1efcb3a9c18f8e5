"""A small Python model of Tessera's four contracts: what every balance, stake, lock, job and epoch must be.

The model is written from docs/SPEC.md and DESIGN §2, not from the Vyper source: each method either
returns the revert reason the contract must give, or applies the effect of a successful call. The
stateful test runs it beside the real contracts and compares the two after every step.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from eth_abi import encode
from eth_utils import keccak

from offchain.chain.protocol import BPS, Phase, SlashReason

REASON_WRONG_RESULT = SlashReason.WRONG_RESULT
REASON_LIVENESS = SlashReason.LIVENESS
REASON_WITHHELD = SlashReason.WITHHELD
ZERO = "0x0000000000000000000000000000000000000000"
RESULT_CID = "bafkreiresult"  # the CID every modelled worker commits to and reveals
ALREADY_SETTLED = "already settled"  # finalize of a Completed or Failed job: a no-op that logs, not a revert

MAX_LOCKS = 8
MAX_CLAIM_EPOCHS = 32
# JobRegistry's selection and escalation ladder (SPEC §1, contracts/modules/constants.vy)
MAX_REPLICAS = 8  # slots per job, every round together
MIN_ESCALATION_REPLICAS = 3
ESCALATION_STEP = 2
MAX_ROUND = 2
SELECTION_WIDENING = 15
SEED_SHIFT = 218  # a round's seed is the top 38 bits of keccak256(abi_encode(prevrandao, job_id, round))
NEVER = 2**256 - 1  # selected_at of an operator without stake

# JobRegistry phases: stored states plus COMMITTING and REVEALING, derived from time and counts.
UNKNOWN, OPEN, CLAIMED, COMMITTING, REVEALING, COMPLETED, FAILED, CANCELLED, EXPIRED = tuple(Phase)
TERMINAL = frozenset({COMPLETED, FAILED, CANCELLED, EXPIRED})
PHASE_NAMES = {
    UNKNOWN: "unknown",
    OPEN: "open",
    CLAIMED: "claimed",
    COMMITTING: "committing",
    REVEALING: "revealing",
    COMPLETED: "completed",
    FAILED: "failed",
    CANCELLED: "cancelled",
    EXPIRED: "expired",
}
# Every phase a job may be observed in after `phase` (itself included): DESIGN §2.2, and nothing else.
# Observations are per step, and one step of time may cross several deadlines, so these are the
# forward-reachable sets of the lifecycle graph; terminal phases reach only themselves. An escalation
# opens a new round (CLAIMED again), so every in-progress phase reaches every other.
IN_PROGRESS = {CLAIMED, COMMITTING, REVEALING, COMPLETED, FAILED}
REACHABLE = {
    OPEN: {OPEN, CLAIMED, COMMITTING, REVEALING, COMPLETED, FAILED, CANCELLED, EXPIRED},
    CLAIMED: IN_PROGRESS,
    COMMITTING: IN_PROGRESS,
    REVEALING: IN_PROGRESS,
    **{phase: {phase} for phase in TERMINAL},
}


@dataclass(frozen=True)
class Params:
    """Deployment parameters, read from the chain once."""

    chain_id: int
    registry: str
    min_stake: int
    unbonding_period: int
    jail_period: int
    slash_reward_bps: int
    protocol_fee_bps: int
    wrong_result_slash_bps: int
    liveness_slash_bps: int
    genesis_time: int
    epoch_length: int
    initial_emission: int
    halving_epochs: int
    selection_factor: int

    @classmethod
    def from_chain(cls, protocol, chain_id: int) -> Params:
        s, r, e = protocol.staking, protocol.registry, protocol.emitter
        return cls(
            chain_id=chain_id,
            registry=str(r.address),
            min_stake=s.min_stake(),
            unbonding_period=s.unbonding_period(),
            jail_period=s.jail_period(),
            slash_reward_bps=s.slash_reward_bps(),
            protocol_fee_bps=r.protocol_fee_bps(),
            wrong_result_slash_bps=r.wrong_result_slash_bps(),
            liveness_slash_bps=r.liveness_slash_bps(),
            genesis_time=e.GENESIS(),
            epoch_length=e.EPOCH_LENGTH(),
            initial_emission=e.INITIAL_EMISSION(),
            halving_epochs=e.HALVING_EPOCHS(),
            selection_factor=r.selection_factor(),
        )


@dataclass
class Lock:
    amount: int = 0
    withdrawable_at: int = 0


@dataclass
class Operator:
    registered: bool = False
    bonded: int = 0  # includes `locked`
    locked: int = 0
    jailed_until: int = 0
    dipped: bool = False  # a slash took collateral locked by another job
    locks: list[Lock] = field(default_factory=lambda: [Lock() for _ in range(MAX_LOCKS)])


def round_seed(randao: bytes, job_id: int, round_: int) -> int:
    """A round's selection seed, drawn when the round opens (SPEC §1)."""
    return int.from_bytes(
        keccak(encode(["bytes32", "uint256", "uint256"], [randao, job_id, round_])), "big"
    ) >> (SEED_SHIFT)


@dataclass
class Job:
    job_id: int
    requester: str
    fee: int
    replicas: int  # of the current round, like quorum and the deadlines
    quorum: int
    collateral: int
    claim_deadline: int
    commit_deadline: int
    reveal_deadline: int
    terms: tuple[int, int, int]  # protocol fee, wrong-result and liveness slash bps in force at posting
    windows: tuple[int, int, int]  # claim, commit, reveal
    seed: int  # the current round's selection seed
    base: int = 0  # round 0's slots: its posted replicas, then (from the first escalation) its claimants
    round: int = 0
    first: int = 0  # slot where the current round starts
    state: int = OPEN  # stored state: OPEN, CLAIMED or terminal
    claimants: list[str] = field(default_factory=list)  # every round, in slot order
    commitments: dict[str, bytes] = field(default_factory=dict)
    revealed: dict[str, bytes] = field(default_factory=dict)
    # settlement, filled once: what left escrow and where to
    paid: int = 0
    refunded: int = 0
    protocol_fee: int = 0

    @property
    def round_claimants(self) -> list[str]:
        return self.claimants[self.first :]

    def round_commits(self) -> int:
        return sum(op in self.commitments for op in self.round_claimants)

    def round_reveals(self) -> dict[str, bytes]:
        return {op: self.revealed[op] for op in self.round_claimants if op in self.revealed}

    def claims_closed(self, now: int) -> bool:
        return len(self.round_claimants) == self.replicas or now >= self.claim_deadline

    def reveal_open(self, now: int) -> bool:
        if now >= self.commit_deadline:
            return True
        return self.claims_closed(now) and self.round_commits() == len(self.round_claimants)

    def tally(self) -> tuple[bytes | None, int, bool]:
        """The current round's vote: (winner with a quorum or None, its votes, disputed). Disputed: the
        round has reveals and either no quorum or a reveal other than the winner."""
        reveals = self.round_reveals()
        votes = Counter(reveals.values())
        winners = [digest for digest, n in votes.items() if n >= self.quorum]
        assert len(winners) <= 1, "model: two digests reached a strict-majority quorum"
        winner = winners[0] if winners else None
        agreeing = votes[winner] if winner else 0
        return winner, agreeing, agreeing != len(reveals)

    def tally_all(self) -> bytes | None:
        """Every round's reveals together: the digest a strict majority of them revealed, if any."""
        votes = Counter(self.revealed.values())
        return next((d for d, n in votes.items() if 2 * n > len(self.revealed)), None)

    def can_escalate(self) -> bool:
        return self.round < MAX_ROUND and MAX_REPLICAS - len(self.claimants) >= MIN_ESCALATION_REPLICAS

    def phase(self, now: int) -> int:
        if self.state != CLAIMED:
            return self.state
        if self.reveal_open(now):
            return REVEALING
        if self.claims_closed(now):
            return COMMITTING
        return CLAIMED


@dataclass
class Slash:
    job_id: int
    operator: str
    reason: int
    amount: int  # taken
    reward: int
    burned: int
    beneficiary: str


@dataclass
class Settlement:
    """What one finalize/cancel/expire moved; the test compares it with the call's events."""

    state: int
    payouts: list[tuple[str, int]] = field(default_factory=list)
    protocol_fee: int = 0
    refunded: int = 0
    slashes: list[Slash] = field(default_factory=list)
    bounty: int = 0  # slash rewards the registry received and paid on to the escalation rounds
    escalated: bool = False  # the call opened a new round instead of settling


def commitment(
    chain_id: int, registry: str, job_id: int, worker: str, digest: bytes, salt: bytes, cid: str = RESULT_CID
) -> bytes:
    """keccak256(abi_encode(chain_id, registry, job_id, worker, result_digest, keccak256(result_cid), salt)),
    as in SPEC §1."""
    return keccak(
        encode(
            ["uint256", "address", "uint256", "address", "bytes32", "bytes32", "bytes32"],
            [chain_id, registry, job_id, worker, digest, keccak(text=cid), salt],
        )
    )


class ProtocolModel:
    """Balances, stake, jobs and emission as the spec says they must be."""

    def __init__(
        self, params: Params, staking: str, registry: str, emitter: str, balances: dict[str, int], supply: int
    ):
        self.p = params
        self.staking, self.registry, self.emitter = staking, registry, emitter
        self.balances: dict[str, int] = defaultdict(int, balances)
        self.initial_supply = supply
        self.supply = supply
        self.minted = 0
        self.burned = 0
        self.operators: dict[str, Operator] = defaultdict(Operator)
        self.slashed: set[tuple[int, str, int]] = set()
        self.jobs: dict[int, Job] = {}
        self.points: dict[tuple[str, int], int] = defaultdict(int)  # unclaimed points
        self.earners: dict[int, set[str]] = defaultdict(set)  # epoch -> operators that earned points in it
        self.epoch_points: dict[int, int] = defaultdict(int)
        self.epoch_burned: dict[int, int] = defaultdict(int)
        self.claimed: dict[tuple[str, int], int] = defaultdict(int)

    # ------------------------------------------------------------ token
    def _move(self, src: str, dst: str, amount: int) -> None:
        assert self.balances[src] >= amount, f"model: {src} cannot pay {amount}"
        self.balances[src] -= amount
        self.balances[dst] += amount

    def _burn(self, holder: str, amount: int) -> None:
        assert self.balances[holder] >= amount
        self.balances[holder] -= amount
        self.supply -= amount
        self.burned += amount

    def _mint(self, to: str, amount: int) -> None:
        self.balances[to] += amount
        self.supply += amount
        self.minted += amount

    # ------------------------------------------------------------ epochs
    def epoch_at(self, now: int) -> int:
        return (now - self.p.genesis_time) // self.p.epoch_length

    def epoch_end(self, epoch: int) -> int:
        """The first second of the next epoch."""
        return self.p.genesis_time + (epoch + 1) * self.p.epoch_length

    def schedule(self, epoch: int) -> int:
        halvings = epoch // self.p.halving_epochs
        return 0 if halvings >= 128 else self.p.initial_emission >> halvings

    def emission(self, epoch: int) -> int:
        return min(self.schedule(epoch), self.epoch_burned[epoch])

    def claimable(self, operator: str, epoch: int) -> int:
        points = self.points[(operator, epoch)]
        if points == 0:
            return 0
        return self.emission(epoch) * points // self.epoch_points[epoch]

    # ------------------------------------------------------------ Staking
    def eligible(self, op: str, now: int) -> bool:
        o = self.operators[op]
        return o.registered and now >= o.jailed_until and o.bonded >= self.p.min_stake

    def register(self, op: str) -> None:
        self.operators[op].registered = True

    def stake_reason(self, op: str, amount: int) -> str | None:
        if not self.operators[op].registered:
            return "staking: not registered"
        if amount == 0:
            return "staking: zero amount"
        return None

    def stake(self, op: str, amount: int) -> None:
        self._move(op, self.staking, amount)
        self.operators[op].bonded += amount

    def request_unstake_reason(self, op: str, amount: int) -> str | None:
        o = self.operators[op]
        if amount == 0:
            return "staking: zero amount"
        if amount > o.bonded - o.locked:
            return "staking: amount above free stake"
        if all(lock.amount > 0 for lock in o.locks):
            return "staking: too many unbonding locks"
        return None

    def request_unstake(self, op: str, amount: int, now: int) -> int:
        o = self.operators[op]
        lock_id = next(i for i, lock in enumerate(o.locks) if lock.amount == 0)
        o.locks[lock_id] = Lock(amount, now + self.p.unbonding_period)
        o.bonded -= amount
        return lock_id

    def _lock_reason(self, op: str, lock_id: int) -> str | None:
        if lock_id >= MAX_LOCKS or self.operators[op].locks[lock_id].amount == 0:
            return "staking: no such lock"
        return None

    def cancel_unstake_reason(self, op: str, lock_id: int) -> str | None:
        return self._lock_reason(op, lock_id)

    def cancel_unstake(self, op: str, lock_id: int) -> None:
        o = self.operators[op]
        o.bonded += o.locks[lock_id].amount
        o.locks[lock_id] = Lock()

    def withdraw_reason(self, op: str, lock_id: int, now: int) -> str | None:
        reason = self._lock_reason(op, lock_id)
        if reason is None and now < self.operators[op].locks[lock_id].withdrawable_at:
            return "staking: still unbonding"
        return reason

    def withdraw(self, op: str, lock_id: int) -> int:
        o = self.operators[op]
        amount = o.locks[lock_id].amount
        o.locks[lock_id] = Lock()
        self._move(self.staking, op, amount)
        return amount

    def _unlock(self, op: str, amount: int) -> None:
        o = self.operators[op]
        o.locked -= min(amount, o.locked)

    def _slash(self, op: str, amount: int, job_id: int, reason: int, beneficiary: str, now: int) -> Slash:
        """Staking.slash: free bonded stake, then unbonding locks in slot order, then other collateral."""
        key = (job_id, op, reason)
        assert key not in self.slashed, f"model: {key} slashed twice"
        self.slashed.add(key)
        o = self.operators[op]
        remaining = amount
        take = min(remaining, o.bonded - o.locked)
        o.bonded -= take
        remaining -= take
        for lock in o.locks:
            if remaining == 0:
                break
            take = min(remaining, lock.amount)
            lock.amount -= take
            remaining -= take
        take = min(remaining, o.locked)
        o.locked -= take
        o.bonded -= take
        remaining -= take
        o.dipped = o.dipped or take > 0
        taken = amount - remaining
        reward = taken * self.p.slash_reward_bps // BPS if beneficiary != ZERO else 0
        burned = taken - reward
        if reward:
            self._move(self.staking, beneficiary, reward)
        self._burn(self.staking, burned)
        if reason != REASON_LIVENESS:  # a wrong or withheld result jails
            o.jailed_until = now + self.p.jail_period
        return Slash(job_id, op, reason, taken, reward, burned, beneficiary)

    def locks_total(self) -> int:
        return sum(lock.amount for o in self.operators.values() for lock in o.locks)

    def bonded_total(self) -> int:
        return sum(o.bonded for o in self.operators.values())

    # ------------------------------------------------------------ JobRegistry
    def post_job(
        self,
        requester: str,
        fee: int,
        replicas: int,
        quorum: int,
        collateral: int,
        windows: tuple[int, int, int],
        now: int,
        randao: bytes = bytes(32),
    ) -> int:
        claim_window, commit_window, reveal_window = windows
        job_id = len(self.jobs) + 1
        self.jobs[job_id] = Job(
            job_id=job_id,
            requester=requester,
            fee=fee,
            replicas=replicas,
            quorum=quorum,
            collateral=collateral,
            claim_deadline=now + claim_window,
            commit_deadline=now + claim_window + commit_window,
            reveal_deadline=now + claim_window + commit_window + reveal_window,
            terms=(self.p.protocol_fee_bps, self.p.wrong_result_slash_bps, self.p.liveness_slash_bps),
            windows=windows,
            seed=round_seed(randao, job_id, 0),
            base=replicas,
        )
        self._move(requester, self.registry, fee)
        return job_id

    def _state(self, job_id: int) -> int:
        job = self.jobs.get(job_id)
        return UNKNOWN if job is None else job.state

    def selected_at(self, job_id: int, op: str) -> int:
        """When `op` passes the stake-weighted selection of the job's current round (SPEC §1): ticket x
        total x window < k x stake x 2^64 x (window + 15 x (t - opened)), k = replicas x factor."""
        job = self.jobs[job_id]
        stake, total = self.operators[op].bonded, self.bonded_total()
        if stake == 0:
            return NEVER
        ticket = (
            int.from_bytes(
                keccak(
                    encode(["uint256", "uint256", "uint256", "address"], [job.seed, job_id, job.round, op])
                ),
                "big",
            )
            >> 192
        )
        window = job.windows[0]
        opened = job.claim_deadline - window
        need = ticket * total * window
        have = (job.replicas * self.p.selection_factor * stake) << 64
        if have * window > need:
            return opened
        return opened + (need - have * window) // (have * SELECTION_WIDENING) + 1

    def claim_reason(self, job_id: int, op: str, now: int) -> str | None:
        if self._state(job_id) not in (OPEN, CLAIMED):
            return "registry: job not claimable"
        job = self.jobs[job_id]
        if now >= job.claim_deadline:
            return "registry: claim window closed"
        if len(job.round_claimants) >= job.replicas:
            return "registry: all replicas claimed"
        if op in job.claimants:
            return "registry: already claimed"
        if now < self.selected_at(job_id, op):
            return "registry: not selected for this job yet (see selected_at)"
        if not self.eligible(op, now):
            return "staking: operator not eligible"
        o = self.operators[op]
        if o.locked + job.collateral > o.bonded:
            return "staking: free stake below collateral"
        return None

    def claim(self, job_id: int, op: str) -> None:
        job = self.jobs[job_id]
        self.operators[op].locked += job.collateral
        job.claimants.append(op)
        job.state = CLAIMED

    def commit_reason(self, job_id: int, op: str, now: int) -> str | None:
        if self._state(job_id) != CLAIMED:
            return "registry: job not in progress"
        job = self.jobs[job_id]
        if now >= job.commit_deadline:
            return "registry: commit deadline passed"
        if op not in job.claimants:
            return "registry: caller did not claim this job"
        if op not in job.round_claimants:
            return "registry: claimed in an earlier round"
        if op in job.commitments:
            return "registry: already committed"
        return None

    def commit(self, job_id: int, op: str, sealed: bytes) -> None:
        self.jobs[job_id].commitments[op] = sealed

    def reveal_reason(self, job_id: int, op: str, digest: bytes, salt: bytes, now: int) -> str | None:
        if self._state(job_id) != CLAIMED:
            return "registry: job not in progress"
        job = self.jobs[job_id]
        if not job.reveal_open(now):
            return "registry: reveal not open"
        if now >= job.reveal_deadline:
            return "registry: reveal deadline passed"
        if op not in job.claimants:
            return "registry: caller did not claim this job"
        if op not in job.round_claimants:
            return "registry: claimed in an earlier round"
        if op not in job.commitments:
            return "registry: no commitment"
        if op in job.revealed:
            return "registry: already revealed"
        if job.commitments[op] != commitment(self.p.chain_id, self.p.registry, job_id, op, digest, salt):
            return "registry: reveal does not match commitment"
        return None

    def reveal(self, job_id: int, op: str, digest: bytes) -> None:
        self.jobs[job_id].revealed[op] = digest

    def finalize_reason(self, job_id: int, now: int) -> str | None:
        if self._state(job_id) in (COMPLETED, FAILED):
            return ALREADY_SETTLED
        if self._state(job_id) != CLAIMED:
            return "registry: job not in progress"
        job = self.jobs[job_id]
        if not job.reveal_open(now):
            return "registry: reveal not open"
        if len(job.round_reveals()) != job.round_commits() and now < job.reveal_deadline:
            return "registry: reveals pending"
        if job.tally()[2] and job.can_escalate() and now < job.reveal_deadline:
            return "registry: reveals disagree; the round escalates at its reveal deadline"
        return None

    def escalate(self, job: Job, now: int, randao: bytes) -> Settlement:
        """A new round: fresh slots after every earlier claimant, two more replicas (as slots allow), a
        majority quorum, new windows from now and a new seed."""
        if job.round == 0:
            job.base = len(job.claimants)  # round 0 as it ran: every later slot is an escalation slot
        job.round += 1
        job.first = len(job.claimants)
        job.replicas = min(job.replicas + ESCALATION_STEP, MAX_REPLICAS - len(job.claimants))
        job.quorum = job.replicas // 2 + 1
        claim_window, commit_window, reveal_window = job.windows
        job.claim_deadline = now + claim_window
        job.commit_deadline = job.claim_deadline + commit_window
        job.reveal_deadline = job.commit_deadline + reveal_window
        job.seed = round_seed(randao, job.job_id, job.round)
        return Settlement(CLAIMED, escalated=True)

    def finalize(self, job_id: int, now: int, randao: bytes = bytes(32)) -> Settlement:
        """Close the current round: escalate a disputed one while the ladder allows, else settle the job on
        the round's winner. Slashes first (in an escalated job half of each wrong or withheld slash comes
        to the registry), then the pool and that bounty are paid."""
        job = self.jobs[job_id]
        winner, _, disputed = job.tally()
        if disputed and job.can_escalate():
            return self.escalate(job, now, randao)
        # The last round proves a result only with its own quorum; without one, an escalated job completes
        # unproven on a strict majority of every round's reveals that a round-0 revealer and an escalation
        # round's revealer both revealed: nobody slashed for revealing, no bounty, only round 0's revealers
        # of it paid, each at most a round-0 replica's share of the pool (the rest refunded).
        proven = True
        if winner is None and job.round > 0:
            winner, proven = job.tally_all(), False
            later = any(job.revealed.get(w) == winner for w in job.claimants[job.base :])
            first = any(job.revealed.get(w) == winner for w in job.claimants[: job.base])
            if not (later and first):
                winner = None
        c = job.collateral
        protocol_fee_bps, wrong_bps, liveness_bps = job.terms
        job.state = COMPLETED if winner else FAILED
        out = Settlement(job.state, refunded=0 if winner else job.fee)
        bounty_to = self.registry if job.round > 0 and proven else ZERO
        agreeing = [w for w in job.claimants if winner and job.revealed.get(w) == winner]
        for worker in job.claimants:
            self._unlock(worker, c)
            if worker in agreeing:
                continue
            if worker in job.revealed:
                if not winner or not proven:
                    continue  # without a final quorum no revealer is wrong
                amount, reason, to = c * wrong_bps // BPS, REASON_WRONG_RESULT, bounty_to
            elif worker in job.commitments:
                amount, reason, to = c * wrong_bps // BPS, REASON_WITHHELD, bounty_to if winner else ZERO
            else:
                amount, reason, to = c * liveness_bps // BPS, REASON_LIVENESS, ZERO
            slash = self._slash(worker, amount, job_id, reason, to, now)
            out.slashes.append(slash)
            out.bounty += slash.reward
        if not winner:
            self._move(self.registry, job.requester, job.fee)
            job.refunded = job.fee
            return out

        protocol_fee = job.fee * protocol_fee_bps // BPS
        pool = job.fee - protocol_fee
        escalation = [w for w in agreeing if job.claimants.index(w) >= job.base]
        # unproven: the escalation rounds' confirmers are not paid from the pool (nor earn points)
        payees = agreeing if proven else [w for w in agreeing if w not in escalation]
        share = pool // len(payees)
        refund = 0
        if not proven:
            share = min(share, pool // job.base)
            refund = pool - share * len(payees)
        bounty_share = out.bounty // len(escalation) if escalation else 0
        assert escalation or out.bounty == 0, "model: a bounty with nobody to pay it"
        for n, worker in enumerate(payees):
            amount = share + (pool - share * len(payees) - refund if n == 0 else 0)
            if worker in escalation:
                amount += bounty_share + (
                    out.bounty - bounty_share * len(escalation) if worker == escalation[0] else 0
                )
            out.payouts.append((worker, amount))
            self._move(self.registry, worker, amount)

        self._move(self.registry, job.requester, refund)
        out.refunded = job.refunded = refund
        out.protocol_fee = protocol_fee
        self._burn(self.registry, protocol_fee)
        epoch = self.epoch_at(now)
        point_share = protocol_fee // len(payees)
        for n, worker in enumerate(payees):
            # points: the burned protocol fee, split like the pool (the first takes the remainder)
            earned = point_share + (protocol_fee - point_share * len(payees) if n == 0 else 0)
            self.points[(worker, epoch)] += earned
            self.earners[epoch].add(worker)
            self.epoch_points[epoch] += earned
        self.epoch_burned[epoch] += protocol_fee
        job.paid = pool - refund
        job.protocol_fee = protocol_fee
        return out

    def cancel_reason(self, job_id: int, sender: str) -> str | None:
        if self._state(job_id) != OPEN:
            return "registry: job not open"
        if sender != self.jobs[job_id].requester:
            return "registry: caller is not the requester"
        return None

    def expire_reason(self, job_id: int, now: int) -> str | None:
        if self._state(job_id) != OPEN:
            return "registry: job not open"
        if now < self.jobs[job_id].claim_deadline:
            return "registry: claim window still open"
        return None

    def close_unclaimed(self, job_id: int, state: int) -> Settlement:
        job = self.jobs[job_id]
        job.state = state
        job.refunded = job.fee
        self._move(self.registry, job.requester, job.fee)
        return Settlement(state, refunded=job.fee)

    def escrow(self) -> int:
        return sum(job.fee for job in self.jobs.values() if job.state not in TERMINAL)

    # ------------------------------------------------------------ RewardEmitter
    def claim_emission_reason(self, epochs: list[int], now: int) -> str | None:
        current = self.epoch_at(now)
        if any(epoch >= current for epoch in epochs):
            return "emitter: epoch not ended"
        return None

    def claim_emission(self, op: str, epochs: list[int]) -> int:
        total = 0
        for epoch in epochs:
            if self.points[(op, epoch)] == 0:
                continue
            amount = self.claimable(op, epoch)
            self.points[(op, epoch)] = 0
            self.claimed[(op, epoch)] += amount
            total += amount
        self._mint(op, total)
        return total

    def minted_bound(self, now: int) -> tuple[int, int]:
        """(Σ emission, Σ schedule) over the epochs that have ended."""
        ended = range(self.epoch_at(now))
        return sum(self.emission(e) for e in ended), sum(self.schedule(e) for e in ended)
