"""JobRegistry.set_liveness_slash_bps: owner only, accepted iff within [MIN_LIVENESS_SLASH_BPS,
MAX_LIVENESS_SLASH_BPS]: the floor keeps squatting a replica slot from being free (T32)."""

import boa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.contracts.registry.conftest import (
    MAX_LIVENESS_SLASH_BPS,
    MIN_LIVENESS_SLASH_BPS,
    addresses,
    capped,
    events,
)

FLOOR, CEILING = MIN_LIVENESS_SLASH_BPS, MAX_LIVENESS_SLASH_BPS
MESSAGE = "registry: liveness_slash_bps out of bounds"


def test_owner_sets_liveness_slash_bps_and_logs(registry, governance):
    with boa.env.prank(governance):
        registry.set_liveness_slash_bps(CEILING)
    (changed,) = events(registry, "ParameterChanged")
    assert (changed.name, changed.value) == ("liveness_slash_bps", CEILING)
    assert registry.liveness_slash_bps() == CEILING


@pytest.mark.parametrize(
    "value", [v for v in (FLOOR - 1, FLOOR, FLOOR + 1, CEILING - 1, CEILING, CEILING + 1) if v >= 0]
)
def test_floor_and_ceiling_boundaries(registry, governance, value):
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            registry.set_liveness_slash_bps(value)
            assert registry.liveness_slash_bps() == value
        else:
            with boa.reverts(MESSAGE):
                registry.set_liveness_slash_bps(value)


@capped
@given(value=st.one_of(st.integers(0, 2 * CEILING), st.integers(0, 2**256 - 1)))
def test_value_is_accepted_iff_within_bounds(registry, governance, value):
    before = registry.liveness_slash_bps()
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            registry.set_liveness_slash_bps(value)
            assert registry.liveness_slash_bps() == value
        else:
            with boa.reverts(MESSAGE):
                registry.set_liveness_slash_bps(value)
            assert registry.liveness_slash_bps() == before


@capped
@given(sender=addresses)
def test_non_owner_cannot_set_liveness_slash_bps(registry, governance, sender):
    assume(sender != governance)
    with boa.env.prank(sender), boa.reverts("ownable: caller is not the owner"):
        registry.set_liveness_slash_bps(CEILING)
