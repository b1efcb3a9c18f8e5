"""Staking.__init__: token, bounded parameters, ownership."""

import boa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.conftest import DEFAULTS
from tests.contracts.staking.conftest import (
    MAX_JAIL_PERIOD,
    MAX_MIN_STAKE,
    MAX_SLASH_REWARD_BPS,
    MAX_UNBONDING_PERIOD,
    MIN_JAIL_PERIOD,
    MIN_MIN_STAKE,
    MIN_UNBONDING_PERIOD,
    ZERO,
    capped,
    deploy_staking,
    events,
)

# parameter -> (floor, ceiling, revert message)
BOUNDS = {
    "min_stake": (MIN_MIN_STAKE, MAX_MIN_STAKE, "staking: min_stake out of bounds"),
    "unbonding_period": (
        MIN_UNBONDING_PERIOD,
        MAX_UNBONDING_PERIOD,
        "staking: unbonding_period out of bounds",
    ),
    "jail_period": (MIN_JAIL_PERIOD, MAX_JAIL_PERIOD, "staking: jail_period out of bounds"),
    "slash_reward_bps": (0, MAX_SLASH_REWARD_BPS, "staking: slash_reward_bps out of bounds"),
}


def test_deploy_stores_parameters_and_logs_them(staking_deployer, token, governance):
    staking = deploy_staking(staking_deployer, token, governance)
    changed = [(e.name, e.value) for e in events(staking, "ParameterChanged")]
    assert changed == [(name, DEFAULTS[name]) for name in BOUNDS]
    assert staking.TOKEN() == token.address
    assert staking.owner() == governance
    assert staking.pending_owner() == ZERO
    assert staking.job_registry() == ZERO
    for name in BOUNDS:
        assert getattr(staking, name)() == DEFAULTS[name]
    assert staking.total_bonded() == 0
    assert staking.total_unbonding() == 0


def test_constants(staking):
    assert staking.MAX_LOCKS() == 8
    assert staking.REASON_WRONG_RESULT() == 1
    assert staking.REASON_LIVENESS() == 2
    assert staking.MIN_UNBONDING_PERIOD() == MIN_UNBONDING_PERIOD
    assert staking.MAX_UNBONDING_PERIOD() == MAX_UNBONDING_PERIOD
    assert staking.MIN_MIN_STAKE() == MIN_MIN_STAKE
    assert staking.MAX_MIN_STAKE() == MAX_MIN_STAKE
    assert staking.MIN_JAIL_PERIOD() == MIN_JAIL_PERIOD
    assert staking.MAX_JAIL_PERIOD() == MAX_JAIL_PERIOD
    assert staking.MAX_SLASH_REWARD_BPS() == MAX_SLASH_REWARD_BPS


def test_unbonding_floor_outlasts_the_longest_job():
    # three windows of at most JobRegistry.MAX_WINDOW each, plus a day of margin
    assert MIN_UNBONDING_PERIOD >= 3 * 86_400 + 86_400


def test_zero_token_reverts(staking_deployer, governance):
    p = DEFAULTS
    with boa.env.prank(governance), boa.reverts("staking: token is zero"):
        staking_deployer.deploy(
            ZERO, p["min_stake"], p["unbonding_period"], p["jail_period"], p["slash_reward_bps"]
        )


@pytest.mark.parametrize("name", list(BOUNDS))
@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_floor_and_ceiling_boundaries(staking_deployer, token, governance, name, offset):
    floor, ceiling, message = BOUNDS[name]
    for edge, outside in ((floor, floor - 1), (ceiling, ceiling + 1)):
        value = edge + offset
        if value < 0:
            continue
        inside = floor <= value <= ceiling
        if inside:
            assert (
                getattr(deploy_staking(staking_deployer, token, governance, **{name: value}), name)() == value
            )
        else:
            assert value == outside
            with boa.reverts(message):
                deploy_staking(staking_deployer, token, governance, **{name: value})


@capped
@given(name=st.sampled_from(list(BOUNDS)), value=st.integers(0, 2 * MAX_MIN_STAKE))
def test_parameter_is_accepted_iff_within_bounds(staking_deployer, token, governance, name, value):
    floor, ceiling, message = BOUNDS[name]
    if floor <= value <= ceiling:
        assert getattr(deploy_staking(staking_deployer, token, governance, **{name: value}), name)() == value
    else:
        with boa.reverts(message):
            deploy_staking(staking_deployer, token, governance, **{name: value})
