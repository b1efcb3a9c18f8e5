"""JobRegistry.claim_and_commit: a claim and a commit in one transaction (one transaction fewer per replica),
with exactly the checks, effects and events of the two calls."""

import boa

from tests.contracts.conftest import RESULT_CID, digest_of, post_job, reveal, salt_of
from tests.contracts.registry.conftest import COMPLETED, STAKE, TSR, claim, events, warp_to

A = digest_of("a")


def sealed(registry, job_id, worker, result=A):
    return registry.commitment_for(job_id, worker, result, RESULT_CID, salt_of(worker))


def test_claims_and_commits_with_both_events(
    protocol, registry, staking, requester, operator, staked_operators
):
    job_id = post_job(protocol, requester, replicas=3, quorum=2)
    seal = sealed(registry, job_id, operator)
    with boa.env.prank(operator):
        registry.claim_and_commit(job_id, seal)
    (claimed,) = events(registry, "JobClaimed")
    (committed,) = events(registry, "ResultCommitted")
    assert (claimed.worker, claimed.index) == (operator, 0)
    assert (committed.worker, committed.commitment) == (operator, seal)
    assert tuple(registry.worker_entry(job_id, operator)) == (True, True, False, seal)
    assert staking.locked(operator) == 10 * TSR
    view = registry.get_job(job_id)
    assert (view.claims, view.commits) == (1, 1)


def test_mixes_with_separate_claims_and_completes(protocol, registry, requester, staked_operators):
    first, second, third = staked_operators[:3]
    job_id = post_job(protocol, requester, replicas=3, quorum=2)
    claim(protocol, job_id, first)
    for worker in (second, third):
        with boa.env.prank(worker):
            registry.claim_and_commit(job_id, sealed(registry, job_id, worker))
    with boa.env.prank(first):
        registry.commit(job_id, sealed(registry, job_id, first))
    assert registry.claimants(job_id) == [first, second, third]
    for worker in (first, second, third):
        reveal(protocol, job_id, worker, A)
    registry.finalize(job_id)
    assert registry.get_job(job_id).phase == COMPLETED


def test_refuses_what_claim_or_commit_refuses(
    protocol, registry, governance, requester, operator, staked_operators
):
    job_id = post_job(protocol, requester, replicas=1, quorum=1)
    with boa.env.prank(operator), boa.reverts("registry: empty commitment"):
        registry.claim_and_commit(job_id, b"\x00" * 32)
    with boa.env.prank(operator):
        registry.claim_and_commit(job_id, sealed(registry, job_id, operator))
    with boa.env.prank(operator), boa.reverts("registry: all replicas claimed"):
        registry.claim_and_commit(job_id, sealed(registry, job_id, operator))
    late = post_job(protocol, requester)
    warp_to(registry.get_job(late).claim_deadline)
    with boa.env.prank(staked_operators[1]), boa.reverts("registry: claim window closed"):
        registry.claim_and_commit(late, sealed(registry, late, staked_operators[1]))
    risky = post_job(protocol, requester, fee=20 * TSR, collateral=STAKE + 1)
    with boa.env.prank(staked_operators[2]), boa.reverts("staking: free stake below collateral"):
        registry.claim_and_commit(risky, sealed(registry, risky, staked_operators[2]))
    with boa.env.prank(governance):
        registry.pause()
    with boa.env.prank(staked_operators[2]), boa.reverts("pausable: contract is paused"):
        registry.claim_and_commit(risky, sealed(registry, risky, staked_operators[2]))
