"""JobRegistry.reveal: opens a commitment once reveals are open and before the reveal deadline."""

import boa
import pytest

from tests.contracts.conftest import commit, digest_of, post_job, reveal, run_job, salt_of
from tests.contracts.registry.conftest import REVEALING, claim, claimed_job, events, warp_to

RESULT = digest_of("result")


@pytest.fixture
def job(protocol, requester, staked_operators):
    """3 replicas, quorum 2; operators 0-2 claimed and committed RESULT: reveals are open."""
    job_id = claimed_job(protocol, requester, staked_operators[:3])
    for worker in staked_operators[:3]:
        commit(protocol, job_id, worker, RESULT)
    return job_id


def test_reveal_replaces_the_seal_with_the_digest_and_logs(registry, job, operator):
    with boa.env.prank(operator):
        registry.reveal(job, RESULT, "bafyresult", salt_of(operator))
    (revealed,) = events(registry, "ResultRevealed")
    assert (revealed.job_id, revealed.worker, revealed.result_digest, revealed.result_cid) == (
        job,
        operator,
        RESULT,
        "bafyresult",
    )
    entry = registry.worker_entry(job, operator)
    assert (entry.committed, entry.revealed, entry.seal) == (True, True, RESULT)
    assert registry.get_job(job).reveals == 1


def test_reveal_opens_early_once_every_replica_claimed_and_committed(registry, job):
    view = registry.get_job(job)
    assert boa.env.timestamp < view.claim_deadline
    assert view.phase == REVEALING


def test_reveal_is_not_open_while_a_claimant_has_not_committed(
    protocol, registry, requester, staked_operators
):
    job_id = claimed_job(protocol, requester, staked_operators[:3])
    commit(protocol, job_id, staked_operators[0], RESULT)
    commit(protocol, job_id, staked_operators[1], RESULT)
    with boa.env.prank(staked_operators[0]), boa.reverts("registry: reveal not open"):
        registry.reveal(job_id, RESULT, "bafyresult", salt_of(staked_operators[0]))


def test_reveal_is_not_open_while_replicas_can_still_claim(protocol, registry, requester, staked_operators):
    job_id = post_job(protocol, requester, replicas=3, quorum=2)
    claim(protocol, job_id, staked_operators[0])
    commit(protocol, job_id, staked_operators[0], RESULT)
    with boa.env.prank(staked_operators[0]), boa.reverts("registry: reveal not open"):
        registry.reveal(job_id, RESULT, "bafyresult", salt_of(staked_operators[0]))
    # once the claim window closes, every claimant has committed: reveals open
    warp_to(registry.get_job(job_id).claim_deadline)
    reveal(protocol, job_id, staked_operators[0], RESULT)


def test_reveal_opens_at_the_commit_deadline_exactly(protocol, registry, requester, staked_operators):
    job_id = claimed_job(protocol, requester, staked_operators[:3])
    commit(protocol, job_id, staked_operators[0], RESULT)
    warp_to(registry.get_job(job_id).commit_deadline - 1)
    with boa.env.prank(staked_operators[0]), boa.reverts("registry: reveal not open"):
        registry.reveal(job_id, RESULT, "bafyresult", salt_of(staked_operators[0]))
    boa.env.time_travel(seconds=1)
    reveal(protocol, job_id, staked_operators[0], RESULT)


def test_reveal_one_second_before_the_deadline_succeeds(protocol, registry, job, operator):
    warp_to(registry.get_job(job).reveal_deadline - 1)
    reveal(protocol, job, operator, RESULT)


def test_reveal_at_the_deadline_reverts(registry, job, operator):
    warp_to(registry.get_job(job).reveal_deadline)
    with boa.env.prank(operator), boa.reverts("registry: reveal deadline passed"):
        registry.reveal(job, RESULT, "bafyresult", salt_of(operator))


def test_reveal_one_second_after_the_deadline_reverts(registry, job, operator):
    warp_to(registry.get_job(job).reveal_deadline + 1)
    with boa.env.prank(operator), boa.reverts("registry: reveal deadline passed"):
        registry.reveal(job, RESULT, "bafyresult", salt_of(operator))


def test_reveal_while_paused_succeeds(protocol, registry, governance, job, operator):
    with boa.env.prank(governance):
        registry.pause()
    reveal(protocol, job, operator, RESULT)


def test_reveal_with_another_salt_reverts(registry, job, operator):
    with boa.env.prank(operator), boa.reverts("registry: reveal does not match commitment"):
        registry.reveal(job, RESULT, "bafyresult", b"\x07" * 32)


def test_reveal_of_another_digest_reverts(registry, job, operator):
    with boa.env.prank(operator), boa.reverts("registry: reveal does not match commitment"):
        registry.reveal(job, digest_of("something else"), "bafyresult", salt_of(operator))


def test_copied_commitment_cannot_be_revealed_by_the_copier(protocol, registry, requester, staked_operators):
    """T5: the commitment binds the worker, so copying an honest worker's seal is useless."""
    honest, copier = staked_operators[:2]
    job_id = claimed_job(protocol, requester, [honest, copier], replicas=2, quorum=2)
    commit(protocol, job_id, honest, RESULT)
    with boa.env.prank(copier):
        registry.commit(job_id, registry.worker_entry(job_id, honest).seal)
    with boa.env.prank(copier), boa.reverts("registry: reveal does not match commitment"):
        registry.reveal(job_id, RESULT, "bafyresult", salt_of(honest))


def test_claimant_without_commitment_cannot_reveal(protocol, registry, requester, staked_operators):
    job_id = claimed_job(protocol, requester, staked_operators[:3])
    commit(protocol, job_id, staked_operators[0], RESULT)
    warp_to(registry.get_job(job_id).commit_deadline)
    with boa.env.prank(staked_operators[1]), boa.reverts("registry: no commitment"):
        registry.reveal(job_id, RESULT, "bafyresult", salt_of(staked_operators[1]))


def test_revealing_twice_reverts(protocol, registry, job, operator):
    reveal(protocol, job, operator, RESULT)
    with boa.env.prank(operator), boa.reverts("registry: already revealed"):
        registry.reveal(job, RESULT, "bafyresult", salt_of(operator))


def test_non_claimant_cannot_reveal(registry, job, staked_operators):
    outsider = staked_operators[6]
    with boa.env.prank(outsider), boa.reverts("registry: caller did not claim this job"):
        registry.reveal(job, RESULT, "bafyresult", salt_of(outsider))


def test_reveal_on_a_settled_job_reverts(protocol, registry, requester, staked_operators):
    job_id = run_job(protocol, requester, staked_operators[:1], [RESULT])
    with boa.env.prank(staked_operators[0]), boa.reverts("registry: job not in progress"):
        registry.reveal(job_id, RESULT, "bafyresult", salt_of(staked_operators[0]))


def test_reveal_on_an_open_job_reverts(protocol, registry, requester, operator, staked_operators):
    job_id = post_job(protocol, requester)
    with boa.env.prank(operator), boa.reverts("registry: job not in progress"):
        registry.reveal(job_id, RESULT, "bafyresult", salt_of(operator))


def test_reveal_with_an_empty_result_cid_reverts(protocol, requester, staked_operators):
    """A reveal must say where the result is: an empty CID would leave the requester nothing to fetch."""
    worker = staked_operators[0]
    job_id = post_job(protocol, requester)
    with boa.env.prank(worker):
        protocol.registry.claim(job_id)
    commit(protocol, job_id, worker, digest_of("r"))
    with boa.env.prank(worker), boa.reverts("registry: empty result cid"):
        protocol.registry.reveal(job_id, digest_of("r"), "", salt_of(worker))
