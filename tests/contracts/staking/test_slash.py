"""Staking.slash: job registry only, once per (job, operator, reason); takes free bonded stake, then
unbonding locks, then other jobs' collateral; reward + burned == slashed exactly; wrong results jail."""

from fractions import Fraction

import boa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.contracts.conftest import DEFAULTS, TSR
from tests.contracts.staking.conftest import (
    BPS,
    MAX_LOCKS,
    MAX_SLASH_REWARD_BPS,
    REASON_LIVENESS,
    REASON_WITHHELD,
    REASON_WRONG_RESULT,
    STAKE,
    ZERO,
    addresses,
    capped,
    events,
)

T = TSR


def slash(staking, job_registry, operator, amount, job_id=1, reason=REASON_LIVENESS, beneficiary=ZERO):
    with boa.env.prank(job_registry):
        return staking.slash(operator, amount, job_id, reason, beneficiary)


@pytest.fixture
def positioned(staking, bonded_operator, job_registry):
    """STAKE (1,000 T) bonded, then 300 T locked by other jobs and locks of 100 T (id 0) and 200 T (id 1)
    unbonding: bonded 700 T, locked 300 T, free 400 T, unbonding 300 T."""
    with boa.env.prank(job_registry):
        staking.lock_collateral(bonded_operator, 300 * T)
    with boa.env.prank(bonded_operator):
        staking.request_unstake(100 * T)
        staking.request_unstake(200 * T)
    return bonded_operator


def test_slash_takes_free_stake_pays_the_beneficiary_and_burns_the_rest(
    staking, token, positioned, job_registry, beneficiary
):
    supply = token.totalSupply()
    reward = slash(staking, job_registry, positioned, 250 * T, job_id=7, beneficiary=beneficiary)
    (slashed,) = events(staking, "OperatorSlashed")
    expected_reward = 250 * T * DEFAULTS["slash_reward_bps"] // BPS
    assert (slashed.operator, slashed.job_id, slashed.reason, slashed.beneficiary) == (
        positioned,
        7,
        REASON_LIVENESS,
        beneficiary,
    )
    assert (slashed.amount, slashed.reward, slashed.burned) == (
        250 * T,
        expected_reward,
        250 * T - expected_reward,
    )
    assert reward == expected_reward
    assert token.balanceOf(beneficiary) == expected_reward
    assert token.totalSupply() == supply - (250 * T - expected_reward)
    assert token.balanceOf(staking.address) == STAKE - 250 * T
    assert staking.bonded(positioned) == (700 - 250) * T
    assert staking.locked(positioned) == 300 * T
    assert [lock.amount for lock in staking.locks(positioned)[:2]] == [100 * T, 200 * T]
    assert staking.total_bonded() == (700 - 250) * T
    assert staking.total_unbonding() == 300 * T


def test_slash_order_free_then_unbonding_locks_then_other_collateral(staking, positioned, job_registry):
    slash(staking, job_registry, positioned, (400 + 100 + 150) * T)  # free 400, lock 0, half of lock 1
    assert staking.bonded(positioned) == 300 * T
    assert staking.locked(positioned) == 300 * T
    assert [lock.amount for lock in staking.locks(positioned)[:2]] == [0, 50 * T]
    assert staking.total_unbonding() == 50 * T

    slash(staking, job_registry, positioned, (50 + 120) * T, job_id=2)  # rest of lock 1, then collateral
    assert staking.locks(positioned)[1].amount == 0
    assert staking.locked(positioned) == 180 * T
    assert staking.bonded(positioned) == 180 * T
    assert staking.total_bonded() == 180 * T
    assert staking.total_unbonding() == 0


def test_slash_above_everything_takes_everything(staking, token, positioned, job_registry):
    slash(staking, job_registry, positioned, 10 * STAKE)
    (slashed,) = events(staking, "OperatorSlashed")
    assert slashed.amount == STAKE
    assert staking.bonded(positioned) == 0
    assert staking.locked(positioned) == 0
    assert staking.total_unbonding() == 0
    assert token.balanceOf(staking.address) == 0


def test_slash_of_an_operator_with_nothing_is_a_logged_zero(
    staking, token, stranger, job_registry, beneficiary
):
    supply = token.totalSupply()
    assert slash(staking, job_registry, stranger, 100, beneficiary=beneficiary) == 0
    (slashed,) = events(staking, "OperatorSlashed")
    assert (slashed.amount, slashed.reward, slashed.burned) == (0, 0, 0)
    assert token.totalSupply() == supply


def test_zero_beneficiary_burns_everything(staking, token, positioned, job_registry):
    supply = token.totalSupply()
    assert slash(staking, job_registry, positioned, 250 * T, beneficiary=ZERO) == 0
    (slashed,) = events(staking, "OperatorSlashed")
    assert (slashed.reward, slashed.burned) == (0, 250 * T)
    assert token.totalSupply() == supply - 250 * T


def test_wrong_result_jails_for_jail_period(staking, positioned, job_registry):
    slash(staking, job_registry, positioned, 1, reason=REASON_WRONG_RESULT)
    (jailed,) = events(staking, "OperatorJailed")
    assert (jailed.operator, jailed.until) == (positioned, boa.env.timestamp + DEFAULTS["jail_period"])
    assert staking.jailed_until(positioned) == boa.env.timestamp + DEFAULTS["jail_period"]
    assert not staking.is_eligible(positioned)


def test_withheld_reveal_jails_like_a_wrong_result(staking, positioned, job_registry):
    slash(staking, job_registry, positioned, 1, reason=REASON_WITHHELD)
    (jailed,) = events(staking, "OperatorJailed")
    assert (jailed.operator, jailed.until) == (positioned, boa.env.timestamp + DEFAULTS["jail_period"])
    assert not staking.is_eligible(positioned)


def test_liveness_fault_does_not_jail(staking, positioned, job_registry):
    slash(staking, job_registry, positioned, 1, reason=REASON_LIVENESS)
    assert events(staking, "OperatorJailed") == []
    assert staking.jailed_until(positioned) == 0
    assert staking.is_eligible(positioned)


def test_same_job_operator_and_reason_is_slashed_once(staking, positioned, job_registry):
    slash(staking, job_registry, positioned, 1, job_id=3, reason=REASON_LIVENESS)
    with boa.reverts("staking: already slashed"):
        slash(staking, job_registry, positioned, 1, job_id=3, reason=REASON_LIVENESS)


def test_another_reason_job_or_operator_is_a_separate_slash(staking, positioned, operators, job_registry):
    slash(staking, job_registry, positioned, 1, job_id=3, reason=REASON_LIVENESS)
    slash(staking, job_registry, positioned, 1, job_id=3, reason=REASON_WRONG_RESULT)
    slash(staking, job_registry, positioned, 1, job_id=4, reason=REASON_LIVENESS)
    slash(staking, job_registry, operators[1], 1, job_id=3, reason=REASON_LIVENESS)
    assert staking.bonded(positioned) == 700 * T - 3


@pytest.mark.parametrize("reason", [0, 4, 255])
def test_unknown_reason_reverts(staking, positioned, job_registry, reason):
    with boa.reverts("staking: unknown reason"):
        slash(staking, job_registry, positioned, 1, reason=reason)


@capped
@given(sender=addresses)
def test_only_the_job_registry_can_slash(staking, positioned, job_registry, sender):
    assume(sender != job_registry)
    with boa.env.prank(sender), boa.reverts("staking: caller is not the job registry"):
        staking.slash(positioned, 1, 1, REASON_LIVENESS, sender)


@capped
@given(
    amount=st.one_of(st.integers(0, 2 * STAKE), st.integers(0, 2**128)),
    reward_bps=st.integers(0, MAX_SLASH_REWARD_BPS),
    to_beneficiary=st.booleans(),
)
def test_reward_plus_burned_equals_slashed_exactly(
    staking, token, governance, positioned, job_registry, beneficiary, amount, reward_bps, to_beneficiary
):
    with boa.env.prank(governance):
        staking.set_slash_reward_bps(reward_bps)
    supply = token.totalSupply()
    receiver = beneficiary if to_beneficiary else ZERO
    reward = slash(staking, job_registry, positioned, amount, beneficiary=receiver)
    (slashed,) = events(staking, "OperatorSlashed")
    taken = min(amount, STAKE)
    expected_reward = int(Fraction(taken * reward_bps, BPS)) if to_beneficiary else 0  # floor
    assert slashed.amount == taken
    assert slashed.reward == reward == expected_reward
    assert slashed.reward + slashed.burned == slashed.amount
    assert token.totalSupply() == supply - slashed.burned
    assert token.balanceOf(beneficiary) == expected_reward
    assert token.balanceOf(staking.address) == STAKE - taken


@capped
@given(
    collateral=st.integers(0, STAKE),
    unstakes=st.lists(st.integers(1, STAKE), max_size=MAX_LOCKS),
    amount=st.integers(0, STAKE + 1),
)
def test_slash_order_matches_the_model(staking, bonded_operator, job_registry, collateral, unstakes, amount):
    """Free bonded stake first, then unbonding locks in slot order, then other jobs' collateral."""
    with boa.env.prank(job_registry):
        staking.lock_collateral(bonded_operator, collateral)
    locks = []
    free = STAKE - collateral
    with boa.env.prank(bonded_operator):
        for u in unstakes:
            if u <= free:
                staking.request_unstake(u)
                locks.append(u)
                free -= u
    # model
    remaining = amount
    take_free = min(remaining, free)
    remaining -= take_free
    model_locks = []
    for lock in locks:
        take = min(remaining, lock)
        model_locks.append(lock - take)
        remaining -= take
    take_locked = min(remaining, collateral)
    remaining -= take_locked

    slash(staking, job_registry, bonded_operator, amount)
    (slashed,) = events(staking, "OperatorSlashed")
    assert slashed.amount == amount - remaining
    assert staking.free_stake(bonded_operator) == free - take_free
    assert staking.locked(bonded_operator) == collateral - take_locked
    assert staking.bonded(bonded_operator) == free - take_free + collateral - take_locked
    assert [lock.amount for lock in staking.locks(bonded_operator)[: len(locks)]] == model_locks
    assert staking.total_bonded() == staking.bonded(bonded_operator)
    assert staking.total_unbonding() == sum(model_locks)


def test_a_later_wrong_result_never_shortens_a_jail(staking, governance, positioned, job_registry):
    slash(staking, job_registry, positioned, 1, job_id=1, reason=REASON_WRONG_RESULT)
    first_until = staking.jailed_until(positioned)
    with boa.env.prank(governance):
        staking.set_jail_period(3_600)
    boa.env.time_travel(seconds=60)
    slash(staking, job_registry, positioned, 1, job_id=2, reason=REASON_WRONG_RESULT)
    assert staking.jailed_until(positioned) >= first_until
