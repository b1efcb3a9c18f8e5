"""Staking.lock_collateral: the job registry locks an eligible operator's free stake."""

import boa
from hypothesis import assume, given

from tests.contracts.conftest import DEFAULTS
from tests.contracts.staking.conftest import REASON_WRONG_RESULT, STAKE, ZERO, addresses, bond, capped, events


def test_job_registry_locks_collateral(staking, bonded_operator, job_registry):
    with boa.env.prank(job_registry):
        staking.lock_collateral(bonded_operator, 300)
    (locked,) = events(staking, "CollateralLocked")
    assert (locked.operator, locked.amount, locked.locked) == (bonded_operator, 300, 300)
    assert staking.locked(bonded_operator) == 300
    assert staking.bonded(bonded_operator) == STAKE  # collateral stays bonded
    assert staking.free_stake(bonded_operator) == STAKE - 300


def test_locks_accumulate_up_to_bonded_exactly(staking, bonded_operator, job_registry):
    with boa.env.prank(job_registry):
        staking.lock_collateral(bonded_operator, 300)
        staking.lock_collateral(bonded_operator, STAKE - 300)
    (locked,) = events(staking, "CollateralLocked")
    assert locked.locked == STAKE
    assert staking.free_stake(bonded_operator) == 0


def test_lock_above_free_stake_reverts(staking, bonded_operator, job_registry):
    with boa.env.prank(job_registry):
        staking.lock_collateral(bonded_operator, 300)
        with boa.reverts("staking: free stake below collateral"):
            staking.lock_collateral(bonded_operator, STAKE - 300 + 1)


def test_zero_collateral_is_accepted_for_an_eligible_operator(staking, bonded_operator, job_registry):
    with boa.env.prank(job_registry):
        staking.lock_collateral(bonded_operator, 0)
    assert staking.locked(bonded_operator) == 0


def test_unregistered_account_is_not_eligible(staking, stranger, job_registry):
    with boa.env.prank(job_registry), boa.reverts("staking: operator not eligible"):
        staking.lock_collateral(stranger, 0)


def test_operator_below_min_stake_is_not_eligible(staking, operator, job_registry):
    bond(staking, operator, DEFAULTS["min_stake"] - 1)
    with boa.env.prank(job_registry), boa.reverts("staking: operator not eligible"):
        staking.lock_collateral(operator, 1)


def test_operator_at_min_stake_is_eligible(staking, operator, job_registry):
    bond(staking, operator, DEFAULTS["min_stake"])
    with boa.env.prank(job_registry):
        staking.lock_collateral(operator, DEFAULTS["min_stake"])


def test_jailed_operator_is_not_eligible_until_the_jail_ends(staking, bonded_operator, job_registry):
    with boa.env.prank(job_registry):
        staking.slash(bonded_operator, 1, 1, REASON_WRONG_RESULT, ZERO)
    until = staking.jailed_until(bonded_operator)
    boa.env.time_travel(seconds=until - boa.env.timestamp - 1)
    with boa.env.prank(job_registry), boa.reverts("staking: operator not eligible"):
        staking.lock_collateral(bonded_operator, 1)
    boa.env.time_travel(seconds=1)
    with boa.env.prank(job_registry):
        staking.lock_collateral(bonded_operator, 1)


@capped
@given(sender=addresses)
def test_only_the_job_registry_can_lock(staking, bonded_operator, job_registry, sender):
    assume(sender != job_registry)
    with boa.env.prank(sender), boa.reverts("staking: caller is not the job registry"):
        staking.lock_collateral(bonded_operator, 1)


def test_nobody_can_lock_before_a_registry_is_named(unwired_staking, operator):
    # job_registry is the zero address, which cannot send transactions
    with boa.env.prank(operator), boa.reverts("staking: caller is not the job registry"):
        unwired_staking.lock_collateral(operator, 0)
