"""JobRegistry.claimants: the job's claimants in claim order."""

from tests.contracts.conftest import post_job
from tests.contracts.registry.conftest import MAX_REPLICAS, claim


def test_unknown_or_unclaimed_job_has_no_claimants(protocol, registry, requester, staked_operators):
    assert registry.claimants(1) == []
    job_id = post_job(protocol, requester)
    assert registry.claimants(job_id) == []


def test_claimants_in_claim_order_up_to_max_replicas(protocol, registry, requester, staked_operators):
    job_id = post_job(protocol, requester, replicas=MAX_REPLICAS, quorum=5)
    order = list(reversed(staked_operators))
    claim(protocol, job_id, *order[:3])
    assert registry.claimants(job_id) == order[:3]
    claim(protocol, job_id, *order[3:])
    assert registry.claimants(job_id) == order


def test_claimants_are_per_job(protocol, registry, requester, staked_operators):
    first = post_job(protocol, requester, replicas=2, quorum=2)
    second = post_job(protocol, requester, replicas=2, quorum=2)
    claim(protocol, first, staked_operators[0])
    claim(protocol, second, staked_operators[1])
    assert registry.claimants(first) == [staked_operators[0]]
    assert registry.claimants(second) == [staked_operators[1]]
