"""A job with three agreeing workers completes and pays them."""

from offchain.chain.protocol import Phase
from tests.contracts.conftest import TSR, digest_of, run_job

COMPLETED = Phase.COMPLETED


def test_three_agreeing_workers_share_the_fee(protocol, requester, staked_operators):
    workers = staked_operators[:3]
    before = [protocol.token.balanceOf(w) for w in workers]
    job_id = run_job(protocol, requester, workers, [digest_of("42")] * 3, fee=30 * TSR)
    job = protocol.registry.get_job(job_id)
    assert job.phase == COMPLETED
    pool = 30 * TSR * (10_000 - 500) // 10_000
    paid = [protocol.token.balanceOf(w) - b for w, b in zip(workers, before, strict=True)]
    assert sum(paid) == pool
    assert protocol.staking.locked(workers[0]) == 0
    # work points: the burned protocol fee, split like the pool (first worker takes the remainder)
    protocol_fee = 30 * TSR - pool
    assert [protocol.emitter.points_of(w, 0) for w in workers] == [protocol_fee // 3] * 3
    assert protocol.emitter.epoch_points(0) == protocol.emitter.epoch_burned(0) == protocol_fee
