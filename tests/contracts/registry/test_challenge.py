"""JobRegistry.post_job_optimistic and challenge: the optimistic verification level. One worker runs the
job; its revealed result settles only when the challenge window (the reveal window) closes. Any operator
may challenge before then, naming the result it computed and bonding the job's collateral; the job then
escalates at the window's end to fresh replicas, and whoever's result they do not confirm is slashed."""

import boa
import pytest

from tests.contracts.conftest import (
    RESULT_CID,
    SPEC_CID,
    SPEC_DIGEST,
    commit,
    digest_of,
    fund,
    reveal,
    salt_of,
)
from tests.contracts.registry.conftest import (
    COMPLETED,
    REVEALING,
    STAKE,
    TSR,
    WINDOW,
    claim,
    events,
)

RIGHT, WRONG = digest_of("right"), digest_of("wrong")
FEE, COLLATERAL = 10 * TSR, 10 * TSR
WRONG_RESULT = 1


def post_optimistic(protocol, requester) -> int:
    fund(protocol, requester, FEE)
    with boa.env.prank(requester):
        protocol.token.approve(protocol.registry.address, FEE)
        return protocol.registry.post_job_optimistic(
            SPEC_CID, SPEC_DIGEST, FEE, COLLATERAL, WINDOW, WINDOW, WINDOW
        )


def revealed_job(protocol, requester, worker, result) -> int:
    job_id = post_optimistic(protocol, requester)
    claim(protocol, job_id, worker)
    commit(protocol, job_id, worker, result)
    reveal(protocol, job_id, worker, result)
    return job_id


def challenge(registry, job_id, challenger, result, cid="bafychallenge"):
    with boa.env.prank(challenger):
        registry.challenge(job_id, result, cid)


def close_window(registry, job_id):
    boa.env.time_travel(seconds=registry.get_job(job_id).reveal_deadline - boa.env.evm.patch.timestamp)


def test_an_optimistic_job_is_one_replica_and_says_so(protocol, registry, requester):
    job_id = post_optimistic(protocol, requester)
    view = registry.get_job(job_id)
    assert (view.replicas, view.quorum) == (1, 1)
    assert registry.is_optimistic(job_id) is True
    assert registry.is_optimistic(0) is False


def test_an_unchallenged_result_settles_only_when_the_window_closes(
    protocol, registry, requester, staked_operators
):
    worker = staked_operators[0]
    job_id = post_optimistic(protocol, requester)
    claim(protocol, job_id, worker)
    commit(protocol, job_id, worker, RIGHT)
    with boa.env.prank(worker):
        assert registry.reveal_and_finalize(job_id, RIGHT, RESULT_CID, salt_of(worker)) is False
    assert registry.get_job(job_id).phase == REVEALING
    with boa.reverts("registry: an optimistic result settles when its challenge window closes"):
        registry.finalize(job_id)
    close_window(registry, job_id)
    registry.finalize(job_id)
    (paid,) = events(registry, "WorkerPaid")
    assert paid.worker == worker
    assert registry.get_job(job_id).phase == COMPLETED


def test_a_challenge_escalates_and_the_wrong_worker_loses_its_stake(
    protocol, registry, staking, token, requester, staked_operators
):
    liar, challenger, *fresh = staked_operators[:5]
    job_id = revealed_job(protocol, requester, liar, WRONG)
    challenge(registry, job_id, challenger, RIGHT)
    (logged,) = events(registry, "ResultChallenged")  # read before any other call on the registry
    assert (logged.job_id, logged.challenger, logged.result_digest) == (job_id, challenger, RIGHT)
    assert staking.locked(challenger) == COLLATERAL  # the bond
    close_window(registry, job_id)
    registry.finalize(job_id)
    (escalated,) = events(registry, "JobEscalated")
    assert (escalated.round, escalated.replicas, escalated.quorum) == (1, 3, 2)
    claim(protocol, job_id, *fresh)
    for w in fresh:
        commit(protocol, job_id, w, RIGHT)
    for w in fresh:
        reveal(protocol, job_id, w, RIGHT)
    registry.finalize(job_id)
    (completed,) = events(registry, "JobCompleted")
    (slash,) = events(registry, "OperatorSlashed", source=staking)
    paid = {e.worker: e.amount for e in events(registry, "WorkerPaid")}
    assert (completed.result_digest, completed.agreeing) == (RIGHT, 4)
    assert (slash.operator, slash.reason, slash.amount) == (liar, WRONG_RESULT, COLLATERAL)
    assert staking.bonded(liar) == STAKE - COLLATERAL and staking.jailed_until(liar) > 0
    assert staking.bonded(challenger) == STAKE and staking.locked(challenger) == 0
    assert set(paid) == {challenger, *fresh}
    # the challenger and the fresh replicas count as escalation slots: they share half the liar's slash
    bounty = slash.reward
    assert bounty == COLLATERAL // 2
    pool = FEE - completed.protocol_fee
    assert sum(paid.values()) == pool + bounty
    for w in fresh:
        assert paid[w] == pool // 4 + bounty // 4
    # the challenger, the first paid and the first escalation slot, also takes both rounding remainders
    assert paid[challenger] == pool - 3 * (pool // 4) + bounty - 3 * (bounty // 4)


def test_a_wrong_challenge_loses_the_bond(protocol, registry, staking, requester, staked_operators):
    worker, challenger, *fresh = staked_operators[:5]
    job_id = revealed_job(protocol, requester, worker, RIGHT)
    challenge(registry, job_id, challenger, WRONG)
    close_window(registry, job_id)
    registry.finalize(job_id)
    claim(protocol, job_id, *fresh)
    for w in fresh:
        commit(protocol, job_id, w, RIGHT)
    for w in fresh:
        reveal(protocol, job_id, w, RIGHT)
    registry.finalize(job_id)
    (slash,) = events(registry, "OperatorSlashed", source=staking)
    paid = {e.worker for e in events(registry, "WorkerPaid")}
    assert (slash.operator, slash.reason, slash.amount) == (challenger, WRONG_RESULT, COLLATERAL)
    assert staking.bonded(worker) == STAKE
    assert paid == {worker, *fresh}


@pytest.mark.parametrize(
    "case, message",
    [
        ("plain job", "registry: not an optimistic job"),
        ("before the reveal", "registry: no result revealed yet"),
        ("own result", "registry: cannot challenge your own result"),
        ("same result", "registry: the challenge names the revealed result"),
        ("twice", "registry: already challenged"),
        ("window closed", "registry: challenge window closed"),
    ],
)
def test_a_challenge_is_refused_when_it_cannot_stand(
    protocol, registry, requester, staked_operators, case, message
):
    from tests.contracts.conftest import post_job

    worker, challenger, other = staked_operators[:3]
    if case == "plain job":
        job_id = post_job(protocol, requester)
        claim(protocol, job_id, worker)
        commit(protocol, job_id, worker, RIGHT)
        reveal(protocol, job_id, worker, RIGHT)
    elif case == "before the reveal":
        job_id = post_optimistic(protocol, requester)
        claim(protocol, job_id, worker)
    else:
        job_id = revealed_job(protocol, requester, worker, RIGHT)
    by, result = challenger, WRONG
    if case == "own result":
        by = worker
    elif case == "same result":
        result = RIGHT
    elif case == "twice":
        challenge(registry, job_id, other, WRONG)
    elif case == "window closed":
        close_window(registry, job_id)
    with boa.reverts(message):
        challenge(registry, job_id, by, result)
