"""Staking.set_unbonding_period: owner only, accepted iff within the floor and ceiling; existing locks
keep their withdrawal time (see test_withdraw)."""

import boa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.contracts.staking.conftest import (
    MAX_UNBONDING_PERIOD,
    MIN_UNBONDING_PERIOD,
    addresses,
    capped,
    events,
)

FLOOR, CEILING = MIN_UNBONDING_PERIOD, MAX_UNBONDING_PERIOD
MESSAGE = "staking: unbonding_period out of bounds"


def test_owner_sets_unbonding_period_and_logs(staking, governance):
    with boa.env.prank(governance):
        staking.set_unbonding_period(CEILING)
    (changed,) = events(staking, "ParameterChanged")
    assert (changed.name, changed.value) == ("unbonding_period", CEILING)
    assert staking.unbonding_period() == CEILING


@pytest.mark.parametrize(
    "value", [v for v in (FLOOR - 1, FLOOR, FLOOR + 1, CEILING - 1, CEILING, CEILING + 1) if v >= 0]
)
def test_floor_and_ceiling_boundaries(staking, governance, value):
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            staking.set_unbonding_period(value)
            assert staking.unbonding_period() == value
        else:
            with boa.reverts(MESSAGE):
                staking.set_unbonding_period(value)


@capped
@given(value=st.one_of(st.integers(0, 2 * CEILING), st.integers(0, 2**256 - 1)))
def test_value_is_accepted_iff_within_bounds(staking, governance, value):
    before = staking.unbonding_period()
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            staking.set_unbonding_period(value)
            assert staking.unbonding_period() == value
        else:
            with boa.reverts(MESSAGE):
                staking.set_unbonding_period(value)
            assert staking.unbonding_period() == before


@capped
@given(sender=addresses)
def test_non_owner_cannot_set_unbonding_period(staking, governance, sender):
    assume(sender != governance)
    with boa.env.prank(sender), boa.reverts("ownable: caller is not the owner"):
        staking.set_unbonding_period(CEILING)
