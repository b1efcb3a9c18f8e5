"""JobRegistry.claimants: the job's claimants in claim order."""

from tests.contracts.conftest import digest_of, escalate, play_round, post_job
from tests.contracts.registry.conftest import MAX_REPLICAS, claim


def test_unknown_or_unclaimed_job_has_no_claimants(protocol, registry, requester, staked_operators):
    assert registry.claimants(1) == []
    job_id = post_job(protocol, requester)
    assert registry.claimants(job_id) == []


def test_claimants_in_claim_order_up_to_max_replicas(protocol, registry, requester, staked_operators):
    """Every round's claimants, in claim order: 3 in round 0 (posted replicas 3, they disagree), 5 in the
    escalation round fill MAX_REPLICAS; get_job().first_slot marks where round 1 starts."""
    job_id = post_job(protocol, requester, replicas=3, quorum=2)
    order = list(reversed(staked_operators))
    play_round(protocol, job_id, order[:3], [digest_of("a"), digest_of("b"), digest_of("a")])
    assert registry.claimants(job_id) == order[:3]
    escalate(protocol, job_id)
    claim(protocol, job_id, *order[3:])
    assert registry.claimants(job_id) == order
    assert len(order) == MAX_REPLICAS
    assert registry.get_job(job_id).first_slot == 3


def test_claimants_are_per_job(protocol, registry, requester, staked_operators):
    first = post_job(protocol, requester, replicas=2, quorum=2)
    second = post_job(protocol, requester, replicas=2, quorum=2)
    claim(protocol, first, staked_operators[0])
    claim(protocol, second, staked_operators[1])
    assert registry.claimants(first) == [staked_operators[0]]
    assert registry.claimants(second) == [staked_operators[1]]
