"""A worker whose revealed result the final quorum rejects loses its collateral and is jailed.

DESIGN §2.1-2.2: a round whose reveals disagree escalates at its reveal deadline to fresh replicas; the last
round's majority decides. Revealers of another digest are then slashed `wrong_result_slash_bps` of their
collateral (100 % by default): half of it (Staking's slash_reward_bps) pays the escalation round's
agreeing workers, who were drawn after the dispute (so the round-0 majority gets no part of it, T30), the
rest is burned; and they are barred from claiming for `jail_period` (boundary: one second before the end
it is still jailed).
"""

import boa

from offchain.chain.protocol import BPS, Phase, SlashReason
from tests.contracts.conftest import DEFAULTS, TSR, digest_of, escalate, fresh_operators, play_round, post_job

COMPLETED = Phase.COMPLETED
REASON_WRONG_RESULT = SlashReason.WRONG_RESULT


def disputed_then_confirmed(protocol, requester, workers, verifiers, **post_kwargs) -> int:
    """Round 0: `workers` reveal right, right, wrong; it escalates; `verifiers` (round 1) reveal right."""
    job_id = post_job(protocol, requester, replicas=3, quorum=2, **post_kwargs)
    play_round(protocol, job_id, workers, [digest_of("right"), digest_of("right"), digest_of("wrong")])
    escalate(protocol, job_id)
    play_round(protocol, job_id, verifiers, [digest_of("right")] * len(verifiers))
    protocol.registry.finalize(job_id)
    return job_id


def test_wrong_result_is_slashed_jailed_and_unpaid(protocol, requester, staked_operators):
    honest, second, wrong = staked_operators[:3]
    verifiers = fresh_operators(protocol, 3)
    fee, collateral = 30 * TSR, 40 * TSR
    everyone = (honest, second, wrong, *verifiers)
    before = {w: protocol.token.balanceOf(w) for w in everyone}
    bonded = protocol.staking.bonded(wrong)
    supply = protocol.token.totalSupply()

    job_id = disputed_then_confirmed(
        protocol, requester, [honest, second, wrong], verifiers, fee=fee, collateral=collateral
    )
    slashed = [
        (str(e.operator), e.reason, e.amount, e.reward, e.burned)
        for e in protocol.registry.get_logs()
        if type(e).__name__ == "OperatorSlashed"
    ]
    jailed_at = boa.env.timestamp

    slash = collateral * DEFAULTS["wrong_result_slash_bps"] // BPS
    reward = slash * DEFAULTS["slash_reward_bps"] // BPS  # to the registry, for round 1's agreeing workers
    protocol_fee = fee * DEFAULTS["protocol_fee_bps"] // BPS
    pool = fee - protocol_fee
    assert slashed == [(wrong, REASON_WRONG_RESULT, slash, reward, slash - reward)]
    assert protocol.registry.get_job(job_id).phase == COMPLETED
    assert protocol.registry.worker_entry(job_id, wrong).seal == digest_of("wrong")
    assert protocol.staking.bonded(wrong) == bonded - slash
    assert protocol.staking.locked(wrong) == 0
    assert protocol.token.balanceOf(wrong) == before[wrong]
    assert protocol.emitter.points_of(wrong, 0) == 0
    share, bounty = pool // 5, reward // 3
    gains = [protocol.token.balanceOf(w) - before[w] for w in everyone]
    assert gains == [
        share + pool - 5 * share,
        share,
        0,
        share + bounty + reward - 3 * bounty,
        share + bounty,
        share + bounty,
    ]
    assert protocol.token.totalSupply() == supply - protocol_fee - (slash - reward)
    assert protocol.token.balanceOf(protocol.registry.address) == 0

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
    disputed_then_confirmed(protocol, requester, [honest, second, wrong], fresh_operators(protocol, 3))
    assert not protocol.staking.is_eligible(wrong)
    remaining = protocol.staking.bonded(wrong)
    with boa.env.prank(wrong):
        lock_id = protocol.staking.request_unstake(remaining)
    boa.env.time_travel(seconds=DEFAULTS["unbonding_period"])
    before = protocol.token.balanceOf(wrong)
    with boa.env.prank(wrong):
        protocol.staking.withdraw(lock_id)
    assert protocol.token.balanceOf(wrong) - before == remaining
