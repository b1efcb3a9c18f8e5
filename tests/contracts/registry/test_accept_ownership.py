"""JobRegistry.accept_ownership: only the pending owner completes the two-step transfer."""

import boa
import pytest
from hypothesis import assume, given

from tests.contracts.registry.conftest import ZERO, addresses, capped, events


@pytest.fixture(scope="module")
def successor():
    return boa.env.generate_address("successor")


def test_pending_owner_accepts_and_takes_over(registry, governance, successor):
    with boa.env.prank(governance):
        registry.transfer_ownership(successor)
    with boa.env.prank(successor):
        registry.accept_ownership()
    (transferred,) = events(registry, "OwnershipTransferred")
    assert (transferred.previous_owner, transferred.new_owner) == (governance, successor)
    assert registry.owner() == successor
    assert registry.pending_owner() == ZERO
    with boa.env.prank(successor):
        registry.set_min_fee(1)
    with boa.env.prank(governance), boa.reverts("ownable: caller is not the owner"):
        registry.set_min_fee(1)


def test_accept_without_nomination_reverts(registry, successor):
    with boa.env.prank(successor), boa.reverts("ownable_2step: caller is not the new owner"):
        registry.accept_ownership()


def test_accept_twice_reverts(registry, governance, successor):
    with boa.env.prank(governance):
        registry.transfer_ownership(successor)
    with boa.env.prank(successor):
        registry.accept_ownership()
        with boa.reverts("ownable_2step: caller is not the new owner"):
            registry.accept_ownership()


@capped
@given(sender=addresses)
def test_only_the_pending_owner_can_accept(registry, governance, successor, sender):
    assume(sender != successor)
    with boa.env.prank(governance):
        registry.transfer_ownership(successor)
    with boa.env.prank(sender), boa.reverts("ownable_2step: caller is not the new owner"):
        registry.accept_ownership()
    assert registry.owner() == governance
