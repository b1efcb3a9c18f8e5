"""Once everything is settled, withdrawn and claimed, the contracts hold nothing (reliability §2.13 / T14).

A busy system across three epochs, run beside the stateful suite's model: completed jobs with odd fees
(rounding remainders), a wrong result (slash, jail, bounty), failed jobs with silent claimants, a
cancelled and an expired job, a job still open and one still in progress when the drain starts, stake in
unbonding locks, emission partly claimed. `Driver.drain` then finalises or expires every job, unstakes
and withdraws every operator, and claims every epoch. The bound: Staking, JobRegistry and RewardEmitter
end with exactly 0 wei (fee and slash splits give every remainder to someone; the emitter mints straight
to claimers), and each epoch leaves fewer unminted wei than it has claimers (each claim is floored).
"""

from tests.contracts.conftest import DAY, TSR
from tests.contracts.stateful.harness import COPY, HONEST, WRONG, Driver, build_world


def _run(d: Driver, requester: str, workers: list[str], kinds: list, fee: int, quorum: int) -> int:
    job_id = d.post_job(requester, fee, len(workers), quorum, 10 * TSR + 3, (600, 600, 600))
    for op in workers:
        assert d.claim(op, job_id)
    for op, kind in zip(workers, kinds, strict=True):
        if kind:
            assert d.commit(op, job_id, kind)
    d.travel_to(d.model.jobs[job_id].commit_deadline)
    for op, kind in zip(workers, kinds, strict=True):
        if kind in (HONEST, WRONG):
            assert d.reveal(op, job_id)
    d.travel_to(d.model.jobs[job_id].reveal_deadline)
    assert d.finalize(job_id)
    return job_id


def test_drained_system_leaves_only_dust(
    token_deployer, staking_deployer, emitter_deployer, registry_deployer, governance
):
    world = build_world((token_deployer, staking_deployer, emitter_deployer, registry_deployer), governance)
    d = Driver(world)
    ops, (req0, req1, self_dealer) = world.operators, world.requesters
    for op, stake in zip(ops, [1_000 * TSR + 1, 777 * TSR + 13, 250 * TSR + 7], strict=True):
        assert d.stake(op, stake)

    # epoch 0
    _run(d, req0, ops, [HONEST, HONEST, HONEST], 30 * TSR + 2, 2)  # remainder to the first worker
    _run(d, req1, ops, [HONEST, HONEST, WRONG], 10 * TSR + 1, 2)  # slash, jail, bounty
    _run(d, req0, ops[:2], [HONEST, None], 5 * TSR + 9, 2)  # failed, silent claimant pays the requester
    cancelled = d.post_job(req1, TSR, 1, 1, 10 * TSR, (600, 600, 600))
    assert d.cancel(cancelled, req1)
    expired = d.post_job(req0, TSR + 5, 2, 2, 10 * TSR, (30, 600, 600))
    d.travel(30)
    assert d.expire(expired)
    lock_id = d.request_unstake(ops[0], 100 * TSR + 1)
    d.check(full=True)

    # epoch 1
    d.travel_to(d.model.epoch_end(0))
    _run(d, self_dealer, ops[:1], [HONEST], 3 * TSR + 19, 1)
    _run(d, req1, ops[:2], [HONEST, COPY], 7 * TSR + 3, 2)  # the copier cannot reveal: failed
    assert d.claim_emission(ops[1], [0]) > 0
    d.request_unstake(ops[1], 50 * TSR)
    d.travel(8 * DAY)
    assert d.withdraw(ops[0], lock_id)

    # a later epoch: one job untouched, one mid-flight when the drain starts
    d.post_job(req0, 2 * TSR + 1, 1, 1, 10 * TSR, (DAY, DAY, DAY))
    in_flight = d.post_job(req1, 4 * TSR + 3, 2, 2, 10 * TSR, (DAY, DAY, DAY))
    assert d.claim(ops[0], in_flight) and d.claim(ops[1], in_flight)
    assert d.commit(ops[0], in_flight, HONEST)
    d.check(full=True)

    unminted = d.drain()
    claimers = sum(len(earners) for earners in d.model.earners.values())
    assert unminted < claimers
    assert d.model.minted > 0 and d.model.burned > 0
