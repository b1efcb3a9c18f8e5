"""Staking.locked: collateral locked by the operator's claimed jobs, independent of bonded."""

import boa

from tests.contracts.staking.conftest import STAKE, bond


def test_locked_of_an_unknown_account_is_zero(staking, stranger):
    assert staking.locked(stranger) == 0


def test_locked_and_bonded_do_not_bleed_into_each_other(staking, operators, job_registry):
    operator, other = operators[:2]
    bond(staking, operator, 2 * STAKE)
    bond(staking, other, STAKE)
    with boa.env.prank(job_registry):
        staking.lock_collateral(operator, 2 * STAKE)
        staking.lock_collateral(other, 1)
    assert (staking.bonded(operator), staking.locked(operator)) == (2 * STAKE, 2 * STAKE)
    assert (staking.bonded(other), staking.locked(other)) == (STAKE, 1)
    with boa.env.prank(job_registry):
        staking.unlock_collateral(operator, 2 * STAKE)
    assert (staking.bonded(operator), staking.locked(operator)) == (2 * STAKE, 0)
