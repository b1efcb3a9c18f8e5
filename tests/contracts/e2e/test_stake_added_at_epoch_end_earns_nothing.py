"""Stake that arrives one second before an epoch ends earns nothing for that epoch (reliability §2.2 / T3).

Emission is shared by work points, which only paid, agreeing work earns (DESIGN §2.3); stake alone
earns nothing, so a whale that stakes just before the epoch closes (or stakes and unstakes in one block)
captures nothing, and the operators that did the work can still claim exactly what they could before.
"""

import boa

from tests.contracts.conftest import TSR, digest_of, run_job, stake_operator


def test_stake_added_one_second_before_epoch_end_earns_nothing(protocol, requester, operators):
    workers, whale = operators[:3], operators[3]
    for worker in workers:
        stake_operator(protocol, worker)
    emitter = protocol.emitter
    epoch = emitter.current_epoch()
    run_job(protocol, requester, workers, [digest_of("42")] * 3, fee=30 * TSR)
    run_job(protocol, requester, workers[:1], [digest_of("7")], fee=10 * TSR, replicas=1, quorum=1)
    claimable = {w: emitter.claimable(w, epoch) for w in workers}
    assert all(claimable.values())

    boa.env.time_travel(seconds=emitter.epoch_start(epoch + 1) - 1 - boa.env.timestamp)
    assert emitter.current_epoch() == epoch
    stake_operator(protocol, whale, 50_000 * TSR)
    assert protocol.staking.is_eligible(whale)
    # a stake-and-leave in the same block as well
    with boa.env.prank(whale):
        protocol.staking.request_unstake(50_000 * TSR)

    assert emitter.points_of(whale, epoch) == 0 and emitter.claimable(whale, epoch) == 0
    assert {w: emitter.claimable(w, epoch) for w in workers} == claimable
    with boa.env.prank(whale), boa.reverts("emitter: epoch not ended"):
        emitter.claim([epoch])

    boa.env.time_travel(seconds=1)
    assert emitter.current_epoch() == epoch + 1
    before = protocol.token.balanceOf(whale)
    with boa.env.prank(whale):
        assert emitter.claim([epoch]) == 0
    assert protocol.token.balanceOf(whale) == before
    for worker in workers:
        with boa.env.prank(worker):
            assert emitter.claim([epoch]) == claimable[worker]
    assert emitter.total_minted() == sum(claimable.values()) <= emitter.epoch_emission(epoch)
