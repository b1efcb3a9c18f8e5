"""JobRegistry.get_job: terms, counts, deadlines and the phase, derived from state, time and counts:
OPEN -> CLAIMED -> COMMITTING -> REVEALING -> COMPLETED | FAILED; OPEN -> CANCELLED | EXPIRED."""

import boa

from tests.contracts.conftest import commit, digest_of, escalate, play_round, post_job, reveal
from tests.contracts.registry.conftest import (
    CANCELLED,
    CLAIMED,
    COMMITTING,
    COMPLETED,
    EXPIRED,
    FAILED,
    OPEN,
    REVEALING,
    UNKNOWN,
    ZERO,
    claim,
    warp_to,
)

A, B = digest_of("a"), digest_of("b")


def phase(registry, job_id):
    return registry.get_job(job_id).phase


def test_unknown_job_is_all_zero(registry):
    view = registry.get_job(1)
    assert view.phase == UNKNOWN
    assert view.requester == ZERO
    assert tuple(view)[2:] == (0,) * 12  # terms, counts, deadlines, round and first_slot


def test_phases_of_a_completed_job(protocol, registry, requester, staked_operators):
    ops = staked_operators[:3]
    job_id = post_job(protocol, requester, replicas=3, quorum=2)
    assert phase(registry, job_id) == OPEN
    claim(protocol, job_id, ops[0])
    assert phase(registry, job_id) == CLAIMED
    commit(protocol, job_id, ops[0], A)
    assert phase(registry, job_id) == CLAIMED  # replicas can still claim
    claim(protocol, job_id, ops[1], ops[2])
    assert phase(registry, job_id) == COMMITTING  # full, two commitments missing
    commit(protocol, job_id, ops[1], A)
    commit(protocol, job_id, ops[2], A)
    assert phase(registry, job_id) == REVEALING  # everyone committed: reveals open early
    view = registry.get_job(job_id)
    assert (view.claims, view.commits, view.reveals) == (3, 3, 0)
    for w in ops:
        reveal(protocol, job_id, w, A)
    assert registry.get_job(job_id).reveals == 3
    assert phase(registry, job_id) == REVEALING  # until someone finalizes
    registry.finalize(job_id)
    assert phase(registry, job_id) == COMPLETED


def test_phase_follows_the_clock(protocol, registry, requester, staked_operators):
    op = staked_operators[0]
    job_id = post_job(protocol, requester, replicas=3, quorum=2)
    claim(protocol, job_id, op)
    view = registry.get_job(job_id)
    warp_to(view.claim_deadline - 1)
    assert phase(registry, job_id) == CLAIMED
    boa.env.time_travel(seconds=1)
    assert phase(registry, job_id) == COMMITTING  # claims closed, commitment missing
    warp_to(view.commit_deadline - 1)
    assert phase(registry, job_id) == COMMITTING
    boa.env.time_travel(seconds=1)
    assert phase(registry, job_id) == REVEALING  # commit deadline passed
    warp_to(view.reveal_deadline + 10**6)
    assert phase(registry, job_id) == REVEALING  # stays until finalized
    registry.finalize(job_id)
    assert phase(registry, job_id) == FAILED


def test_failed_phase_without_quorum(protocol, registry, requester, staked_operators):
    """No round reaches a quorum: round 0 (2 replicas) splits and escalates; the final round splits too."""
    ops = staked_operators[:2]
    job_id = post_job(protocol, requester, replicas=2, quorum=2)
    play_round(protocol, job_id, ops, [A, B])
    assert phase(registry, job_id) == REVEALING
    escalate(protocol, job_id)
    assert phase(registry, job_id) == CLAIMED  # the new round is claimable
    play_round(protocol, job_id, staked_operators[2:6], [A, B, A, B])
    registry.finalize(job_id)
    assert phase(registry, job_id) == FAILED


def test_an_escalated_job_shows_its_current_round(protocol, registry, requester, staked_operators):
    """replicas, quorum, claims, commits, reveals and the deadlines are the current round's; round counts
    escalations and first_slot is where the round starts in claimants()."""
    job_id = post_job(protocol, requester, replicas=3, quorum=2)
    view = registry.get_job(job_id)
    assert (view.round, view.first_slot, view.replicas, view.quorum) == (0, 0, 3, 2)
    play_round(protocol, job_id, staked_operators[:3], [A, B, A])
    view = registry.get_job(job_id)
    assert (view.claims, view.commits, view.reveals) == (3, 3, 3)
    escalated = escalate(protocol, job_id)
    now = boa.env.timestamp
    view = registry.get_job(job_id)
    assert (view.round, view.first_slot, view.replicas, view.quorum) == (1, 3, 5, 3)
    assert (view.claims, view.commits, view.reveals, view.phase) == (0, 0, 0, CLAIMED)
    assert (view.claim_deadline, view.commit_deadline, view.reveal_deadline) == (
        now + 600,
        now + 1200,
        now + 1800,
    )
    assert (escalated.claim_deadline, escalated.commit_deadline, escalated.reveal_deadline) == (
        view.claim_deadline,
        view.commit_deadline,
        view.reveal_deadline,
    )
    claim(protocol, job_id, staked_operators[3])
    commit(protocol, job_id, staked_operators[3], A)
    view = registry.get_job(job_id)
    assert (view.claims, view.commits, view.reveals, view.phase) == (1, 1, 0, CLAIMED)
    assert view.fee == 10 * 10**18 and view.requester == requester


def test_cancelled_and_expired_phases(protocol, registry, requester, staked_operators):
    cancelled = post_job(protocol, requester)
    expired = post_job(protocol, requester)
    with boa.env.prank(requester):
        registry.cancel(cancelled)
    assert phase(registry, cancelled) == CANCELLED
    warp_to(registry.get_job(expired).claim_deadline)
    assert phase(registry, expired) == OPEN  # until someone expires it
    registry.expire(expired)
    assert phase(registry, expired) == EXPIRED


def test_terminal_views_keep_the_terms(protocol, registry, requester, staked_operators):
    job_id = post_job(protocol, requester, fee=3 * 10**18, collateral=11 * 10**18)
    before = registry.get_job(job_id)
    with boa.env.prank(requester):
        registry.cancel(job_id)
    after = registry.get_job(job_id)
    assert after._replace(phase=OPEN) == before
