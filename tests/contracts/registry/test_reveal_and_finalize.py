"""JobRegistry.reveal_and_finalize: a reveal that also settles the job when it was the last reveal owed, so
the last revealer needs no separate finalize transaction; otherwise exactly a reveal."""

import boa

from tests.contracts.conftest import (
    RESULT_CID,
    commit,
    digest_of,
    escalate,
    play_round,
    post_job,
    reveal,
    salt_of,
)
from tests.contracts.registry.conftest import COMPLETED, FAILED, REVEALING, claim, events

A, B = digest_of("a"), digest_of("b")


def reveal_and_finalize(registry, job_id, worker, result):
    with boa.env.prank(worker):
        return registry.reveal_and_finalize(job_id, result, RESULT_CID, salt_of(worker))


def test_the_last_reveal_settles_the_job(protocol, registry, requester, staked_operators):
    workers = staked_operators[:3]
    job_id = post_job(protocol, requester, replicas=3, quorum=2)
    claim(protocol, job_id, *workers)
    for w in workers:
        commit(protocol, job_id, w, A)
    reveal(protocol, job_id, workers[0], A)
    reveal(protocol, job_id, workers[1], A)
    assert reveal_and_finalize(registry, job_id, workers[2], A) is True
    (revealed,) = events(registry, "ResultRevealed")
    (completed,) = events(registry, "JobCompleted")
    assert revealed.worker == workers[2]
    assert (completed.job_id, completed.agreeing) == (job_id, 3)
    assert len(events(registry, "WorkerPaid")) == 3
    assert registry.get_job(job_id).phase == COMPLETED
    registry.finalize(job_id)  # a finalizer that lost the race: a no-op
    assert [e.job_id for e in events(registry, "JobAlreadySettled")] == [job_id]


def test_a_reveal_that_is_not_the_last_only_reveals(protocol, registry, requester, staked_operators):
    workers = staked_operators[:2]
    job_id = post_job(protocol, requester, replicas=2, quorum=2)
    claim(protocol, job_id, *workers)
    for w in workers:
        commit(protocol, job_id, w, A)
    assert reveal_and_finalize(registry, job_id, workers[0], A) is False
    assert events(registry, "JobCompleted") == []
    assert registry.get_job(job_id).phase == REVEALING
    assert registry.worker_entry(job_id, workers[0]).revealed


def test_a_single_replica_job_completes_in_its_reveal(
    protocol, registry, token, requester, operator, staked_operators
):
    job_id = post_job(protocol, requester)
    claim(protocol, job_id, operator)
    commit(protocol, job_id, operator, A)
    before = token.balanceOf(operator)
    assert reveal_and_finalize(registry, job_id, operator, A) is True
    assert registry.get_job(job_id).phase == COMPLETED
    assert token.balanceOf(operator) > before


def test_the_last_reveal_of_a_disagreeing_round_returns_false_and_leaves_it_to_escalate(
    protocol, registry, token, requester, staked_operators
):
    """A disagreeing round does not settle on its last reveal (it used to fail at once): it escalates at its
    reveal deadline (finalize), so reveal_and_finalize only reveals and returns False."""
    workers = staked_operators[:2]
    job_id = post_job(protocol, requester, replicas=2, quorum=2)
    claim(protocol, job_id, *workers)
    commit(protocol, job_id, workers[0], A)
    commit(protocol, job_id, workers[1], B)
    reveal(protocol, job_id, workers[0], A)
    before = token.balanceOf(requester)
    assert reveal_and_finalize(registry, job_id, workers[1], B) is False
    assert events(registry, "JobFailed") == [] and events(registry, "JobEscalated") == []
    assert registry.get_job(job_id).phase == REVEALING
    assert registry.get_job(job_id).reveals == 2
    assert token.balanceOf(requester) == before
    with boa.reverts("registry: reveals disagree; the round escalates at its reveal deadline"):
        registry.finalize(job_id)


def test_the_last_reveal_of_a_disagreeing_final_round_fails_it_and_refunds(
    protocol, registry, token, requester, staked_operators
):
    """In the last round (no 3 slots left) a split settles at once: Failed, the fee refunded."""
    workers = staked_operators[:2]
    job_id = post_job(protocol, requester, replicas=2, quorum=2)
    play_round(protocol, job_id, workers, [A, B])
    escalate(protocol, job_id)
    fresh = staked_operators[2:6]
    claim(protocol, job_id, *fresh)
    for w, r in zip(fresh, [A, B, A, B], strict=True):
        commit(protocol, job_id, w, r)
    for w, r in zip(fresh[:3], [A, B, A], strict=True):
        reveal(protocol, job_id, w, r)
    before = token.balanceOf(requester)
    assert reveal_and_finalize(registry, job_id, fresh[3], B) is True
    assert registry.get_job(job_id).phase == FAILED
    assert token.balanceOf(requester) == before + 10 * 10**18


def test_it_checks_what_reveal_checks(protocol, registry, requester, operator, staked_operators):
    job_id = post_job(protocol, requester)
    claim(protocol, job_id, operator)
    commit(protocol, job_id, operator, A)
    with boa.env.prank(operator), boa.reverts("registry: reveal does not match commitment"):
        registry.reveal_and_finalize(job_id, B, RESULT_CID, salt_of(operator))
    with boa.env.prank(operator), boa.reverts("registry: reveal does not match commitment"):
        registry.reveal_and_finalize(job_id, A, "bafkreiother", salt_of(operator))
