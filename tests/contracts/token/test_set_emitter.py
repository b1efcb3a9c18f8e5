"""TesseraToken.set_emitter: owner only, once, non-zero; renounces ownership."""

import boa
from hypothesis import assume, given

from tests.contracts.token.conftest import addresses, capped, events

ZERO = "0x0000000000000000000000000000000000000000"


def test_owner_names_the_emitter_and_renounces_ownership(unwired_token, governance, emitter_role):
    with boa.env.prank(governance):
        unwired_token.set_emitter(emitter_role)
    (set_event,) = events(unwired_token, "EmitterSet")
    (transferred,) = events(unwired_token, "OwnershipTransferred")
    assert set_event.emitter == emitter_role
    assert (transferred.previous_owner, transferred.new_owner) == (governance, ZERO)
    assert unwired_token.emitter() == emitter_role
    assert unwired_token.owner() == ZERO


def test_emitter_cannot_be_changed_once_set(unwired_token, governance, emitter_role, stranger):
    with boa.env.prank(governance):
        unwired_token.set_emitter(emitter_role)
        # ownership was renounced, so even the former owner is refused
        with boa.reverts("ownable: caller is not the owner"):
            unwired_token.set_emitter(stranger)
    assert unwired_token.emitter() == emitter_role


def test_zero_emitter_reverts(unwired_token, governance):
    with boa.env.prank(governance), boa.reverts("token: emitter is zero"):
        unwired_token.set_emitter(ZERO)


@capped
@given(sender=addresses)
def test_non_owner_cannot_set_the_emitter(unwired_token, governance, emitter_role, sender):
    assume(sender != governance)
    with boa.env.prank(sender), boa.reverts("ownable: caller is not the owner"):
        unwired_token.set_emitter(emitter_role)


def test_emitter_already_set_guard_holds_even_for_the_zero_address(unwired_token, governance, emitter_role):
    """Defence in depth: after set_emitter the owner is the zero address, which no real transaction can
    send from; boa can, and the second guard still refuses."""
    with boa.env.prank(governance):
        unwired_token.set_emitter(emitter_role)
    with boa.env.prank(ZERO), boa.reverts("token: emitter already set"):
        unwired_token.set_emitter(ZERO)
