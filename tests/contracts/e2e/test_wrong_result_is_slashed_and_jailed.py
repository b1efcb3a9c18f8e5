"""A worker whose revealed result the quorum rejects loses its collateral and is jailed.

DESIGN §2.1-2.2: revealers of another digest than the quorum's are slashed `wrong_result_slash_bps` of
their collateral (100 % by default), all of it burned (no majority profits from another's slash, T30), and
barred from claiming for `jail_period` (boundary: one second before the end it is still jailed).
"""

import boa

from offchain.chain.protocol import BPS, Phase, SlashReason
from tests.contracts.conftest import DEFAULTS, TSR, digest_of, post_job, run_job

COMPLETED = Phase.COMPLETED
REASON_WRONG_RESULT = SlashReason.WRONG_RESULT


def test_wrong_result_is_slashed_jailed_and_unpaid(protocol, requester, staked_operators):
    honest, second, wrong = staked_operators[:3]
    fee, collateral = 30 * TSR, 40 * TSR
    before = {w: protocol.token.balanceOf(w) for w in (honest, second, wrong)}
    bonded = protocol.staking.bonded(wrong)
    supply = protocol.token.totalSupply()

    job_id = run_job(
        protocol,
        requester,
        [honest, second, wrong],
        [digest_of("right"), digest_of("right"), digest_of("wrong")],
        fee=fee,
        collateral=collateral,
    )
    slashed = [
        (str(e.operator), e.reason, e.amount, e.reward, e.burned)
        for e in protocol.registry.get_logs()
        if type(e).__name__ == "OperatorSlashed"
    ]
    jailed_at = boa.env.timestamp

    slash = collateral * DEFAULTS["wrong_result_slash_bps"] // BPS
    reward = 0  # burned, not paid to the agreeing workers
    protocol_fee = fee * DEFAULTS["protocol_fee_bps"] // BPS
    assert slashed == [(wrong, REASON_WRONG_RESULT, slash, reward, slash - reward)]
    assert protocol.registry.get_job(job_id).phase == COMPLETED
    assert protocol.registry.worker_entry(job_id, wrong).seal == digest_of("wrong")
    assert protocol.staking.bonded(wrong) == bonded - slash
    assert protocol.staking.locked(wrong) == 0
    assert protocol.token.balanceOf(wrong) == before[wrong]
    assert protocol.emitter.points_of(wrong, 0) == 0
    for worker in (honest, second):
        assert protocol.token.balanceOf(worker) - before[worker] == (fee - protocol_fee) // 2 + reward // 2
    assert protocol.token.totalSupply() == supply - protocol_fee - (slash - reward)

    # Jailed for jail_period: no claims until it ends, then eligible again.
    jailed_until = protocol.staking.jailed_until(wrong)
    assert jailed_until == jailed_at + DEFAULTS["jail_period"]
    assert not protocol.staking.is_eligible(wrong)
    next_job = post_job(protocol, requester, claim_window=DEFAULTS["jail_period"] // 3)
    with boa.env.prank(wrong), boa.reverts("staking: operator not eligible"):
        protocol.registry.claim(next_job)
    boa.env.time_travel(seconds=jailed_until - 1 - boa.env.timestamp)
    later_job = post_job(protocol, requester)
    with boa.env.prank(wrong), boa.reverts("staking: operator not eligible"):
        protocol.registry.claim(later_job)
    boa.env.time_travel(seconds=1)
    assert protocol.staking.is_eligible(wrong)
    with boa.env.prank(wrong):
        protocol.registry.claim(later_job)


def test_a_jailed_operator_can_still_leave(protocol, requester, staked_operators):
    """Jail bars claiming, not unbonding: what the slash left can be withdrawn after the period."""
    honest, second, wrong = staked_operators[:3]
    run_job(
        protocol,
        requester,
        [honest, second, wrong],
        [digest_of("right"), digest_of("right"), digest_of("wrong")],
    )
    remaining = protocol.staking.bonded(wrong)
    with boa.env.prank(wrong):
        lock_id = protocol.staking.request_unstake(remaining)
    boa.env.time_travel(seconds=DEFAULTS["unbonding_period"])
    before = protocol.token.balanceOf(wrong)
    with boa.env.prank(wrong):
        protocol.staking.withdraw(lock_id)
    assert protocol.token.balanceOf(wrong) - before == remaining
