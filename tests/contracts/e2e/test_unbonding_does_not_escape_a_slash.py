"""An operator that starts unbonding when it sees a fault coming still pays for the fault.

Withdraw-before-slash (reliability §2.5 / T6; Celo #2887, Namada): stake in an unbonding lock stays
slashable until it is withdrawn, and cannot be withdrawn before its `withdrawable_at`. Staking takes a
slash from free bonded stake, then from unbonding locks in slot order, then from collateral locked by
other jobs (DESIGN §2.1). A job's own slash never exceeds its collateral, which JobRegistry unlocks into
free stake first, so inside the protocol the later steps are never reached; to exercise them this file
uses a Staking whose job registry is a test account (`slasher`) that can slash any amount.
"""

import boa
import pytest

from offchain.chain.protocol import SlashReason
from tests.contracts.conftest import DAY, DEFAULTS, TSR

REASON_LIVENESS = SlashReason.LIVENESS


@pytest.fixture
def slasher():
    return boa.env.generate_address("slasher")


@pytest.fixture
def reporter():
    return boa.env.generate_address("reporter")


@pytest.fixture
def token(token_deployer, governance):
    with boa.env.prank(governance):
        return token_deployer.deploy(governance, DEFAULTS["genesis_supply"])


@pytest.fixture
def staking(staking_deployer, token, governance, slasher):
    with boa.env.prank(governance):
        staking = staking_deployer.deploy(
            token.address,
            DEFAULTS["min_stake"],
            DEFAULTS["unbonding_period"],
            DEFAULTS["jail_period"],
            DEFAULTS["slash_reward_bps"],
        )
        staking.set_job_registry(slasher)
    return staking


@pytest.fixture
def bonded_operator(token, staking, governance, operator):
    amount = 1_000 * TSR
    with boa.env.prank(governance):
        token.transfer(operator, amount)
    with boa.env.prank(operator):
        token.approve(staking.address, amount)
        staking.register("bafkreioperator")
        staking.stake(amount)
    return operator


def _locks(staking, operator):
    return [(lock.amount, lock.withdrawable_at) for lock in staking.locks(operator)]


def test_unbonding_stake_is_slashed_before_it_is_withdrawable(
    token, staking, bonded_operator, slasher, reporter
):
    operator = bonded_operator
    with boa.env.prank(operator):
        lock_id = staking.request_unstake(900 * TSR)
    withdrawable_at = boa.env.timestamp + DEFAULTS["unbonding_period"]
    assert _locks(staking, operator)[lock_id] == (900 * TSR, withdrawable_at)

    # One second before the lock opens: no withdrawal...
    boa.env.time_travel(seconds=DEFAULTS["unbonding_period"] - 1)
    with boa.env.prank(operator), boa.reverts("staking: still unbonding"):
        staking.withdraw(lock_id)

    # ...and the fault, reported now, reaches into the lock once free stake is gone.
    supply = token.totalSupply()
    with boa.env.prank(slasher):
        reward = staking.slash(operator, 600 * TSR, 1, REASON_LIVENESS, reporter)
    assert reward == 300 * TSR and token.balanceOf(reporter) == reward
    assert token.totalSupply() == supply - 300 * TSR  # the rest is burned
    assert staking.bonded(operator) == 0
    assert _locks(staking, operator)[lock_id] == (400 * TSR, withdrawable_at)  # time unchanged
    assert staking.total_bonded() == 0 and staking.total_unbonding() == 400 * TSR
    assert token.balanceOf(staking.address) == 400 * TSR

    # Once open, only what the slash left can leave.
    boa.env.time_travel(seconds=1)
    before = token.balanceOf(operator)
    with boa.env.prank(operator):
        staking.withdraw(lock_id)
    assert token.balanceOf(operator) - before == 400 * TSR
    assert staking.total_unbonding() == 0 and token.balanceOf(staking.address) == 0


def test_slash_order_is_free_stake_then_locks_in_slot_order_then_other_collateral(
    token, staking, bonded_operator, slasher
):
    operator = bonded_operator
    with boa.env.prank(slasher):
        staking.lock_collateral(operator, 300 * TSR)  # collateral of some other job
    with boa.env.prank(operator):
        staking.request_unstake(200 * TSR)  # slot 0
        boa.env.time_travel(seconds=DAY)
        staking.request_unstake(300 * TSR)  # slot 1
    assert staking.free_stake(operator) == 200 * TSR

    with boa.env.prank(slasher):
        staking.slash(operator, 600 * TSR, 7, REASON_LIVENESS, boa.env.generate_address("nobody"))
    # 200 free, then slot 0 whole (200), then 200 of slot 1; collateral untouched
    assert staking.bonded(operator) == 300 * TSR and staking.locked(operator) == 300 * TSR
    assert [a for a, _ in _locks(staking, operator)[:2]] == [0, 100 * TSR]

    with boa.env.prank(slasher):
        staking.slash(operator, 350 * TSR, 8, REASON_LIVENESS, boa.env.generate_address("nobody"))
    # slot 1's last 100, then 250 of the other job's collateral
    assert [a for a, _ in _locks(staking, operator)[:2]] == [0, 0]
    assert staking.bonded(operator) == 50 * TSR and staking.locked(operator) == 50 * TSR
    with boa.env.prank(operator), boa.reverts("staking: no such lock"):
        staking.withdraw(1)
    # the other job's unlock saturates at what the slash left
    with boa.env.prank(slasher):
        staking.unlock_collateral(operator, 300 * TSR)
    assert staking.locked(operator) == 0
    assert token.balanceOf(staking.address) == staking.total_bonded() + staking.total_unbonding() == 50 * TSR


def test_cancelled_unstake_returns_only_what_the_slash_left(staking, bonded_operator, slasher):
    operator = bonded_operator
    with boa.env.prank(operator):
        lock_id = staking.request_unstake(1_000 * TSR)
    with boa.env.prank(slasher):
        staking.slash(operator, 250 * TSR, 3, REASON_LIVENESS, slasher)
    with boa.env.prank(operator):
        staking.cancel_unstake(lock_id)
    assert staking.bonded(operator) == 750 * TSR and staking.total_unbonding() == 0


def test_unbonding_floor_outlasts_the_longest_job(staking, registry, governance):
    """No lock opens before a job claimed with that stake has passed all three windows."""
    floor = staking.MIN_UNBONDING_PERIOD()
    assert floor > 3 * registry.MAX_WINDOW()
    with boa.env.prank(governance), boa.reverts("staking: unbonding_period out of bounds"):
        staking.set_unbonding_period(floor - 1)
