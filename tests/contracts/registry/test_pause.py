"""JobRegistry.pause: owner only; stops post_job and claim, never commit, reveal, finalize, cancel, expire
(nor Staking withdrawals, which have no pause at all)."""

import boa
from hypothesis import assume, given

from tests.contracts.conftest import commit, digest_of, fund, post_job, reveal
from tests.contracts.registry.conftest import (
    CANCELLED,
    COMPLETED,
    EXPIRED,
    addresses,
    capped,
    claimed_job,
    events,
    warp_to,
)

A = digest_of("a")


def test_owner_pauses_and_logs(registry, governance):
    with boa.env.prank(governance):
        registry.pause()
    (paused,) = events(registry, "Paused")
    assert paused.account == governance
    assert registry.paused()


def test_pause_twice_reverts(registry, governance):
    with boa.env.prank(governance):
        registry.pause()
        with boa.reverts("pausable: contract is paused"):
            registry.pause()


@capped
@given(sender=addresses)
def test_non_owner_cannot_pause(registry, governance, sender):
    assume(sender != governance)
    with boa.env.prank(sender), boa.reverts("ownable: caller is not the owner"):
        registry.pause()


def test_pause_blocks_post_job_and_claim_only(
    protocol, registry, staking, token, governance, requester, staked_operators
):
    ops = staked_operators
    to_claim = post_job(protocol, requester)
    to_cancel = post_job(protocol, requester)
    to_expire = post_job(protocol, requester)
    to_commit = claimed_job(protocol, requester, ops[:1])
    to_reveal = claimed_job(protocol, requester, ops[1:2])
    commit(protocol, to_reveal, ops[1], A)
    to_finalize = claimed_job(protocol, requester, ops[2:3])
    commit(protocol, to_finalize, ops[2], A)
    reveal(protocol, to_finalize, ops[2], A)
    with boa.env.prank(ops[3]):
        lock_id = staking.request_unstake(1)

    with boa.env.prank(governance):
        registry.pause()

    # blocked
    fund(protocol, requester, 10**18)
    with boa.env.prank(requester):
        token.approve(registry.address, 10**18)
        with boa.reverts("pausable: contract is paused"):
            registry.post_job("bafyspec", b"\x01" * 32, 10**18, 1, 1, 10 * 10**18, 600, 600, 600)
    with boa.env.prank(ops[4]), boa.reverts("pausable: contract is paused"):
        registry.claim(to_claim)

    # never blocked
    commit(protocol, to_commit, ops[0], A)
    reveal(protocol, to_reveal, ops[1], A)
    registry.finalize(to_finalize)
    assert registry.get_job(to_finalize).phase == COMPLETED
    with boa.env.prank(requester):
        registry.cancel(to_cancel)
    assert registry.get_job(to_cancel).phase == CANCELLED
    warp_to(registry.get_job(to_expire).claim_deadline)
    registry.expire(to_expire)
    assert registry.get_job(to_expire).phase == EXPIRED
    warp_to(staking.locks(ops[3])[lock_id].withdrawable_at)
    with boa.env.prank(ops[3]):
        staking.withdraw(lock_id)
