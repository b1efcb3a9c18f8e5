"""A job whose reveals reach no quorum fails and refunds the requester in full.

DESIGN §2.2: a round without `quorum` equal reveals escalates at its reveal deadline to fresh replicas; when
the last round (no 3 slots left, or round 2) has no quorum either the job is Failed, the whole fee goes back
to the requester (no protocol fee is burned, no work points are earned), disagreeing revealers are not
slashed (nobody knows who was right), and only silent claimants are slashed: a claimant that never
committed for liveness, one that committed and withheld its reveal at the wrong-result rate, jailed (T29).
Every slash is burned: the requester gets its fee back and never more (T31).
"""

import boa

from offchain.chain.protocol import BPS, Phase, SlashReason
from tests.contracts.conftest import (
    DEFAULTS,
    TSR,
    commit,
    digest_of,
    escalate,
    fresh_operators,
    play_round,
    post_job,
    reveal,
)

FAILED = Phase.FAILED
REASON_LIVENESS = SlashReason.LIVENESS
REASON_WITHHELD = SlashReason.WITHHELD
ZERO = "0x0000000000000000000000000000000000000000"


def _slashes(protocol):
    return [
        (str(e.operator), e.reason, e.amount, str(e.beneficiary))
        for e in protocol.registry.get_logs()
        if type(e).__name__ == "OperatorSlashed"
    ]


def test_three_different_results_fail_and_refund_the_whole_fee(protocol, requester, staked_operators):
    """Round 0 reveals a, b, c and escalates; round 1 (3 of its 5 slots claimed) reveals d, e, a: no quorum,
    and with 6 of 8 slots taken no round is left."""
    verifiers = fresh_operators(protocol, 3)
    workers = staked_operators[:3] + verifiers
    fee = 25 * TSR + 7  # not a multiple of anything: the refund is still exact
    supply = protocol.token.totalSupply()
    bonded = [protocol.staking.bonded(w) for w in workers]
    wallets = [protocol.token.balanceOf(w) for w in workers]

    job_id = post_job(protocol, requester, fee=fee, replicas=3, quorum=2)
    play_round(protocol, job_id, workers[:3], [digest_of("a"), digest_of("b"), digest_of("c")])
    escalate(protocol, job_id)
    play_round(protocol, job_id, verifiers, [digest_of("d"), digest_of("e"), digest_of("a")])
    protocol.registry.finalize(job_id)
    failed = [e for e in protocol.registry.get_logs() if type(e).__name__ == "JobFailed"]

    assert [e.refunded for e in failed] == [fee]
    assert protocol.registry.get_job(job_id).phase == FAILED
    assert protocol.token.balanceOf(requester) == fee  # post_job funded exactly the fee
    assert protocol.token.balanceOf(protocol.registry.address) == 0
    assert protocol.token.totalSupply() == supply  # nothing burned
    assert [protocol.staking.bonded(w) for w in workers] == bonded  # nobody slashed
    assert [protocol.token.balanceOf(w) for w in workers] == wallets  # nobody paid
    assert all(protocol.staking.locked(w) == 0 and protocol.staking.is_eligible(w) for w in workers)
    assert protocol.emitter.epoch_points(0) == 0 and protocol.emitter.epoch_burned(0) == 0


def test_withheld_reveal_in_a_failed_job_is_burned_not_paid_to_the_requester(
    protocol, requester, staked_operators
):
    first, second, silent = staked_operators[:3]
    fee = 10 * TSR
    job_id = post_job(protocol, requester, fee=fee, replicas=3, quorum=2)
    for worker in (first, second, silent):
        with boa.env.prank(worker):
            protocol.registry.claim(job_id)
    commit(protocol, job_id, first, digest_of("a"))
    commit(protocol, job_id, second, digest_of("b"))
    commit(protocol, job_id, silent, digest_of("a"))
    reveal(protocol, job_id, first, digest_of("a"))
    reveal(protocol, job_id, second, digest_of("b"))
    escalate(protocol, job_id)  # a, b and a withheld reveal: no quorum; nobody slashed yet
    assert _slashes(protocol) == []
    play_round(
        protocol, job_id, fresh_operators(protocol, 3), [digest_of("c"), digest_of("d"), digest_of("e")]
    )

    supply = protocol.token.totalSupply()
    protocol.registry.finalize(job_id)
    slash = DEFAULTS["min_collateral"] * DEFAULTS["wrong_result_slash_bps"] // BPS
    assert _slashes(protocol) == [(silent, REASON_WITHHELD, slash, ZERO)]
    assert protocol.registry.get_job(job_id).phase == FAILED
    assert protocol.token.balanceOf(requester) == fee
    assert protocol.token.totalSupply() == supply - slash
    assert not protocol.staking.is_eligible(silent)


def test_nobody_commits_everyone_is_slashed_and_the_fee_returns(protocol, requester, staked_operators):
    workers = staked_operators[:2]
    job_id = post_job(protocol, requester, fee=10 * TSR, replicas=2, quorum=2)
    for worker in workers:
        with boa.env.prank(worker):
            protocol.registry.claim(job_id)
    commit_deadline = protocol.registry.get_job(job_id).commit_deadline
    boa.env.time_travel(seconds=commit_deadline - 1 - boa.env.timestamp)
    with boa.reverts("registry: reveal not open"):
        protocol.registry.finalize(job_id)
    boa.env.time_travel(seconds=1)

    protocol.registry.finalize(job_id)  # no committer is left to wait for
    slash = DEFAULTS["min_collateral"] * DEFAULTS["liveness_slash_bps"] // BPS
    assert _slashes(protocol) == [(w, REASON_LIVENESS, slash, ZERO) for w in workers]
    assert protocol.token.balanceOf(requester) == 10 * TSR
