"""Staking.set_jail_period: owner only, accepted iff within [MIN_JAIL_PERIOD, MAX_JAIL_PERIOD]."""

import boa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.contracts.staking.conftest import MAX_JAIL_PERIOD, MIN_JAIL_PERIOD, addresses, capped, events

FLOOR, CEILING = MIN_JAIL_PERIOD, MAX_JAIL_PERIOD
MESSAGE = "staking: jail_period out of bounds"


def test_owner_sets_jail_period_and_logs(staking, governance):
    with boa.env.prank(governance):
        staking.set_jail_period(CEILING)
    (changed,) = events(staking, "ParameterChanged")
    assert (changed.name, changed.value) == ("jail_period", CEILING)
    assert staking.jail_period() == CEILING


@pytest.mark.parametrize(
    "value", [v for v in (FLOOR - 1, FLOOR, FLOOR + 1, CEILING - 1, CEILING, CEILING + 1) if v >= 0]
)
def test_floor_and_ceiling_boundaries(staking, governance, value):
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            staking.set_jail_period(value)
            assert staking.jail_period() == value
        else:
            with boa.reverts(MESSAGE):
                staking.set_jail_period(value)


@capped
@given(value=st.one_of(st.integers(0, 2 * CEILING), st.integers(0, 2**256 - 1)))
def test_value_is_accepted_iff_within_bounds(staking, governance, value):
    before = staking.jail_period()
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            staking.set_jail_period(value)
            assert staking.jail_period() == value
        else:
            with boa.reverts(MESSAGE):
                staking.set_jail_period(value)
            assert staking.jail_period() == before


@capped
@given(sender=addresses)
def test_non_owner_cannot_set_jail_period(staking, governance, sender):
    assume(sender != governance)
    with boa.env.prank(sender), boa.reverts("ownable: caller is not the owner"):
        staking.set_jail_period(CEILING)


def test_new_jail_period_applies_to_later_slashes(staking, bonded_operator, governance, job_registry):
    with boa.env.prank(governance):
        staking.set_jail_period(MAX_JAIL_PERIOD)
    with boa.env.prank(job_registry):
        staking.slash(bonded_operator, 1, 1, 1, bonded_operator)
    assert staking.jailed_until(bonded_operator) == boa.env.timestamp + MAX_JAIL_PERIOD
