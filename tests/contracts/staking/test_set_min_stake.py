"""Staking.set_min_stake: owner only, accepted iff within [MIN_MIN_STAKE, MAX_MIN_STAKE]."""

import boa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.contracts.staking.conftest import MAX_MIN_STAKE, MIN_MIN_STAKE, addresses, capped, events

FLOOR, CEILING = MIN_MIN_STAKE, MAX_MIN_STAKE
MESSAGE = "staking: min_stake out of bounds"


def test_owner_sets_min_stake_and_logs(staking, governance):
    with boa.env.prank(governance):
        staking.set_min_stake(CEILING)
    (changed,) = events(staking, "ParameterChanged")
    assert (changed.name, changed.value) == ("min_stake", CEILING)
    assert staking.min_stake() == CEILING


@pytest.mark.parametrize(
    "value", [v for v in (FLOOR - 1, FLOOR, FLOOR + 1, CEILING - 1, CEILING, CEILING + 1) if v >= 0]
)
def test_floor_and_ceiling_boundaries(staking, governance, value):
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            staking.set_min_stake(value)
            assert staking.min_stake() == value
        else:
            with boa.reverts(MESSAGE):
                staking.set_min_stake(value)


@capped
@given(value=st.one_of(st.integers(0, 2 * CEILING), st.integers(0, 2**256 - 1)))
def test_value_is_accepted_iff_within_bounds(staking, governance, value):
    before = staking.min_stake()
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            staking.set_min_stake(value)
            assert staking.min_stake() == value
        else:
            with boa.reverts(MESSAGE):
                staking.set_min_stake(value)
            assert staking.min_stake() == before


@capped
@given(sender=addresses)
def test_non_owner_cannot_set_min_stake(staking, governance, sender):
    assume(sender != governance)
    with boa.env.prank(sender), boa.reverts("ownable: caller is not the owner"):
        staking.set_min_stake(CEILING)


def test_raising_min_stake_makes_a_bonded_operator_ineligible(staking, bonded_operator, governance):
    with boa.env.prank(governance):
        staking.set_min_stake(staking.bonded(bonded_operator) + 1)
    assert not staking.is_eligible(bonded_operator)
