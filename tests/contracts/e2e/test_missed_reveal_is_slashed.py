"""A claimant that commits and never reveals pays what a wrong reveal pays, jailed; one that never commits
is slashed for liveness, not jailed.

A reveal is binding (T29): withholding a losing reveal must never be cheaper than revealing it, so a
committed claimant that does not reveal loses `wrong_result_slash_bps` of its collateral and is jailed,
exactly as a wrong reveal would. A claimant that never committed loses `liveness_slash_bps` (with a floor,
T32). Every slash is burned: the agreeing workers are paid the pool and nothing from anyone's slash.
Finalisation waits for the reveal deadline unless every committer has revealed (boundary: one second
before it still waits).
"""

import boa

from offchain.chain.protocol import BPS, Phase, SlashReason
from tests.contracts.conftest import DEFAULTS, TSR, commit, digest_of, post_job, reveal

COMPLETED = Phase.COMPLETED
REASON_LIVENESS = SlashReason.LIVENESS
REASON_WITHHELD = SlashReason.WITHHELD
SLASH = DEFAULTS["min_collateral"] * DEFAULTS["liveness_slash_bps"] // BPS
WITHHELD = DEFAULTS["min_collateral"] * DEFAULTS["wrong_result_slash_bps"] // BPS


def _claim_all(protocol, job_id, workers):
    for worker in workers:
        with boa.env.prank(worker):
            protocol.registry.claim(job_id)


def _finalize(protocol, job_id):
    protocol.registry.finalize(job_id)
    return [
        (str(e.operator), e.reason, e.amount, e.reward)
        for e in protocol.registry.get_logs()
        if type(e).__name__ == "OperatorSlashed"
    ]


def test_committed_but_unrevealed_claimant_is_slashed_like_a_wrong_result_and_jailed(
    protocol, requester, staked_operators
):
    honest, second, silent = staked_operators[:3]
    result = digest_of("result")
    fee = 20 * TSR
    job_id = post_job(
        protocol, requester, fee=fee, replicas=3, quorum=2, collateral=DEFAULTS["min_collateral"]
    )
    _claim_all(protocol, job_id, [honest, second, silent])
    for worker in (honest, second, silent):
        commit(protocol, job_id, worker, result)
    reveal(protocol, job_id, honest, result)
    reveal(protocol, job_id, second, result)

    reveal_deadline = protocol.registry.get_job(job_id).reveal_deadline
    boa.env.time_travel(seconds=reveal_deadline - 1 - boa.env.timestamp)
    with boa.reverts("registry: reveals pending"):
        protocol.registry.finalize(job_id)
    boa.env.time_travel(seconds=1)
    # the silent worker's chance is gone exactly at the deadline
    with boa.env.prank(silent), boa.reverts("registry: reveal deadline passed"):
        protocol.registry.reveal(job_id, result, "bafyresult", b"\x00" * 32)

    before = {w: protocol.token.balanceOf(w) for w in (honest, second, silent)}
    silent_bonded = protocol.staking.bonded(silent)
    assert _finalize(protocol, job_id) == [(silent, REASON_WITHHELD, WITHHELD, 0)]

    assert protocol.registry.get_job(job_id).phase == COMPLETED
    assert protocol.staking.bonded(silent) == silent_bonded - WITHHELD
    assert protocol.staking.locked(silent) == 0
    assert not protocol.staking.is_eligible(silent)  # a withheld reveal jails like a wrong one
    assert protocol.token.balanceOf(silent) == before[silent]
    pool = fee - fee * DEFAULTS["protocol_fee_bps"] // BPS
    for worker in (honest, second):
        assert protocol.token.balanceOf(worker) - before[worker] == pool // 2


def test_claimant_that_never_commits_is_slashed_and_does_not_hold_the_job_up(
    protocol, requester, staked_operators
):
    honest, second, silent = staked_operators[:3]
    result = digest_of("result")
    job_id = post_job(protocol, requester, fee=20 * TSR, replicas=3, quorum=2)
    _claim_all(protocol, job_id, [honest, second, silent])
    commit(protocol, job_id, honest, result)
    commit(protocol, job_id, second, result)

    job = protocol.registry.get_job(job_id)
    with boa.env.prank(honest), boa.reverts("registry: reveal not open"):
        protocol.registry.reveal(job_id, result, "bafyresult", b"\x00" * 32)
    boa.env.time_travel(seconds=job.commit_deadline - boa.env.timestamp)
    with boa.env.prank(silent), boa.reverts("registry: commit deadline passed"):
        protocol.registry.commit(job_id, b"\x01" * 32)
    reveal(protocol, job_id, honest, result)
    reveal(protocol, job_id, second, result)

    # every committer revealed: no need to wait for the reveal deadline
    assert boa.env.timestamp < job.reveal_deadline
    assert _finalize(protocol, job_id) == [(silent, REASON_LIVENESS, SLASH, 0)]
    assert protocol.registry.get_job(job_id).phase == COMPLETED
    assert protocol.staking.is_eligible(silent)  # a missed commit does not jail
