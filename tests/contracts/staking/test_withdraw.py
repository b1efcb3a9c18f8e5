"""Staking.withdraw: an unbonding lock pays out once its period has passed, exactly at the boundary."""

import boa
import pytest

from tests.contracts.conftest import DEFAULTS, TSR
from tests.contracts.staking.conftest import (
    MAX_LOCKS,
    REASON_LIVENESS,
    STAKE,
    ZERO,
    deploy_staking,
    events,
    warp_to,
)


@pytest.fixture
def unbonding(staking, bonded_operator):
    """`bonded_operator` with a lock of 400 at id 0; returns its withdrawable_at."""
    with boa.env.prank(bonded_operator):
        staking.request_unstake(400)
    return staking.locks(bonded_operator)[0].withdrawable_at


def test_withdraw_pays_the_lock_and_frees_the_slot(staking, token, bonded_operator, unbonding):
    warp_to(unbonding)
    before = token.balanceOf(bonded_operator)
    with boa.env.prank(bonded_operator):
        staking.withdraw(0)
    (withdrawn,) = events(staking, "Withdrawn")
    assert (withdrawn.operator, withdrawn.lock_id, withdrawn.amount) == (bonded_operator, 0, 400)
    assert token.balanceOf(bonded_operator) == before + 400
    assert token.balanceOf(staking.address) == STAKE - 400
    assert staking.total_unbonding() == 0
    assert staking.bonded(bonded_operator) == STAKE - 400
    assert staking.locks(bonded_operator)[0] == (0, 0)


def test_withdraw_one_second_before_the_unbonding_period_reverts(staking, bonded_operator, unbonding):
    warp_to(unbonding - 1)
    with boa.env.prank(bonded_operator), boa.reverts("staking: still unbonding"):
        staking.withdraw(0)


def test_withdraw_exactly_at_the_unbonding_period_succeeds(staking, bonded_operator, unbonding):
    assert unbonding == boa.env.timestamp + DEFAULTS["unbonding_period"]
    warp_to(unbonding)
    with boa.env.prank(bonded_operator):
        staking.withdraw(0)
    assert staking.total_unbonding() == 0


def test_withdraw_one_second_after_the_unbonding_period_succeeds(staking, bonded_operator, unbonding):
    warp_to(unbonding + 1)
    with boa.env.prank(bonded_operator):
        staking.withdraw(0)
    assert staking.total_unbonding() == 0


def test_withdraw_before_unbonding_period_reverts(staking, bonded_operator, unbonding):
    with boa.env.prank(bonded_operator), boa.reverts("staking: still unbonding"):
        staking.withdraw(0)


def test_existing_lock_keeps_its_time_when_the_period_changes(
    staking, bonded_operator, unbonding, governance
):
    with boa.env.prank(governance):
        staking.set_unbonding_period(60 * 86_400)
    warp_to(unbonding)
    with boa.env.prank(bonded_operator):
        staking.withdraw(0)


def test_withdraw_twice_reverts(staking, bonded_operator, unbonding):
    warp_to(unbonding)
    with boa.env.prank(bonded_operator):
        staking.withdraw(0)
        with boa.reverts("staking: no such lock"):
            staking.withdraw(0)


def test_withdraw_of_an_empty_or_out_of_range_slot_reverts(staking, bonded_operator, unbonding):
    warp_to(unbonding)
    with boa.env.prank(bonded_operator):
        for lock_id in (1, MAX_LOCKS, 2**256 - 1):
            with boa.reverts("staking: no such lock"):
                staking.withdraw(lock_id)


def test_stranger_cannot_withdraw_an_operators_lock(staking, bonded_operator, unbonding, stranger):
    warp_to(unbonding)
    with boa.env.prank(stranger), boa.reverts("staking: no such lock"):
        staking.withdraw(0)


def test_fully_slashed_lock_cannot_be_withdrawn(staking, bonded_operator, unbonding, job_registry):
    with boa.env.prank(job_registry):
        staking.slash(bonded_operator, STAKE, 1, REASON_LIVENESS, ZERO)
    warp_to(unbonding)
    with boa.env.prank(bonded_operator), boa.reverts("staking: no such lock"):
        staking.withdraw(0)


def test_partly_slashed_lock_withdraws_the_rest(staking, token, bonded_operator, unbonding, job_registry):
    with boa.env.prank(job_registry):
        staking.slash(bonded_operator, STAKE - 400 + 150, 1, REASON_LIVENESS, ZERO)
    warp_to(unbonding)
    before = token.balanceOf(bonded_operator)
    with boa.env.prank(bonded_operator):
        staking.withdraw(0)
    assert token.balanceOf(bonded_operator) == before + 250


def test_transfer_returning_false_reverts(staking_deployer, odd_token_deployer, governance, operator):
    odd = odd_token_deployer.deploy()
    odd.mint(operator, 100 * TSR)
    staking = deploy_staking(staking_deployer, odd, governance)
    with boa.env.prank(operator):
        odd.approve(staking.address, 2**256 - 1)
        staking.register("bafkreioperatormetadata")
        staking.stake(10 * TSR)
        staking.request_unstake(10 * TSR)
    odd.set_modes(0, True, False)
    boa.env.time_travel(seconds=DEFAULTS["unbonding_period"])
    with boa.env.prank(operator), boa.reverts("staking: transfer failed"):
        staking.withdraw(0)
