"""Staking.set_slash_reward_bps: owner only, accepted iff within [0, MAX_SLASH_REWARD_BPS]."""

import boa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.contracts.staking.conftest import MAX_SLASH_REWARD_BPS, addresses, capped, events

FLOOR, CEILING = 0, MAX_SLASH_REWARD_BPS
MESSAGE = "staking: slash_reward_bps out of bounds"


def test_owner_sets_slash_reward_bps_and_logs(staking, governance):
    with boa.env.prank(governance):
        staking.set_slash_reward_bps(CEILING)
    (changed,) = events(staking, "ParameterChanged")
    assert (changed.name, changed.value) == ("slash_reward_bps", CEILING)
    assert staking.slash_reward_bps() == CEILING


@pytest.mark.parametrize(
    "value", [v for v in (FLOOR - 1, FLOOR, FLOOR + 1, CEILING - 1, CEILING, CEILING + 1) if v >= 0]
)
def test_floor_and_ceiling_boundaries(staking, governance, value):
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            staking.set_slash_reward_bps(value)
            assert staking.slash_reward_bps() == value
        else:
            with boa.reverts(MESSAGE):
                staking.set_slash_reward_bps(value)


@capped
@given(value=st.one_of(st.integers(0, 2 * CEILING), st.integers(0, 2**256 - 1)))
def test_value_is_accepted_iff_within_bounds(staking, governance, value):
    before = staking.slash_reward_bps()
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            staking.set_slash_reward_bps(value)
            assert staking.slash_reward_bps() == value
        else:
            with boa.reverts(MESSAGE):
                staking.set_slash_reward_bps(value)
            assert staking.slash_reward_bps() == before


@capped
@given(sender=addresses)
def test_non_owner_cannot_set_slash_reward_bps(staking, governance, sender):
    assume(sender != governance)
    with boa.env.prank(sender), boa.reverts("ownable: caller is not the owner"):
        staking.set_slash_reward_bps(CEILING)


def test_new_share_applies_to_later_slashes(staking, bonded_operator, governance, job_registry, beneficiary):
    with boa.env.prank(governance):
        staking.set_slash_reward_bps(MAX_SLASH_REWARD_BPS)
    with boa.env.prank(job_registry):
        reward = staking.slash(bonded_operator, 10_000, 1, 2, beneficiary)
    assert reward == 10_000 * MAX_SLASH_REWARD_BPS // 10_000
