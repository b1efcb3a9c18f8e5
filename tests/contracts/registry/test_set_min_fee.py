"""JobRegistry.set_min_fee: owner only, accepted iff within [1, MAX_MIN_FEE]."""

import boa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.contracts.registry.conftest import MAX_MIN_FEE, addresses, capped, events

FLOOR, CEILING = 1, MAX_MIN_FEE
MESSAGE = "registry: min_fee out of bounds"


def test_owner_sets_min_fee_and_logs(registry, governance):
    with boa.env.prank(governance):
        registry.set_min_fee(CEILING)
    (changed,) = events(registry, "ParameterChanged")
    assert (changed.name, changed.value) == ("min_fee", CEILING)
    assert registry.min_fee() == CEILING


@pytest.mark.parametrize(
    "value", [v for v in (FLOOR - 1, FLOOR, FLOOR + 1, CEILING - 1, CEILING, CEILING + 1) if v >= 0]
)
def test_floor_and_ceiling_boundaries(registry, governance, value):
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            registry.set_min_fee(value)
            assert registry.min_fee() == value
        else:
            with boa.reverts(MESSAGE):
                registry.set_min_fee(value)


@capped
@given(value=st.one_of(st.integers(0, 2 * CEILING), st.integers(0, 2**256 - 1)))
def test_value_is_accepted_iff_within_bounds(registry, governance, value):
    before = registry.min_fee()
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            registry.set_min_fee(value)
            assert registry.min_fee() == value
        else:
            with boa.reverts(MESSAGE):
                registry.set_min_fee(value)
            assert registry.min_fee() == before


@capped
@given(sender=addresses)
def test_non_owner_cannot_set_min_fee(registry, governance, sender):
    assume(sender != governance)
    with boa.env.prank(sender), boa.reverts("ownable: caller is not the owner"):
        registry.set_min_fee(CEILING)
