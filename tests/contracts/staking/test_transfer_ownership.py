"""Staking.transfer_ownership (snekmate ownable_2step): the owner nominates; nothing moves until accepted."""

import boa
from hypothesis import assume, given

from tests.contracts.staking.conftest import ZERO, addresses, capped, events


def test_owner_nominates_a_pending_owner(staking, governance, stranger):
    with boa.env.prank(governance):
        staking.transfer_ownership(stranger)
    (started,) = events(staking, "OwnershipTransferStarted")
    assert (started.previous_owner, started.new_owner) == (governance, stranger)
    assert staking.pending_owner() == stranger
    assert staking.owner() == governance  # nothing changes until accepted


def test_pending_owner_has_no_powers_before_accepting(staking, governance, stranger):
    with boa.env.prank(governance):
        staking.transfer_ownership(stranger)
    with boa.env.prank(stranger), boa.reverts("ownable: caller is not the owner"):
        staking.set_jail_period(3_600)


def test_nominating_zero_cancels_a_pending_transfer(staking, governance, stranger):
    with boa.env.prank(governance):
        staking.transfer_ownership(stranger)
        staking.transfer_ownership(ZERO)
    assert staking.pending_owner() == ZERO
    with boa.env.prank(stranger), boa.reverts("ownable_2step: caller is not the new owner"):
        staking.accept_ownership()


@capped
@given(sender=addresses)
def test_non_owner_cannot_nominate(staking, governance, sender):
    assume(sender != governance)
    with boa.env.prank(sender), boa.reverts("ownable: caller is not the owner"):
        staking.transfer_ownership(sender)
