"""Staking.locks: all MAX_LOCKS slots, index = lock id, amount 0 = free."""

import boa

from tests.contracts.conftest import DEFAULTS
from tests.contracts.staking.conftest import MAX_LOCKS


def test_locks_of_an_unknown_account_are_empty(staking, stranger):
    assert staking.locks(stranger) == [(0, 0)] * MAX_LOCKS


def test_locks_report_amount_and_withdrawal_time_per_slot(staking, bonded_operator):
    with boa.env.prank(bonded_operator):
        staking.request_unstake(10)
        boa.env.time_travel(seconds=5)
        staking.request_unstake(20)
        staking.cancel_unstake(0)
    locks = staking.locks(bonded_operator)
    assert len(locks) == MAX_LOCKS
    assert locks[0] == (0, 0)
    assert locks[1] == (20, boa.env.timestamp + DEFAULTS["unbonding_period"])
    assert locks[2:] == [(0, 0)] * (MAX_LOCKS - 2)
