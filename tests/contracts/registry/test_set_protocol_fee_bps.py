"""JobRegistry.set_protocol_fee_bps: owner only, accepted iff within [0, MAX_PROTOCOL_FEE_BPS]."""

import boa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.contracts.registry.conftest import MAX_PROTOCOL_FEE_BPS, addresses, capped, events

FLOOR, CEILING = 0, MAX_PROTOCOL_FEE_BPS
MESSAGE = "registry: protocol_fee_bps out of bounds"


def test_owner_sets_protocol_fee_bps_and_logs(registry, governance):
    with boa.env.prank(governance):
        registry.set_protocol_fee_bps(CEILING)
    (changed,) = events(registry, "ParameterChanged")
    assert (changed.name, changed.value) == ("protocol_fee_bps", CEILING)
    assert registry.protocol_fee_bps() == CEILING


@pytest.mark.parametrize(
    "value", [v for v in (FLOOR - 1, FLOOR, FLOOR + 1, CEILING - 1, CEILING, CEILING + 1) if v >= 0]
)
def test_floor_and_ceiling_boundaries(registry, governance, value):
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            registry.set_protocol_fee_bps(value)
            assert registry.protocol_fee_bps() == value
        else:
            with boa.reverts(MESSAGE):
                registry.set_protocol_fee_bps(value)


@capped
@given(value=st.one_of(st.integers(0, 2 * CEILING), st.integers(0, 2**256 - 1)))
def test_value_is_accepted_iff_within_bounds(registry, governance, value):
    before = registry.protocol_fee_bps()
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            registry.set_protocol_fee_bps(value)
            assert registry.protocol_fee_bps() == value
        else:
            with boa.reverts(MESSAGE):
                registry.set_protocol_fee_bps(value)
            assert registry.protocol_fee_bps() == before


@capped
@given(sender=addresses)
def test_non_owner_cannot_set_protocol_fee_bps(registry, governance, sender):
    assume(sender != governance)
    with boa.env.prank(sender), boa.reverts("ownable: caller is not the owner"):
        registry.set_protocol_fee_bps(CEILING)
