"""Staking.bonded: stake backing the operator, collateral included, unbonding excluded."""

import boa

from tests.contracts.staking.conftest import STAKE, bond


def test_bonded_of_an_unknown_account_is_zero(staking, stranger):
    assert staking.bonded(stranger) == 0


def test_bonded_counts_collateral_and_not_unbonding(staking, operator, job_registry):
    bond(staking, operator)
    with boa.env.prank(job_registry):
        staking.lock_collateral(operator, 300)
    assert staking.bonded(operator) == STAKE
    with boa.env.prank(operator):
        staking.request_unstake(200)
    assert staking.bonded(operator) == STAKE - 200
    assert staking.total_bonded() == STAKE - 200
