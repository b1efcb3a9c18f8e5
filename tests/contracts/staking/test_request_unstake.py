"""Staking.request_unstake: free stake moves into a time-locked unbonding slot."""

import boa

from tests.contracts.conftest import DEFAULTS
from tests.contracts.staking.conftest import MAX_LOCKS, STAKE, events


def test_request_opens_lock_zero_and_moves_stake_to_unbonding(staking, bonded_operator):
    now = boa.env.timestamp
    with boa.env.prank(bonded_operator):
        lock_id = staking.request_unstake(400)
    (requested,) = events(staking, "UnstakeRequested")
    withdrawable_at = now + DEFAULTS["unbonding_period"]
    assert (requested.operator, requested.lock_id, requested.amount, requested.withdrawable_at) == (
        bonded_operator,
        0,
        400,
        withdrawable_at,
    )
    assert lock_id == 0
    assert staking.bonded(bonded_operator) == STAKE - 400
    assert staking.total_bonded() == STAKE - 400
    assert staking.total_unbonding() == 400
    assert staking.locks(bonded_operator)[0] == (400, withdrawable_at)


def test_requests_fill_slots_in_order_up_to_max_locks(staking, bonded_operator):
    with boa.env.prank(bonded_operator):
        ids = [staking.request_unstake(1 + i) for i in range(MAX_LOCKS)]
    assert ids == list(range(MAX_LOCKS))
    assert [lock.amount for lock in staking.locks(bonded_operator)] == [1 + i for i in range(MAX_LOCKS)]


def test_ninth_request_reverts(staking, bonded_operator):
    with boa.env.prank(bonded_operator):
        for _ in range(MAX_LOCKS):
            staking.request_unstake(1)
        with boa.reverts("staking: too many unbonding locks"):
            staking.request_unstake(1)


def test_freed_slot_is_reused(staking, bonded_operator):
    with boa.env.prank(bonded_operator):
        for _ in range(3):
            staking.request_unstake(1)
        staking.cancel_unstake(1)
        assert staking.request_unstake(7) == 1
    assert staking.locks(bonded_operator)[1].amount == 7


def test_whole_free_stake_can_be_requested(staking, bonded_operator, job_registry):
    with boa.env.prank(job_registry):
        staking.lock_collateral(bonded_operator, 300)
    with boa.env.prank(bonded_operator):
        staking.request_unstake(STAKE - 300)
    assert staking.bonded(bonded_operator) == 300
    assert staking.free_stake(bonded_operator) == 0


def test_request_above_free_stake_reverts(staking, bonded_operator, job_registry):
    with boa.env.prank(job_registry):
        staking.lock_collateral(bonded_operator, 300)
    with boa.env.prank(bonded_operator), boa.reverts("staking: amount above free stake"):
        staking.request_unstake(STAKE - 300 + 1)


def test_zero_amount_reverts(staking, bonded_operator):
    with boa.env.prank(bonded_operator), boa.reverts("staking: zero amount"):
        staking.request_unstake(0)


def test_request_uses_the_current_unbonding_period(staking, bonded_operator, governance):
    with boa.env.prank(governance):
        staking.set_unbonding_period(30 * 86_400)
    with boa.env.prank(bonded_operator):
        staking.request_unstake(1)
    assert staking.locks(bonded_operator)[0].withdrawable_at == boa.env.timestamp + 30 * 86_400
