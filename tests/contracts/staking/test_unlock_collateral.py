"""Staking.unlock_collateral: the job registry releases collateral, saturating at what is locked."""

import boa
from hypothesis import assume, given

from tests.contracts.staking.conftest import STAKE, addresses, capped, events


def test_job_registry_unlocks_collateral(staking, bonded_operator, job_registry):
    with boa.env.prank(job_registry):
        staking.lock_collateral(bonded_operator, 300)
        staking.unlock_collateral(bonded_operator, 200)
    (unlocked,) = events(staking, "CollateralUnlocked")
    assert (unlocked.operator, unlocked.amount, unlocked.locked) == (bonded_operator, 200, 100)
    assert staking.locked(bonded_operator) == 100
    assert staking.bonded(bonded_operator) == STAKE


def test_unlock_saturates_at_what_is_locked(staking, bonded_operator, job_registry):
    with boa.env.prank(job_registry):
        staking.lock_collateral(bonded_operator, 300)
        staking.unlock_collateral(bonded_operator, 1_000)
    (unlocked,) = events(staking, "CollateralUnlocked")
    assert (unlocked.amount, unlocked.locked) == (300, 0)
    assert staking.locked(bonded_operator) == 0


def test_unlock_with_nothing_locked_is_a_logged_no_op(staking, stranger, job_registry):
    with boa.env.prank(job_registry):
        staking.unlock_collateral(stranger, 5)
    (unlocked,) = events(staking, "CollateralUnlocked")
    assert (unlocked.amount, unlocked.locked) == (0, 0)


@capped
@given(sender=addresses)
def test_only_the_job_registry_can_unlock(staking, bonded_operator, job_registry, sender):
    assume(sender != job_registry)
    with boa.env.prank(job_registry):
        staking.lock_collateral(bonded_operator, 300)
    with boa.env.prank(sender), boa.reverts("staking: caller is not the job registry"):
        staking.unlock_collateral(bonded_operator, 300)
