"""JobRegistry.set_selection_factor: owner only, accepted iff within [1, MAX_SELECTION_FACTOR] (64), logs
ParameterChanged("selection_factor"); it scales every later selection threshold (selected_at)."""

import boa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.contracts.conftest import post_job
from tests.contracts.registry.conftest import (
    DEFAULT_SELECTION_FACTOR,
    MAX_SELECTION_FACTOR,
    WINDOW,
    addresses,
    capped,
    deploy_protocol,
    events,
)

FLOOR, CEILING = 1, MAX_SELECTION_FACTOR
MESSAGE = "registry: selection_factor out of bounds"


@pytest.fixture(scope="module")
def protocol(token_deployer, staking_deployer, emitter_deployer, registry_deployer, governance):
    deployers = (token_deployer, staking_deployer, emitter_deployer, registry_deployer)
    return deploy_protocol(*deployers, governance, selection_factor=None)


def test_the_contract_starts_at_the_default(registry):
    assert registry.selection_factor() == DEFAULT_SELECTION_FACTOR == 2
    assert registry.MAX_SELECTION_FACTOR() == CEILING


def test_owner_sets_selection_factor_and_logs(registry, governance):
    with boa.env.prank(governance):
        registry.set_selection_factor(CEILING)
    (changed,) = events(registry, "ParameterChanged")
    assert (changed.name, changed.value) == ("selection_factor", CEILING)
    assert registry.selection_factor() == CEILING


@pytest.mark.parametrize("value", [FLOOR - 1, FLOOR, FLOOR + 1, CEILING - 1, CEILING, CEILING + 1])
def test_floor_and_ceiling_boundaries(registry, governance, value):
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            registry.set_selection_factor(value)
            assert registry.selection_factor() == value
        else:
            with boa.reverts(MESSAGE):
                registry.set_selection_factor(value)


@capped
@given(value=st.one_of(st.integers(0, 2 * CEILING), st.integers(0, 2**256 - 1)))
def test_value_is_accepted_iff_within_bounds(registry, governance, value):
    before = registry.selection_factor()
    with boa.env.prank(governance):
        if FLOOR <= value <= CEILING:
            registry.set_selection_factor(value)
            assert registry.selection_factor() == value
        else:
            with boa.reverts(MESSAGE):
                registry.set_selection_factor(value)
            assert registry.selection_factor() == before


@capped
@given(sender=addresses)
def test_non_owner_cannot_set_selection_factor(registry, governance, sender):
    assume(sender != governance)
    with boa.env.prank(sender), boa.reverts("ownable: caller is not the owner"):
        registry.set_selection_factor(CEILING)


def test_a_larger_factor_selects_earlier_and_applies_to_open_jobs(
    protocol, registry, governance, requester, staked_operators
):
    """The factor is read at claim time: raising it to 64 makes every one of 8 equal operators selected at
    the opening of a job already posted (64 x 1 x 1/8 >= 1); at 1 some are not."""
    with boa.env.prank(governance):
        registry.set_selection_factor(FLOOR)
    job_id = post_job(protocol, requester)
    opened = registry.get_job(job_id).claim_deadline - WINDOW
    at_floor = [registry.selected_at(job_id, op) for op in staked_operators]
    assert any(t > opened for t in at_floor)
    with boa.env.prank(governance):
        registry.set_selection_factor(CEILING)
    at_ceiling = [registry.selected_at(job_id, op) for op in staked_operators]
    assert at_ceiling == [opened] * len(staked_operators)
    assert all(c <= f for c, f in zip(at_ceiling, at_floor, strict=True))
