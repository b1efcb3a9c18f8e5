"""JobRegistry.cancel: the requester withdraws a job nobody claimed; never blocked by pause."""

import boa
import pytest

from tests.contracts.conftest import deploy_protocol, post_job
from tests.contracts.registry.conftest import CANCELLED, TSR, claim, events, warp_to


@pytest.fixture
def job(protocol, requester, staked_operators):
    return post_job(protocol, requester, fee=10 * TSR)


def test_requester_cancels_and_is_refunded(registry, token, requester, job):
    before = token.balanceOf(requester)
    with boa.env.prank(requester):
        registry.cancel(job)
    (cancelled,) = events(registry, "JobCancelled")
    assert (cancelled.job_id, cancelled.refunded) == (job, 10 * TSR)
    assert token.balanceOf(requester) == before + 10 * TSR
    assert token.balanceOf(registry.address) == 0
    assert registry.get_job(job).phase == CANCELLED


def test_cancel_after_the_claim_window_is_still_allowed(registry, requester, job):
    warp_to(registry.get_job(job).claim_deadline + 1)
    with boa.env.prank(requester):
        registry.cancel(job)
    assert registry.get_job(job).phase == CANCELLED


def test_cancel_while_paused_succeeds(registry, governance, requester, job):
    with boa.env.prank(governance):
        registry.pause()
    with boa.env.prank(requester):
        registry.cancel(job)
    assert registry.get_job(job).phase == CANCELLED


def test_only_the_requester_can_cancel(registry, job, stranger, governance):
    for account in (stranger, governance):
        with boa.env.prank(account), boa.reverts("registry: caller is not the requester"):
            registry.cancel(job)


def test_cancel_of_a_claimed_job_reverts(protocol, registry, requester, job, operator):
    claim(protocol, job, operator)
    with boa.env.prank(requester), boa.reverts("registry: job not open"):
        registry.cancel(job)


def test_cancel_twice_reverts(registry, requester, job):
    with boa.env.prank(requester):
        registry.cancel(job)
        with boa.reverts("registry: job not open"):
            registry.cancel(job)


def test_cancel_of_an_expired_job_reverts(registry, requester, job):
    warp_to(registry.get_job(job).claim_deadline)
    registry.expire(job)
    with boa.env.prank(requester), boa.reverts("registry: job not open"):
        registry.cancel(job)


def test_cancel_of_an_unknown_job_reverts(registry, requester):
    with boa.env.prank(requester), boa.reverts("registry: job not open"):
        registry.cancel(42)


def test_refund_with_a_fee_token_returning_false_reverts(
    token_deployer,
    staking_deployer,
    emitter_deployer,
    registry_deployer,
    odd_token_deployer,
    governance,
    requester,
):
    odd = odd_token_deployer.deploy()
    p = deploy_protocol(
        token_deployer, staking_deployer, emitter_deployer, registry_deployer, governance, fee_token=odd
    )
    odd.mint(requester, 10 * TSR)
    with boa.env.prank(requester):
        odd.approve(p.registry.address, 10 * TSR)
        job_id = p.registry.post_job("bafyspec", b"\x01" * 32, 10 * TSR, 1, 1, 10 * TSR, 600, 600, 600)
    odd.set_modes(0, True, False)
    with boa.env.prank(requester), boa.reverts("registry: transfer failed"):
        p.registry.cancel(job_id)
