"""Staking.free_stake: bonded minus locked collateral."""

import boa

from tests.contracts.staking.conftest import STAKE


def test_free_stake_of_an_unknown_account_is_zero(staking, stranger):
    assert staking.free_stake(stranger) == 0


def test_free_stake_excludes_collateral_and_unbonding(staking, bonded_operator, job_registry):
    assert staking.free_stake(bonded_operator) == STAKE
    with boa.env.prank(job_registry):
        staking.lock_collateral(bonded_operator, 300)
    with boa.env.prank(bonded_operator):
        staking.request_unstake(200)
    assert staking.free_stake(bonded_operator) == STAKE - 500
    with boa.env.prank(job_registry):
        staking.unlock_collateral(bonded_operator, 300)
    assert staking.free_stake(bonded_operator) == STAKE - 200
