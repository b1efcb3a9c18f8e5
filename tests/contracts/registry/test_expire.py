"""JobRegistry.expire: anyone refunds a job whose claim window closed unclaimed; never blocked by pause."""

import boa
import pytest

from tests.contracts.conftest import post_job
from tests.contracts.registry.conftest import EXPIRED, TSR, claim, events, warp_to


@pytest.fixture
def job(protocol, requester, staked_operators):
    return post_job(protocol, requester, fee=10 * TSR)


def test_anyone_expires_an_unclaimed_job_and_refunds_the_requester(registry, token, requester, stranger, job):
    warp_to(registry.get_job(job).claim_deadline)
    before = token.balanceOf(requester)
    with boa.env.prank(stranger):
        registry.expire(job)
    (expired,) = events(registry, "JobExpired")
    assert (expired.job_id, expired.refunded) == (job, 10 * TSR)
    assert token.balanceOf(requester) == before + 10 * TSR
    assert token.balanceOf(stranger) == 0
    assert token.balanceOf(registry.address) == 0
    assert registry.get_job(job).phase == EXPIRED


def test_expire_one_second_before_the_claim_deadline_reverts(registry, job):
    warp_to(registry.get_job(job).claim_deadline - 1)
    with boa.reverts("registry: claim window still open"):
        registry.expire(job)


def test_expire_exactly_at_the_claim_deadline_succeeds(registry, job):
    warp_to(registry.get_job(job).claim_deadline)
    registry.expire(job)
    assert registry.get_job(job).phase == EXPIRED


def test_expire_one_second_after_the_claim_deadline_succeeds(registry, job):
    warp_to(registry.get_job(job).claim_deadline + 1)
    registry.expire(job)
    assert registry.get_job(job).phase == EXPIRED


def test_claim_and_expire_split_the_deadline_exactly(protocol, registry, job, operator):
    deadline = registry.get_job(job).claim_deadline
    with boa.env.anchor():
        warp_to(deadline - 1)
        claim(protocol, job, operator)  # last second to claim
        with boa.reverts("registry: job not open"):
            registry.expire(job)
    warp_to(deadline)
    with boa.env.prank(operator), boa.reverts("registry: claim window closed"):
        registry.claim(job)
    registry.expire(job)  # first second to expire


def test_expire_while_paused_succeeds(registry, governance, job):
    with boa.env.prank(governance):
        registry.pause()
    warp_to(registry.get_job(job).claim_deadline)
    registry.expire(job)
    assert registry.get_job(job).phase == EXPIRED


def test_expire_of_a_claimed_job_reverts(protocol, registry, job, operator):
    claim(protocol, job, operator)
    warp_to(registry.get_job(job).claim_deadline)
    with boa.reverts("registry: job not open"):
        registry.expire(job)


def test_expire_twice_reverts(registry, job):
    warp_to(registry.get_job(job).claim_deadline)
    registry.expire(job)
    with boa.reverts("registry: job not open"):
        registry.expire(job)


def test_expire_of_a_cancelled_or_unknown_job_reverts(registry, requester, job):
    with boa.env.prank(requester):
        registry.cancel(job)
    warp_to(registry.get_job(job).claim_deadline)
    for target in (job, 42):
        with boa.reverts("registry: job not open"):
            registry.expire(target)
