"""Staking.is_eligible: registered, not jailed, bonded at least min_stake."""

import boa

from tests.contracts.conftest import DEFAULTS
from tests.contracts.staking.conftest import REASON_WRONG_RESULT, bond


def test_unregistered_account_is_not_eligible(staking, stranger):
    assert not staking.is_eligible(stranger)


def test_registered_without_stake_is_not_eligible(staking, operator):
    assert staking.is_registered(operator)
    assert not staking.is_eligible(operator)


def test_eligible_from_exactly_min_stake(staking, operator):
    bond(staking, operator, DEFAULTS["min_stake"] - 1)
    assert not staking.is_eligible(operator)
    bond(staking, operator, 1)
    assert staking.is_eligible(operator)


def test_locked_collateral_still_counts_toward_min_stake(staking, operator, job_registry):
    bond(staking, operator, DEFAULTS["min_stake"])
    with boa.env.prank(job_registry):
        staking.lock_collateral(operator, DEFAULTS["min_stake"])
    assert staking.is_eligible(operator)


def test_unbonding_below_min_stake_makes_ineligible(staking, bonded_operator):
    with boa.env.prank(bonded_operator):
        staking.request_unstake(staking.bonded(bonded_operator) - DEFAULTS["min_stake"] + 1)
    assert not staking.is_eligible(bonded_operator)


def test_jail_boundary(staking, bonded_operator, job_registry):
    with boa.env.prank(job_registry):
        staking.slash(bonded_operator, 1, 1, REASON_WRONG_RESULT, bonded_operator)
    until = staking.jailed_until(bonded_operator)
    boa.env.time_travel(seconds=until - boa.env.timestamp - 1)
    assert not staking.is_eligible(bonded_operator)
    boa.env.time_travel(seconds=1)
    assert staking.is_eligible(bonded_operator)
