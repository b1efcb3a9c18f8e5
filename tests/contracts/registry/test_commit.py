"""JobRegistry.commit: a claimant commits once, before the commit deadline; never blocked by pause."""

import boa
import pytest

from tests.contracts.conftest import RESULT_CID, digest_of, post_job, salt_of
from tests.contracts.registry.conftest import claim, claimed_job, events, warp_to


@pytest.fixture
def job(protocol, requester, staked_operators):
    """3 replicas, quorum 2; operators 0 and 1 claimed; claim window still open."""
    job_id = post_job(protocol, requester, replicas=3, quorum=2)
    claim(protocol, job_id, *staked_operators[:2])
    return job_id


def commitment(registry, job_id, worker, label="result"):
    return registry.commitment_for(job_id, worker, digest_of(label), RESULT_CID, salt_of(worker))


def test_commit_records_the_commitment_and_logs(registry, job, operator):
    sealed = commitment(registry, job, operator)
    with boa.env.prank(operator):
        registry.commit(job, sealed)
    (committed,) = events(registry, "ResultCommitted")
    assert (committed.job_id, committed.worker, committed.commitment) == (job, operator, sealed)
    entry = registry.worker_entry(job, operator)
    assert (entry.claimed, entry.committed, entry.revealed, entry.seal) == (True, True, False, sealed)
    assert registry.get_job(job).commits == 1


def test_commit_is_accepted_while_claims_are_still_open(registry, job, operator):
    assert boa.env.timestamp < registry.get_job(job).claim_deadline
    with boa.env.prank(operator):
        registry.commit(job, commitment(registry, job, operator))


def test_commit_one_second_before_the_deadline_succeeds(registry, job, operator):
    warp_to(registry.get_job(job).commit_deadline - 1)
    with boa.env.prank(operator):
        registry.commit(job, commitment(registry, job, operator))
    assert registry.get_job(job).commits == 1


def test_commit_at_the_deadline_reverts(registry, job, operator):
    warp_to(registry.get_job(job).commit_deadline)
    with boa.env.prank(operator), boa.reverts("registry: commit deadline passed"):
        registry.commit(job, commitment(registry, job, operator))


def test_commit_one_second_after_the_deadline_reverts(registry, job, operator):
    warp_to(registry.get_job(job).commit_deadline + 1)
    with boa.env.prank(operator), boa.reverts("registry: commit deadline passed"):
        registry.commit(job, commitment(registry, job, operator))


def test_commit_while_paused_succeeds(registry, governance, job, operator):
    with boa.env.prank(governance):
        registry.pause()
    with boa.env.prank(operator):
        registry.commit(job, commitment(registry, job, operator))
    assert registry.get_job(job).commits == 1


def test_non_claimant_cannot_commit(registry, job, staked_operators):
    outsider = staked_operators[5]
    with boa.env.prank(outsider), boa.reverts("registry: caller did not claim this job"):
        registry.commit(job, commitment(registry, job, outsider))


def test_commit_on_an_open_job_reverts(protocol, registry, requester, operator, staked_operators):
    job_id = post_job(protocol, requester)
    with boa.env.prank(operator), boa.reverts("registry: job not in progress"):
        registry.commit(job_id, commitment(registry, job_id, operator))


def test_commit_on_an_unknown_job_reverts(registry, operator):
    with boa.env.prank(operator), boa.reverts("registry: job not in progress"):
        registry.commit(99, b"\x01" * 32)


def test_commit_on_a_settled_job_reverts(protocol, registry, requester, staked_operators):
    job_id = claimed_job(protocol, requester, staked_operators[:2], replicas=2, quorum=2)
    warp_to(registry.get_job(job_id).commit_deadline)
    registry.finalize(job_id)  # nobody committed: Failed
    with boa.env.prank(staked_operators[0]), boa.reverts("registry: job not in progress"):
        registry.commit(job_id, b"\x01" * 32)


def test_empty_commitment_reverts(registry, job, operator):
    with boa.env.prank(operator), boa.reverts("registry: empty commitment"):
        registry.commit(job, b"\x00" * 32)


def test_committing_twice_reverts(registry, job, operator):
    with boa.env.prank(operator):
        registry.commit(job, commitment(registry, job, operator))
        with boa.reverts("registry: already committed"):
            registry.commit(job, commitment(registry, job, operator, "another result"))
    assert registry.worker_entry(job, operator).seal == commitment(registry, job, operator)
