"""JobRegistry.transfer_ownership (ownable_2step): the owner nominates; nothing moves until accepted."""

import boa
from hypothesis import assume, given

from tests.contracts.registry.conftest import ZERO, addresses, capped, events


def test_owner_nominates_a_pending_owner(registry, governance, stranger):
    with boa.env.prank(governance):
        registry.transfer_ownership(stranger)
    (started,) = events(registry, "OwnershipTransferStarted")
    assert (started.previous_owner, started.new_owner) == (governance, stranger)
    assert registry.pending_owner() == stranger
    assert registry.owner() == governance  # nothing changes until accepted


def test_pending_owner_has_no_powers_before_accepting(registry, governance, stranger):
    with boa.env.prank(governance):
        registry.transfer_ownership(stranger)
    with boa.env.prank(stranger), boa.reverts("ownable: caller is not the owner"):
        registry.set_min_fee(1)


def test_nominating_zero_cancels_a_pending_transfer(registry, governance, stranger):
    with boa.env.prank(governance):
        registry.transfer_ownership(stranger)
        registry.transfer_ownership(ZERO)
    assert registry.pending_owner() == ZERO
    with boa.env.prank(stranger), boa.reverts("ownable_2step: caller is not the new owner"):
        registry.accept_ownership()


@capped
@given(sender=addresses)
def test_non_owner_cannot_nominate(registry, governance, sender):
    assume(sender != governance)
    with boa.env.prank(sender), boa.reverts("ownable: caller is not the owner"):
        registry.transfer_ownership(sender)
