"""Staking.accept_ownership: only the pending owner completes the two-step transfer."""

import boa
import pytest
from hypothesis import assume, given

from tests.contracts.staking.conftest import ZERO, addresses, capped, events


@pytest.fixture(scope="module")
def successor():
    return boa.env.generate_address("successor")


def test_pending_owner_accepts_and_takes_over(staking, governance, successor):
    with boa.env.prank(governance):
        staking.transfer_ownership(successor)
    with boa.env.prank(successor):
        staking.accept_ownership()
    (transferred,) = events(staking, "OwnershipTransferred")
    assert (transferred.previous_owner, transferred.new_owner) == (governance, successor)
    assert staking.owner() == successor
    assert staking.pending_owner() == ZERO
    with boa.env.prank(successor):
        staking.set_jail_period(3_600)
    with boa.env.prank(governance), boa.reverts("ownable: caller is not the owner"):
        staking.set_jail_period(3_600)


def test_accept_without_nomination_reverts(staking, successor):
    with boa.env.prank(successor), boa.reverts("ownable_2step: caller is not the new owner"):
        staking.accept_ownership()


def test_accept_twice_reverts(staking, governance, successor):
    with boa.env.prank(governance):
        staking.transfer_ownership(successor)
    with boa.env.prank(successor):
        staking.accept_ownership()
        with boa.reverts("ownable_2step: caller is not the new owner"):
            staking.accept_ownership()


@capped
@given(sender=addresses)
def test_only_the_pending_owner_can_accept(staking, governance, successor, sender):
    assume(sender != successor)
    with boa.env.prank(governance):
        staking.transfer_ownership(successor)
    with boa.env.prank(sender), boa.reverts("ownable_2step: caller is not the new owner"):
        staking.accept_ownership()
    assert staking.owner() == governance
