"""JobRegistry.claim: eligible operators take replica slots until the claim deadline, locking collateral."""

import boa
import pytest

from tests.contracts.conftest import commit, digest_of, escalate, play_round, post_job, reveal, run_job
from tests.contracts.registry.conftest import (
    CLAIMED,
    COMMITTING,
    STAKE,
    TSR,
    claim,
    claimed_job,
    events,
    warp_to,
)


@pytest.fixture
def job(protocol, requester, staked_operators):
    """An open job: 3 replicas, quorum 2, 10 TSR collateral, 600 s claim window."""
    return post_job(protocol, requester, replicas=3, quorum=2)


def test_claim_takes_a_slot_and_locks_collateral(protocol, registry, staking, job, operator):
    with boa.env.prank(operator):
        registry.claim(job)
    (claimed,) = events(registry, "JobClaimed")
    (locked,) = events(registry, "CollateralLocked", source=staking)
    assert (claimed.job_id, claimed.worker, claimed.index) == (job, operator, 0)
    assert (locked.operator, locked.amount, locked.locked) == (operator, 10 * TSR, 10 * TSR)
    assert staking.locked(operator) == 10 * TSR
    assert staking.free_stake(operator) == STAKE - 10 * TSR
    view = registry.get_job(job)
    assert (view.phase, view.claims) == (CLAIMED, 1)
    assert registry.claimants(job) == [operator]


def test_claimants_get_consecutive_indices(protocol, registry, job, staked_operators):
    for index, worker in enumerate(staked_operators[:3]):
        with boa.env.prank(worker):
            registry.claim(job)
        (claimed,) = events(registry, "JobClaimed")
        assert (claimed.worker, claimed.index) == (worker, index)
    view = registry.get_job(job)
    assert (view.claims, view.phase) == (3, COMMITTING)  # full: claims are closed


def test_claim_one_second_before_the_deadline_succeeds(protocol, registry, job, operator):
    warp_to(registry.get_job(job).claim_deadline - 1)
    claim(protocol, job, operator)
    assert registry.get_job(job).claims == 1


def test_claim_at_the_deadline_reverts(protocol, registry, job, operator):
    warp_to(registry.get_job(job).claim_deadline)
    with boa.env.prank(operator), boa.reverts("registry: claim window closed"):
        registry.claim(job)


def test_claim_one_second_after_the_deadline_reverts(protocol, registry, job, operator):
    warp_to(registry.get_job(job).claim_deadline + 1)
    with boa.env.prank(operator), boa.reverts("registry: claim window closed"):
        registry.claim(job)


def test_claim_while_paused_reverts(registry, governance, job, operator):
    with boa.env.prank(governance):
        registry.pause()
    with boa.env.prank(operator), boa.reverts("pausable: contract is paused"):
        registry.claim(job)


def test_claim_of_an_unknown_job_reverts(registry, staked_operators, operator):
    with boa.env.prank(operator), boa.reverts("registry: job not claimable"):
        registry.claim(1)


def test_claim_of_a_cancelled_job_reverts(registry, requester, job, operator):
    with boa.env.prank(requester):
        registry.cancel(job)
    with boa.env.prank(operator), boa.reverts("registry: job not claimable"):
        registry.claim(job)


def test_claim_of_a_completed_job_reverts(protocol, registry, requester, staked_operators):
    job_id = run_job(protocol, requester, staked_operators[:1], [digest_of("r")], replicas=1, quorum=1)
    with boa.env.prank(staked_operators[1]), boa.reverts("registry: job not claimable"):
        registry.claim(job_id)


def test_claim_of_a_full_job_reverts(protocol, registry, requester, staked_operators):
    job_id = claimed_job(protocol, requester, staked_operators[:3])
    with boa.env.prank(staked_operators[3]), boa.reverts("registry: all replicas claimed"):
        registry.claim(job_id)


def test_claiming_twice_reverts(protocol, registry, job, operator):
    claim(protocol, job, operator)
    with boa.env.prank(operator), boa.reverts("registry: already claimed"):
        registry.claim(job)


def test_unregistered_account_cannot_claim(registry, job, stranger):
    """No bonded stake, no selection: the claim stops at the selection check (before, Staking refused it as
    not eligible), at every time in the window."""
    assert registry.selected_at(job, stranger) == 2**256 - 1
    with boa.env.prank(stranger), boa.reverts("registry: not selected for this job yet (see selected_at)"):
        registry.claim(job)
    warp_to(registry.get_job(job).claim_deadline - 1)
    with boa.env.prank(stranger), boa.reverts("registry: not selected for this job yet (see selected_at)"):
        registry.claim(job)


def test_jailed_operator_cannot_claim(protocol, registry, requester, staked_operators):
    """A wrong result jails the worker once the escalation round confirms the others (see test_finalize);
    it then cannot claim new jobs, though it is still bonded (so still selected)."""
    workers = staked_operators[:3]
    job_id = claimed_job(protocol, requester, workers)

    results = [digest_of("a"), digest_of("a"), digest_of("b")]
    for w, r in zip(workers, results, strict=True):
        commit(protocol, job_id, w, r)
    for w, r in zip(workers, results, strict=True):
        reveal(protocol, job_id, w, r)
    escalate(protocol, job_id)
    play_round(protocol, job_id, staked_operators[3:6], [digest_of("a")] * 3)
    registry.finalize(job_id)
    assert not protocol.staking.is_eligible(workers[2])
    next_job = post_job(protocol, requester, replicas=3, quorum=2)
    with boa.env.prank(workers[2]), boa.reverts("staking: operator not eligible"):
        registry.claim(next_job)


def test_collateral_above_free_stake_reverts(protocol, registry, requester, operator, staked_operators):
    job_id = post_job(protocol, requester, fee=20 * TSR, collateral=STAKE + 1)
    with boa.env.prank(operator), boa.reverts("staking: free stake below collateral"):
        registry.claim(job_id)


def test_collateral_equal_to_free_stake_is_accepted(
    protocol, registry, staking, requester, operator, staked_operators
):
    job_id = post_job(protocol, requester, collateral=STAKE)
    claim(protocol, job_id, operator)
    assert staking.free_stake(operator) == 0
