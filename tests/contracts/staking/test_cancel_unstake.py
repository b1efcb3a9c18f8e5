"""Staking.cancel_unstake: an unbonding lock returns to bonded stake."""

import boa

from tests.contracts.staking.conftest import MAX_LOCKS, REASON_LIVENESS, STAKE, ZERO, events


def test_cancel_returns_the_lock_to_bonded(staking, bonded_operator):
    with boa.env.prank(bonded_operator):
        staking.request_unstake(400)
        staking.cancel_unstake(0)
    (cancelled,) = events(staking, "UnstakeCancelled")
    assert (cancelled.operator, cancelled.lock_id, cancelled.amount) == (bonded_operator, 0, 400)
    assert staking.bonded(bonded_operator) == STAKE
    assert staking.total_bonded() == STAKE
    assert staking.total_unbonding() == 0
    assert staking.locks(bonded_operator)[0] == (0, 0)


def test_cancel_after_the_unbonding_period_is_allowed(staking, bonded_operator):
    with boa.env.prank(bonded_operator):
        staking.request_unstake(400)
        boa.env.time_travel(seconds=staking.unbonding_period() + 1)
        staking.cancel_unstake(0)
    assert staking.bonded(bonded_operator) == STAKE


def test_cancel_of_a_partly_slashed_lock_returns_what_is_left(staking, bonded_operator, job_registry):
    with boa.env.prank(bonded_operator):
        staking.request_unstake(STAKE)  # everything unbonding, so a slash takes from the lock
    with boa.env.prank(job_registry):
        staking.slash(bonded_operator, 100, 1, REASON_LIVENESS, ZERO)
    with boa.env.prank(bonded_operator):
        staking.cancel_unstake(0)
    (cancelled,) = events(staking, "UnstakeCancelled")
    assert cancelled.amount == STAKE - 100
    assert staking.bonded(bonded_operator) == STAKE - 100


def test_cancel_of_an_empty_slot_reverts(staking, bonded_operator):
    with boa.env.prank(bonded_operator), boa.reverts("staking: no such lock"):
        staking.cancel_unstake(0)


def test_cancel_of_an_out_of_range_lock_id_reverts(staking, bonded_operator):
    with boa.env.prank(bonded_operator), boa.reverts("staking: no such lock"):
        staking.cancel_unstake(MAX_LOCKS)


def test_cancel_twice_reverts(staking, bonded_operator):
    with boa.env.prank(bonded_operator):
        staking.request_unstake(400)
        staking.cancel_unstake(0)
        with boa.reverts("staking: no such lock"):
            staking.cancel_unstake(0)


def test_another_account_cannot_cancel_an_operators_lock(staking, bonded_operator, stranger):
    with boa.env.prank(bonded_operator):
        staking.request_unstake(400)
    with boa.env.prank(stranger), boa.reverts("staking: no such lock"):
        staking.cancel_unstake(0)
    assert staking.locks(bonded_operator)[0].amount == 400
