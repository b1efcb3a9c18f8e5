"""JobRegistry.set_min_collateral: owner only, accepted iff within [0, MAX_MIN_COLLATERAL]."""

import boa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.contracts.registry.conftest import MAX_MIN_COLLATERAL, addresses, capped, events

FLOOR, CEILING = 0, MAX_MIN_COLLATERAL
MESSAGE = "registry: min_collateral out of bounds"


def test_owner_sets_min_collateral_and_logs(registry, governance):
    with boa.env.prank(governance):
        registry.set_min_collateral(CEILING)
    (changed,) = events(registry, "ParameterChanged")
    assert (changed.name, changed.value) == ("min_collateral", CEILING)
    assert registry.min_collateral() == CEILING


@pytest.mark.parametrize(
    "value", [v for v in (FLOOR - 1, FLOOR, FLOOR + 1, CEILING - 1, CEILING, CEILING + 1) if v >= 0]
)
def test_floor_and_ceiling_boundaries(registry, governance, value):
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            registry.set_min_collateral(value)
            assert registry.min_collateral() == value
        else:
            with boa.reverts(MESSAGE):
                registry.set_min_collateral(value)


@capped
@given(value=st.one_of(st.integers(0, 2 * CEILING), st.integers(0, 2**256 - 1)))
def test_value_is_accepted_iff_within_bounds(registry, governance, value):
    before = registry.min_collateral()
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            registry.set_min_collateral(value)
            assert registry.min_collateral() == value
        else:
            with boa.reverts(MESSAGE):
                registry.set_min_collateral(value)
            assert registry.min_collateral() == before


@capped
@given(sender=addresses)
def test_non_owner_cannot_set_min_collateral(registry, governance, sender):
    assume(sender != governance)
    with boa.env.prank(sender), boa.reverts("ownable: caller is not the owner"):
        registry.set_min_collateral(CEILING)
