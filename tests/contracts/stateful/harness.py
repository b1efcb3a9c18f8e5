"""The stateful suite's harness: a deployed protocol with its actors, and a Driver that makes every call on
chain and in the model in lockstep, expects the model's revert reason when the model says a call must fail,
checks each settlement's events, and compares chain and model (DESIGN §2.4) on demand.

The end-to-end flows reuse it where a story needs the full accounting (the drain test).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import boa
from hypothesis import control, event

from tests.contracts.conftest import CONTRACTS, TSR, Protocol, deploy_protocol
from tests.contracts.stateful.model import (
    ALREADY_SETTLED,
    CANCELLED,
    CLAIMED,
    EXPIRED,
    MAX_CLAIM_EPOCHS,
    MAX_LOCKS,
    OPEN,
    PHASE_NAMES,
    REACHABLE,
    RESULT_CID,
    TERMINAL,
    Params,
    ProtocolModel,
    commitment,
)

MAX_UINT256 = 2**256 - 1
HONEST, WRONG, COPY = "honest", "wrong", "copy"

# Dust the drain may leave, in wei. Staking and JobRegistry split fees and slashes exactly (the first
# agreeing worker takes every rounding remainder) and the emitter mints straight to claimers, so all
# three contracts must end holding exactly nothing. Emission is floored per claimer, so an epoch can
# leave at most (claimers - 1) wei, strictly less than its number of claimers, unminted.
CONTRACT_DUST = 0


def note_event(text: str) -> None:
    """A hypothesis statistics event, when running under hypothesis (the drain test reuses the Driver)."""
    if control.currently_in_test_context():
        event(text)


@functools.cache
def mock_deployer(name: str):
    """Compile a test-only contract from contracts/mocks/ once per process."""
    return boa.load_partial(os.path.join(CONTRACTS, "mocks", f"{name}.vy"))


def digest_for(job_id: int, kind: str) -> bytes:
    """The result a worker computes: the job's true result, or one shared wrong one."""
    label = f"job{job_id}" if kind != WRONG else f"job{job_id}-wrong"
    return hashlib.sha256(label.encode()).digest()


def salt_for(job_id: int, worker: str) -> bytes:
    return hashlib.sha256(f"salt{job_id}{worker}".encode()).digest()


@dataclass
class World:
    """A deployed, wired protocol and funded actors named by role."""

    protocol: Protocol
    operators: list[str]
    requesters: list[str]  # build_world adds operators[0]: an operator that posts jobs too
    keeper: str  # settles jobs it has no stake in (finalize and expire are open to anyone)
    stranger: str

    @property
    def contracts(self) -> list[str]:
        p = self.protocol
        return [str(p.staking.address), str(p.registry.address), str(p.emitter.address)]

    @property
    def accounts(self) -> list[str]:
        people = dict.fromkeys([*self.operators, *self.requesters, self.keeper, self.stranger])
        return [*people, *self.contracts]


def build_world(
    deployers,
    governance: str,
    *,
    n_operators: int = 3,
    operator_funds: int = 5_000 * TSR,
    requester_funds: int = 200_000 * TSR,
    **overrides,
) -> World:
    """Deploy with default parameters (unless overridden), fund and approve every actor."""
    protocol = deploy_protocol(*deployers, governance, **overrides)
    operators = [boa.env.generate_address(f"operator{i}") for i in range(n_operators)]
    requesters = [boa.env.generate_address(f"requester{i}") for i in range(2)] + [operators[0]]
    keeper = boa.env.generate_address("keeper")
    stranger = boa.env.generate_address("stranger")
    token = protocol.token
    for account in dict.fromkeys([*operators, *requesters]):
        amount = operator_funds if account in operators else 0
        amount += requester_funds if account in requesters else 0
        with boa.env.prank(governance):
            token.transfer(account, amount)
        with boa.env.prank(account):
            token.approve(protocol.staking.address, MAX_UINT256)
            token.approve(protocol.registry.address, MAX_UINT256)
    return World(
        protocol, [str(a) for a in operators], [str(a) for a in requesters], str(keeper), str(stranger)
    )


class Driver:
    """Acts on chain and in the model together; `check()` compares them."""

    _BOOKKEEPING = (
        "model",
        "openings",
        "seen_phase",
        "dirty_ops",
        "dirty_jobs",
        "dirty_epochs",
        "checked_epoch",
    )

    def __init__(self, world: World):
        self.w = world
        p = world.protocol
        self.token, self.staking, self.registry, self.emitter = p.token, p.staking, p.registry, p.emitter
        self.model = ProtocolModel(
            Params.from_chain(p, boa.env.evm.patch.chain_id),
            *world.contracts,
            balances={account: self.token.balanceOf(account) for account in world.accounts},
            supply=self.token.totalSupply(),
        )
        for op in world.operators:
            # also proves each hypothesis example starts from the snapshot, not from the last one's end
            assert not self.staking.is_registered(op), "the world starts with unregistered operators"
        self.openings: dict[tuple[int, str], tuple[bytes, bytes]] = {}  # what each committer can reveal
        self.seen_phase: dict[int, int] = {}
        # what changed since the last check
        self.dirty_ops: set[str] = set()
        self.dirty_jobs: set[int] = set()
        self.dirty_epochs: set[int] = set()
        self.checked_epoch = 0

    # ------------------------------------------------------------ plumbing
    @property
    def now(self) -> int:
        return boa.env.timestamp

    def travel(self, seconds: int) -> None:
        boa.env.time_travel(seconds=seconds)

    def travel_to(self, timestamp: int) -> None:
        if timestamp > self.now:
            self.travel(timestamp - self.now)

    @contextlib.contextmanager
    def anchor(self) -> Iterator[None]:
        """`boa.env.anchor()` for chain and model together: both are as they were on exit."""
        kept = copy.deepcopy({name: getattr(self, name) for name in self._BOOKKEEPING})
        try:
            with boa.env.anchor():
                yield
        finally:
            for name, value in kept.items():
                setattr(self, name, value)

    @staticmethod
    def _send(sender: str, reason: str | None, fn, *args):
        with boa.env.prank(sender):
            if reason is None:
                return fn(*args)
            with boa.reverts(reason):
                fn(*args)
            return None

    # ------------------------------------------------------------ Staking
    def stake(self, op: str, amount: int) -> bool:
        m = self.model
        self.dirty_ops.add(op)
        if not m.operators[op].registered:
            self._send(op, None, self.staking.register, f"bafkrei{op[2:12].lower()}")
            m.register(op)
        reason = m.stake_reason(op, amount)
        self._send(op, reason, self.staking.stake, amount)
        if reason is None:
            m.stake(op, amount)
        return reason is None

    def request_unstake(self, op: str, amount: int) -> int | None:
        m = self.model
        self.dirty_ops.add(op)
        reason = m.request_unstake_reason(op, amount)
        lock_id = self._send(op, reason, self.staking.request_unstake, amount)
        if reason is None:
            expected = m.request_unstake(op, amount, self.now)
            assert lock_id == expected, f"lock id {lock_id} != model {expected}"
        return lock_id

    def cancel_unstake(self, op: str, lock_id: int) -> bool:
        self.dirty_ops.add(op)
        reason = self.model.cancel_unstake_reason(op, lock_id)
        self._send(op, reason, self.staking.cancel_unstake, lock_id)
        if reason is None:
            self.model.cancel_unstake(op, lock_id)
        return reason is None

    def withdraw(self, op: str, lock_id: int) -> bool:
        self.dirty_ops.add(op)
        reason = self.model.withdraw_reason(op, lock_id, self.now)
        self._send(op, reason, self.staking.withdraw, lock_id)
        if reason is None:
            self.model.withdraw(op, lock_id)
        return reason is None

    # ------------------------------------------------------------ JobRegistry
    def post_job(
        self,
        requester: str,
        fee: int,
        replicas: int,
        quorum: int,
        collateral: int,
        windows: tuple[int, int, int],
    ) -> int:
        spec_digest = hashlib.sha256(f"spec{len(self.model.jobs) + 1}".encode()).digest()
        job_id = self._send(
            requester,
            None,
            self.registry.post_job,
            "bafkreispec",
            spec_digest,
            fee,
            replicas,
            quorum,
            collateral,
            *windows,
        )
        expected = self.model.post_job(
            requester, fee, replicas, quorum, collateral, windows, self.now, boa.env.evm.patch.prevrandao
        )
        assert job_id == expected
        return job_id

    def claim(self, op: str, job_id: int) -> bool:
        self.dirty_ops.add(op)
        self.dirty_jobs.add(job_id)
        reason = self.model.claim_reason(job_id, op, self.now)
        self._send(op, reason, self.registry.claim, job_id)
        if reason is None:
            self.model.claim(job_id, op)
        return reason is None

    def commit(self, op: str, job_id: int, kind: str) -> bool:
        """Commit the job's true result, a wrong one, or a copy of another claimant's commitment."""
        m = self.model
        self.dirty_jobs.add(job_id)
        digest, salt = digest_for(job_id, kind), salt_for(job_id, op)
        sealed = commitment(m.p.chain_id, m.p.registry, job_id, op, digest, salt)
        if kind == COPY:
            job = m.jobs.get(job_id)
            others = [c for w, c in job.commitments.items() if w != op] if job else []
            if others:
                sealed = others[0]  # the copier then reveals the true result with its own salt: no match
        reason = m.commit_reason(job_id, op, self.now)
        self._send(op, reason, self.registry.commit, job_id, sealed)
        if reason is None:
            m.commit(job_id, op, sealed)
            self.openings[(job_id, op)] = (digest, salt)
        return reason is None

    def reveal(self, op: str, job_id: int) -> bool:
        self.dirty_jobs.add(job_id)
        digest, salt = self.openings.get((job_id, op), (digest_for(job_id, HONEST), salt_for(job_id, op)))
        reason = self.model.reveal_reason(job_id, op, digest, salt, self.now)
        self._send(op, reason, self.registry.reveal, job_id, digest, RESULT_CID, salt)
        if reason is None:
            self.model.reveal(job_id, op, digest)
        return reason is None

    def finalize(self, job_id: int, sender: str | None = None) -> bool:
        reason = self.model.finalize_reason(job_id, self.now)
        if reason == ALREADY_SETTLED:  # a late second finalize: succeeds, changes nothing, logs why
            self._send(sender or self.w.keeper, None, self.registry.finalize, job_id)
            names = [type(e).__name__ for e in self.registry.get_logs()]
            assert names == ["JobAlreadySettled"], f"job {job_id}: a second finalize logged {names}"
            return False
        self._send(sender or self.w.keeper, reason, self.registry.finalize, job_id)
        if reason is None:
            job = self.model.jobs[job_id]
            self.dirty_jobs.add(job_id)
            self.dirty_ops.update(job.claimants)
            self.dirty_epochs.add(self.model.epoch_at(self.now))
            fee = job.fee
            out = self.model.finalize(job_id, self.now, boa.env.evm.patch.prevrandao)
            if out.escalated:
                note_event(f"escalated to round {self.model.jobs[job_id].round}")
                self._check_escalation(job_id)
            else:
                self._check_settlement(job_id, fee, out)
                note_event(f"settled {PHASE_NAMES[out.state]} in round {job.round}")
        return reason is None

    def _check_escalation(self, job_id: int) -> None:
        """The call opened the job's next round as the model did, and moved no token."""
        logs = self.registry.get_logs()
        names = [type(e).__name__ for e in logs]
        assert names == ["JobEscalated"], f"job {job_id}: an escalating finalize logged {names}"
        job, e = self.model.jobs[job_id], logs[0]
        got = (
            e.job_id,
            e.round,
            e.replicas,
            e.quorum,
            e.claim_deadline,
            e.commit_deadline,
            e.reveal_deadline,
        )
        assert got == (
            job_id,
            job.round,
            job.replicas,
            job.quorum,
            job.claim_deadline,
            job.commit_deadline,
            job.reveal_deadline,
        ), f"job {job_id}: escalated to {got}"

    def cancel(self, job_id: int, sender: str) -> bool:
        reason = self.model.cancel_reason(job_id, sender)
        self._send(sender, reason, self.registry.cancel, job_id)
        if reason is None:
            self.dirty_jobs.add(job_id)
            fee = self.model.jobs[job_id].fee
            self._check_settlement(job_id, fee, self.model.close_unclaimed(job_id, CANCELLED))
        return reason is None

    def expire(self, job_id: int, sender: str | None = None) -> bool:
        reason = self.model.expire_reason(job_id, self.now)
        self._send(sender or self.w.keeper, reason, self.registry.expire, job_id)
        if reason is None:
            self.dirty_jobs.add(job_id)
            fee = self.model.jobs[job_id].fee
            self._check_settlement(job_id, fee, self.model.close_unclaimed(job_id, EXPIRED))
        return reason is None

    def _check_settlement(self, job_id: int, fee: int, out) -> None:
        """The call's events say what the model says, and escrow left exactly once, in full."""
        logs = self.registry.get_logs()
        by_name: dict[str, list] = {}
        for log in logs:
            by_name.setdefault(type(log).__name__, []).append(log)
        paid = [(str(e.worker), e.amount) for e in by_name.get("WorkerPaid", [])]
        job = self.model.jobs[job_id]
        assert paid == out.payouts, f"job {job_id}: paid {paid}, model {out.payouts}; model job {job}"
        slashes = [
            (str(e.operator), e.job_id, e.reason, e.amount, e.reward, e.burned, str(e.beneficiary))
            for e in by_name.get("OperatorSlashed", [])
        ]
        expected = [
            (s.operator, s.job_id, s.reason, s.amount, s.reward, s.burned, s.beneficiary) for s in out.slashes
        ]
        assert slashes == expected, f"job {job_id}: slashes {slashes}, model {expected}"
        for s in out.slashes:
            assert s.reward + s.burned == s.amount
        settled = [
            e
            for name in ("JobCompleted", "JobFailed", "JobCancelled", "JobExpired")
            for e in by_name.get(name, [])
        ]
        assert len(settled) == 1 and settled[0].job_id == job_id, f"job {job_id}: settlement events {settled}"
        event = settled[0]
        rewards = sum(s.reward for s in out.slashes if s.beneficiary == self.w.contracts[1])
        assert rewards == out.bounty, (
            f"job {job_id}: slash rewards {rewards} to the registry, model {out.bounty}"
        )
        if type(event).__name__ == "JobCompleted":
            # the pool, plus the slash rewards the registry received in this call (escalation bounty)
            assert event.protocol_fee == out.protocol_fee and event.paid + out.bounty == sum(
                a for _, a in paid
            )
            # an unproven completion refunds what it does not pay (out.refunded)
            assert event.paid + out.refunded + event.protocol_fee == fee, (
                "paid + refund + protocol fee != escrow"
            )
        else:
            assert event.refunded == out.refunded == fee, "refund != escrow"

    # ------------------------------------------------------------ RewardEmitter
    def claim_emission(self, op: str, epochs: list[int]) -> int | None:
        m = self.model
        reason = m.claim_emission_reason(epochs, self.now)
        minted = self._send(op, reason, self.emitter.claim, epochs)
        if reason is None:
            self.dirty_epochs.update(e for e in epochs if m.points[(op, e)])
            expected = m.claim_emission(op, epochs)
            assert minted == expected, f"claimed {minted}, model {expected}"
        return minted

    # ------------------------------------------------------------ candidates (what an honest actor would do)
    def jobs_in(self, *phases: int) -> list[int]:
        now = self.now
        return [j for j, job in self.model.jobs.items() if job.phase(now) in phases]

    def claim_candidates(self) -> list[tuple[str, int]]:
        now, m = self.now, self.model
        return [(op, j) for j in m.jobs for op in self.w.operators if m.claim_reason(j, op, now) is None]

    def commit_candidates(self) -> list[tuple[str, int]]:
        now, m = self.now, self.model
        return [
            (op, j)
            for j, job in m.jobs.items()
            for op in job.claimants
            if m.commit_reason(j, op, now) is None
        ]

    def reveal_candidates(self) -> list[tuple[str, int]]:
        now, m = self.now, self.model
        out = []
        for (j, op), (digest, salt) in self.openings.items():
            if m.reveal_reason(j, op, digest, salt, now) is None:
                out.append((op, j))
        return out

    # ------------------------------------------------------------ the comparison (DESIGN §2.4)
    def check(self, full: bool = False) -> None:
        """Compare chain and model and check the invariants of DESIGN §2.4.

        Balances, supply and stake totals are read every time. Lock lists, jail times, job views and
        epoch totals are read for what the last steps touched (and, for jobs, every unsettled one);
        `full` reads everything. What is not re-read is still covered every step by the totals it
        feeds (total_unbonding, the contracts' balances)."""
        m, w, now = self.model, self.w, self.now
        token, staking, emitter = self.token, self.staking, self.emitter
        staking_address, registry_address, emitter_address = w.contracts

        # model == chain for every balance; supply == genesis + minted - burned
        for account in w.accounts:
            assert token.balanceOf(account) == m.balances[account], f"balance of {account}"
        assert token.totalSupply() == m.supply == m.initial_supply + m.minted - m.burned
        assert emitter.total_minted() == m.minted

        # Staking: per-operator stake, ghost sums, token conservation
        bonded = [staking.bonded(op) for op in w.operators]
        for op, chain_bonded in zip(w.operators, bonded, strict=True):
            o = m.operators[op]
            chain_locked = staking.locked(op)
            assert (chain_bonded, chain_locked) == (o.bonded, o.locked), f"stake of {op}"
            assert chain_locked <= chain_bonded
        # collateral locked == the collateral of the operator's claims on unsettled jobs (every round's),
        # less what a slash took from it when free and unbonding stake fell short
        open_claims: dict[str, int] = dict.fromkeys(w.operators, 0)
        for job in m.jobs.values():
            if job.state not in TERMINAL:
                for op in job.claimants:
                    open_claims[op] += job.collateral
        for op in w.operators:
            o = m.operators[op]
            assert o.locked == open_claims[op] or (o.dipped and o.locked < open_claims[op]), f"locked of {op}"
        total_bonded, total_unbonding = staking.total_bonded(), staking.total_unbonding()
        assert total_bonded == sum(bonded) == m.bonded_total()
        assert total_unbonding == m.locks_total()
        assert m.balances[staking_address] == total_bonded + total_unbonding
        chain_locks = 0
        for op in w.operators if full else sorted(self.dirty_ops):
            o = m.operators[op]
            locks = [(lock.amount, lock.withdrawable_at) for lock in staking.locks(op)]
            assert locks == [(lock.amount, lock.withdrawable_at) for lock in o.locks], f"locks of {op}"
            assert staking.jailed_until(op) == o.jailed_until, f"jail of {op}"
            chain_locks += sum(amount for amount, _ in locks)
        if full:
            assert chain_locks == total_unbonding
        self.dirty_ops.clear()

        # JobRegistry: phases move only along the lifecycle and terminal ones absorb; escrow is conserved.
        # A job is read when a call touched it or the model says time moved its phase (and in `full`).
        for job_id, job in m.jobs.items():
            expected = job.phase(now)
            if not (full or job_id in self.dirty_jobs or expected != self.seen_phase.get(job_id)):
                continue
            view = self.registry.get_job(job_id)
            phase = view.phase
            assert phase == expected, f"job {job_id}: {PHASE_NAMES[phase]}, model {PHASE_NAMES[expected]}"
            terms = (
                view.requester,
                view.fee,
                view.collateral,
                view.replicas,
                view.quorum,
                view.reveal_deadline,
            )
            assert terms == (
                job.requester,
                job.fee,
                job.collateral,
                job.replicas,
                job.quorum,
                job.reveal_deadline,
            )
            counts = (len(job.round_claimants), job.round_commits(), len(job.round_reveals()))
            assert (view.claims, view.commits, view.reveals) == counts, f"job {job_id} counts"
            assert (view.round, view.first_slot) == (job.round, job.first), f"job {job_id} round"
            assert [str(a) for a in self.registry.claimants(job_id)] == job.claimants, (
                f"job {job_id} claimants"
            )
            before = self.seen_phase.get(job_id, OPEN)
            assert phase in REACHABLE[before], f"job {job_id}: {PHASE_NAMES[before]} -> {PHASE_NAMES[phase]}"
            self.seen_phase[job_id] = phase
            if phase in TERMINAL:
                assert job.paid + job.refunded + job.protocol_fee == job.fee, f"job {job_id} not paid once"
        self.dirty_jobs.clear()
        assert m.balances[registry_address] == m.escrow()  # == Σ fee of unsettled jobs

        # RewardEmitter: holds nothing, mints no more than ended epochs' emission, floors per claimer
        assert m.balances[emitter_address] == 0
        emission_bound, schedule_bound = m.minted_bound(now)
        assert m.minted <= emission_bound <= schedule_bound
        current = m.epoch_at(now)
        ended = {e for e in m.earners if self.checked_epoch <= e < current}  # epochs that closed since
        for epoch in sorted(m.earners if full else self.dirty_epochs | ended):
            self._check_epoch(epoch, current)
        self.dirty_epochs.clear()
        self.checked_epoch = current

    def _check_epoch(self, epoch: int, current: int) -> None:
        m, emitter = self.model, self.emitter
        emission = emitter.epoch_emission(epoch)
        assert emission == m.emission(epoch), f"epoch {epoch} emission"
        assert emitter.epoch_points(epoch) == m.epoch_points[epoch], f"epoch {epoch} points"
        assert emitter.epoch_burned(epoch) == m.epoch_burned[epoch], f"epoch {epoch} burned"
        earners = m.earners.get(epoch, set())
        owed = 0
        for op in earners:  # every claimer of the epoch: nobody's claim moves another's share
            claimable = emitter.claimable(op, epoch)
            assert claimable == m.claimable(op, epoch), f"claimable of {op} in epoch {epoch}"
            owed += claimable + m.claimed[(op, epoch)]
        if epoch < current:
            assert owed <= emission, f"epoch {epoch}: {owed} owed > emission {emission}"
            shares = {op: (m.claimed[(op, epoch)], m.points[(op, epoch)]) for op in earners}
            assert emission - owed < max(len(earners), 1), (
                f"epoch {epoch}: emission {emission}, owed {owed}, points {m.epoch_points[epoch]}, {shares}"
            )

    # ------------------------------------------------------------ drain (T14, §5b.23)
    def drain(self) -> int:
        """Settle every job, unstake and withdraw everything, claim every epoch; check only dust is left.

        Returns the emission left unminted by flooring (wei), which is below the number of claimers."""
        m, w = self.model, self.w
        self.check(full=True)
        while any(job.state in (OPEN, CLAIMED) for job in m.jobs.values()):  # escalations open new rounds
            last_deadline = max(
                job.reveal_deadline for job in m.jobs.values() if job.state in (OPEN, CLAIMED)
            )
            self.travel_to(last_deadline + 1)
            for job_id, job in m.jobs.items():
                if job.state == OPEN:
                    assert self.expire(job_id)
                elif job.state == CLAIMED:
                    assert self.finalize(job_id)
        for _ in range(2):
            self.travel(m.p.unbonding_period)
            for op in w.operators:
                for lock_id in range(MAX_LOCKS):
                    if m.operators[op].locks[lock_id].amount:
                        assert self.withdraw(op, lock_id)
                o = m.operators[op]
                assert o.locked == 0, f"{op} still has collateral locked after every job settled"
                if o.bonded:
                    assert self.request_unstake(op, o.bonded) is not None
        self.travel_to(m.epoch_end(m.epoch_at(self.now)))
        for op in w.operators:
            owed = sorted(e for (o, e), points in m.points.items() if o == op and points)
            for n in range(0, len(owed), MAX_CLAIM_EPOCHS):
                self.claim_emission(op, owed[n : n + MAX_CLAIM_EPOCHS])
        self.check(full=True)
        for contract in w.contracts:
            assert self.token.balanceOf(contract) <= CONTRACT_DUST, f"{contract} holds more than dust"
        assert self.staking.total_bonded() == self.staking.total_unbonding() == 0
        assert all(job.state in TERMINAL for job in m.jobs.values())
        unminted = 0
        for epoch, earners in m.earners.items():
            left = m.emission(epoch) - sum(m.claimed[(op, epoch)] for op in earners)
            assert 0 <= left < len(earners), f"epoch {epoch}: {left} wei unminted for {len(earners)} claimers"
            unminted += left
        return unminted
