"""Tessera's four contracts run beside a Python model under hypothesis (DESIGN §2.4, reliability §5b).

Rules: register and stake, request/cancel an unstake, withdraw, post a job (random replicas, quorum, fee,
collateral and windows), claim (the model computes the registry's stake-weighted selection, `selected_at`,
so a claim before it must revert), commit (the true result, a wrong one, or a copy of another claimant's
commitment), reveal, finalize (settles; or, on a disputed round at its reveal deadline, escalates the job to
a round of fresh replicas that only operators of no earlier round may claim; the last round decides, or a
majority of all reveals completes it unproven), cancel, expire, retry a settled job, claim emission, and
time travel
(seconds to days, across epochs, exactly onto a job's deadlines, or past the next one while nobody acts:
the "skip" that leaves a claimant silent). `progress` moves one job along its honest path, so that
lifecycles finish inside 50 steps. Most calls are picked among those the model says succeed; the rest
are arbitrary and must revert with the model's reason.

After every step `chain_matches_model` compares balances, stake, locks, job phases and epoch totals with
the model and checks the invariants of DESIGN §2.4 (`Driver.check`). `teardown` drains the system inside
`boa.env.anchor()`: every job settled, every stake withdrawn, every epoch claimed. The contracts must
then hold exactly 0 wei (fee and slash splits are exact), and each epoch leaves fewer unminted wei than it
has claimers (emission is floored per claimer).

The protocol is deployed once per test. titanoboa's pytest plugin wraps every hypothesis example in
`boa.env.anchor()` (boa/test/plugin.py patches `HypothesisHandle`), so each example starts from the same
snapshot, block timestamp included. Profiles: "quick" (50 x 50, CI) and "deep" (400 x 50, `make fuzz`),
chosen by HYPOTHESIS_PROFILE in tests/contracts/conftest.py.
"""

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from tests.contracts.conftest import DAY, DEFAULTS, TSR
from tests.contracts.stateful.harness import COPY, HONEST, WRONG, Driver, World, build_world
from tests.contracts.stateful.model import CLAIMED, MAX_LOCKS, OPEN, TERMINAL

MIN_FEE, MIN_COLLATERAL = DEFAULTS["min_fee"], DEFAULTS["min_collateral"]
DISAGREE = "registry: reveals disagree; the round escalates at its reveal deadline"
MAX_COLLATERAL_PER_FEE = 100  # JobRegistry.MAX_COLLATERAL_PER_FEE

pick = st.integers(min_value=0, max_value=2**16)
# 0..7: choose among the calls the model says succeed (when there are any); 8..9: any call at all
valid = st.integers(min_value=0, max_value=9)
window = st.one_of(st.sampled_from([30, 600, 3_600, DAY]), st.integers(min_value=30, max_value=DAY))
amount = st.one_of(st.integers(1, 10**6), st.integers(TSR, 3_000 * TSR))
time_step = st.one_of(
    st.tuples(st.just("seconds"), st.integers(1, 600)),
    st.tuples(st.just("seconds"), st.integers(600, DAY)),
    st.tuples(st.just("seconds"), st.integers(DAY, 8 * DAY)),
    st.tuples(st.just("deadline"), st.tuples(pick, st.integers(0, 2), st.integers(-1, 1))),
    st.tuples(st.just("epoch end"), st.integers(-1, 0)),
    st.tuples(st.just("skip"), pick),
)


class ProtocolMachine(RuleBasedStateMachine):
    world: World  # set by the test before the machine runs

    def __init__(self):
        super().__init__()
        self.d = Driver(self.world)

    # ------------------------------------------------------------ helpers
    def _op(self, i: int) -> str:
        return self.world.operators[i % len(self.world.operators)]

    def _job(self, j: int) -> int:
        """Any job id, including one past the last (which does not exist)."""
        return j % (len(self.d.model.jobs) + 1) + 1

    @staticmethod
    def _choose(candidates: list, j: int, v: int):
        return candidates[j % len(candidates)] if candidates and v < 8 else None

    # ------------------------------------------------------------ Staking
    @initialize(amounts=st.lists(st.integers(DEFAULTS["min_stake"], 3_000 * TSR), min_size=5, max_size=5))
    def operators_stake(self, amounts):
        """Every operator (five: enough for an escalation round of fresh replicas) starts registered and
        eligible, with a different stake."""
        for op, stake in zip(self.world.operators, amounts, strict=False):
            self.d.stake(op, stake)

    @rule(i=pick, amount=amount)
    def stake(self, i, amount):
        op = self._op(i)
        amount = min(amount, self.d.model.balances[op])
        if amount:
            self.d.stake(op, amount)

    @rule(i=pick, percent=st.integers(0, 101))
    def request_unstake(self, i, percent):
        op = self._op(i)
        o = self.d.model.operators[op]
        free = o.bonded - o.locked
        self.d.request_unstake(op, free + 1 if percent == 101 else free * percent // 100)

    @rule(i=pick, lock_id=st.integers(0, MAX_LOCKS), v=valid)
    def cancel_unstake(self, i, lock_id, v):
        op = self._op(i)
        held = [n for n, lock in enumerate(self.d.model.operators[op].locks) if lock.amount]
        chosen = self._choose(held, lock_id, v)
        self.d.cancel_unstake(op, lock_id if chosen is None else chosen)

    @rule(i=pick, lock_id=st.integers(0, MAX_LOCKS), v=valid)
    def withdraw(self, i, lock_id, v):
        op, now = self._op(i), self.d.now
        ready = [
            n
            for n, lock in enumerate(self.d.model.operators[op].locks)
            if lock.amount and lock.withdrawable_at <= now
        ]
        chosen = self._choose(ready, lock_id, v)
        self.d.withdraw(op, lock_id if chosen is None else chosen)

    # ------------------------------------------------------------ JobRegistry
    @rule(
        r=pick,
        fee=st.one_of(st.integers(MIN_FEE, 10 * TSR), st.integers(10 * TSR, 1_000 * TSR)),
        replicas=st.integers(1, 4),
        extra=st.integers(0, 3),
        collateral=st.one_of(st.just(MIN_COLLATERAL), st.integers(MIN_COLLATERAL, 400 * TSR)),
        windows=st.tuples(window, window, window),
    )
    def post_job(self, r, fee, replicas, extra, collateral, windows):
        requester = self.world.requesters[r % len(self.world.requesters)]
        if self.d.model.balances[requester] >= fee:
            quorum = replicas // 2 + 1 + extra % (replicas - replicas // 2)
            collateral = min(collateral, fee * MAX_COLLATERAL_PER_FEE)  # the registry's bait cap
            self.d.post_job(requester, fee, replicas, quorum, collateral, windows)

    @rule(i=pick, j=pick, v=valid)
    def claim(self, i, j, v):
        op, job_id = self._choose(self.d.claim_candidates(), j, v) or (self._op(i), self._job(j))
        self.d.claim(op, job_id)

    @rule(i=pick, j=pick, v=valid, kind=st.sampled_from([HONEST] * 4 + [WRONG, COPY]))
    def commit(self, i, j, v, kind):
        op, job_id = self._choose(self.d.commit_candidates(), j, v) or (self._op(i), self._job(j))
        self.d.commit(op, job_id, kind)

    @rule(i=pick, j=pick, v=valid)
    def reveal(self, i, j, v):
        op, job_id = self._choose(self.d.reveal_candidates(), j, v) or (self._op(i), self._job(j))
        self.d.reveal(op, job_id)

    @rule(j=pick, v=valid)
    def finalize(self, j, v):
        m, now = self.d.model, self.d.now
        ready = [job_id for job_id in m.jobs if m.finalize_reason(job_id, now) is None]
        self.d.finalize(self._choose(ready, j, v) or self._job(j))

    @rule(j=pick, v=valid, by_requester=st.booleans())
    def cancel(self, j, v, by_requester):
        m = self.d.model
        job_id = self._choose([n for n, job in m.jobs.items() if job.state == OPEN], j, v) or self._job(j)
        job = m.jobs.get(job_id)
        self.d.cancel(job_id, job.requester if job and by_requester else self.world.stranger)

    @rule(j=pick, v=valid)
    def expire(self, j, v):
        m, now = self.d.model, self.d.now
        ready = [job_id for job_id in m.jobs if m.expire_reason(job_id, now) is None]
        self.d.expire(self._choose(ready, j, v) or self._job(j))

    @rule(j=pick, action=st.sampled_from(["finalize", "cancel", "expire"]))
    def retry_settled(self, j, action):
        """Terminal jobs absorb: a second settlement of any kind reverts, so escrow leaves once."""
        settled = [job_id for job_id, job in self.d.model.jobs.items() if job.state in TERMINAL]
        if settled:
            job_id = settled[j % len(settled)]
            if action == "finalize":
                assert not self.d.finalize(job_id)
            elif action == "cancel":
                assert not self.d.cancel(job_id, self.d.model.jobs[job_id].requester)
            else:
                assert not self.d.expire(job_id)

    @rule(
        j=pick,
        steps=st.integers(1, 8),
        kind=st.sampled_from([HONEST] * 3 + [WRONG, COPY]),
        fee=st.integers(MIN_FEE, 100 * TSR),
        replicas=st.sampled_from([1, 2, 3, 3]),
    )
    def progress(self, j, steps, kind, fee, replicas):
        """Take the next steps on the jobs: claim, commit (the true result, or `kind` once), reveal, finalize
        (or wait for a disputed round's reveal deadline and escalate it, so that fresh operators claim the
        next round); post a job (one-day windows, majority quorum) when there is nothing to do. Lets
        lifecycles, escalations included, finish within 50 steps."""
        d = self.d
        for _ in range(steps):
            m, now = d.model, d.now
            moves = (
                [("claim", op, n) for op, n in d.claim_candidates()]
                + [("commit", op, n) for op, n in d.commit_candidates()]
                + [("reveal", op, n) for op, n in d.reveal_candidates()]
                + [("finalize", None, n) for n in m.jobs if m.finalize_reason(n, now) is None]
                + [("escalate", None, n) for n in m.jobs if m.finalize_reason(n, now) == DISAGREE]
            )
            if not moves:
                requester = self.world.requesters[j % len(self.world.requesters)]
                d.post_job(requester, fee, replicas, replicas // 2 + 1, MIN_COLLATERAL, (DAY, DAY, DAY))
                continue
            move, op, job_id = moves[j % len(moves)]
            if move == "claim":
                assert d.claim(op, job_id)
            elif move == "commit":
                assert d.commit(op, job_id, kind)
                kind = HONEST  # one odd commitment per call at most
            elif move == "reveal":
                d.reveal(op, job_id)  # a copier's reveal reverts
            elif move == "escalate":  # a disputed round escalates at its reveal deadline
                d.travel_to(m.jobs[job_id].reveal_deadline)
                assert d.finalize(job_id)
            else:
                assert d.finalize(job_id)

    # ------------------------------------------------------------ RewardEmitter
    @rule(i=pick, epochs=st.lists(pick, max_size=4), v=valid)
    def claim_emission(self, i, epochs, v):
        op, m = self._op(i), self.d.model
        current = m.epoch_at(self.d.now)
        if v < 8:
            owed = sorted(e for (o, e), points in m.points.items() if o == op and points and e < current)
            epochs = owed[:4] + [e % current for e in epochs] if current else []
        else:
            epochs = [e % (current + 1) for e in epochs]
        self.d.claim_emission(op, epochs)

    # ------------------------------------------------------------ time
    @rule(step=time_step)
    def advance_time(self, step):
        """Seconds to days; one second before, on or after a job's deadline (exactly one side of each
        accepts); onto an epoch boundary; or past a job's next deadline while nobody acts (a skip)."""
        d, m = self.d, self.d.model
        kind, arg = step
        if kind == "seconds":
            d.travel(arg)
        elif kind == "deadline":
            j, which, offset = arg
            job = m.jobs.get(self._job(j))
            if job:
                d.travel_to((job.claim_deadline, job.commit_deadline, job.reveal_deadline)[which] + offset)
        elif kind == "epoch end":
            d.travel_to(m.epoch_end(m.epoch_at(d.now)) + arg)
        else:
            in_progress = [job for job in m.jobs.values() if job.state == CLAIMED]
            if in_progress:
                job = in_progress[arg % len(in_progress)]
                upcoming = [
                    t for t in (job.claim_deadline, job.commit_deadline, job.reveal_deadline) if t > d.now
                ]
                if upcoming:
                    d.travel_to(upcoming[0])

    # ------------------------------------------------------------ checks
    @invariant()
    def chain_matches_model(self):
        self.d.check()

    def teardown(self):
        if hasattr(self, "d"):
            with self.d.anchor():
                self.d.drain()


@pytest.mark.slow
def test_protocol_matches_model(
    token_deployer, staking_deployer, emitter_deployer, registry_deployer, governance
):
    ProtocolMachine.world = build_world(
        (token_deployer, staking_deployer, emitter_deployer, registry_deployer), governance, n_operators=5
    )
    run_state_machine_as_test(
        ProtocolMachine, settings=settings(deadline=None, suppress_health_check=list(HealthCheck))
    )
