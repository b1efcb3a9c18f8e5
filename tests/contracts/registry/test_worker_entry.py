"""JobRegistry.worker_entry: claimed/committed/revealed flags and the seal (commitment, then digest)."""

from tests.contracts.conftest import RESULT_CID, commit, digest_of, post_job, reveal
from tests.contracts.registry.conftest import claim

A = digest_of("a")
EMPTY = (False, False, False, b"\x00" * 32)


def test_non_claimant_entry_is_empty(protocol, registry, requester, stranger, staked_operators):
    assert tuple(registry.worker_entry(1, stranger)) == EMPTY
    job_id = post_job(protocol, requester)
    claim(protocol, job_id, staked_operators[0])
    assert tuple(registry.worker_entry(job_id, stranger)) == EMPTY


def test_entry_tracks_claim_commit_and_reveal(protocol, registry, requester, staked_operators):
    worker, other = staked_operators[:2]
    job_id = post_job(protocol, requester, replicas=2, quorum=2)
    claim(protocol, job_id, other, worker)
    assert tuple(registry.worker_entry(job_id, worker)) == (True, False, False, b"\x00" * 32)
    salt = commit(protocol, job_id, worker, A)
    sealed = registry.commitment_for(job_id, worker, A, RESULT_CID, salt)
    assert tuple(registry.worker_entry(job_id, worker)) == (True, True, False, sealed)
    assert tuple(registry.worker_entry(job_id, other)) == (True, False, False, b"\x00" * 32)
    commit(protocol, job_id, other, A)
    reveal(protocol, job_id, worker, A)
    assert tuple(registry.worker_entry(job_id, worker)) == (True, True, True, A)
