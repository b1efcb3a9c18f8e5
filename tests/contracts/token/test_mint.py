"""TesseraToken.mint: only the emitter, never past MAX_SUPPLY."""

import boa
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.contracts.token.conftest import addresses, capped, events

MAX_SUPPLY = 1_000_000_000 * 10**18
ZERO = "0x0000000000000000000000000000000000000000"


def test_emitter_mints_to_the_receiver(token, emitter_role, holder):
    supply, balance = token.totalSupply(), token.balanceOf(holder)
    with boa.env.prank(emitter_role):
        token.mint(holder, 5 * 10**18)
    (transfer,) = events(token, "Transfer")
    assert (transfer.sender, transfer.receiver, transfer.value) == (ZERO, holder, 5 * 10**18)
    assert token.totalSupply() == supply + 5 * 10**18
    assert token.balanceOf(holder) == balance + 5 * 10**18


def test_mint_up_to_max_supply_exactly(token, emitter_role, holder):
    headroom = MAX_SUPPLY - token.totalSupply()
    with boa.env.prank(emitter_role):
        token.mint(holder, headroom)
    assert token.totalSupply() == MAX_SUPPLY


def test_mint_one_wei_past_max_supply_reverts(token, emitter_role, holder):
    headroom = MAX_SUPPLY - token.totalSupply()
    with boa.env.prank(emitter_role), boa.reverts("token: max supply exceeded"):
        token.mint(holder, headroom + 1)


def test_mint_to_zero_address_reverts(token, emitter_role):
    with boa.env.prank(emitter_role), boa.reverts("erc20: mint to the zero address"):
        token.mint(ZERO, 1)


def test_former_owner_cannot_mint(token, governance):
    with boa.env.prank(governance), boa.reverts("token: caller is not the emitter"):
        token.mint(governance, 1)


@capped
@given(sender=addresses)
def test_only_the_emitter_can_mint(token, emitter_role, sender):
    assume(sender != emitter_role)
    with boa.env.prank(sender), boa.reverts("token: caller is not the emitter"):
        token.mint(sender, 1)


@capped
@given(excess=st.integers(-(10**30), 10**30))
def test_mint_is_accepted_iff_supply_stays_within_max(token, emitter_role, holder, excess):
    headroom = MAX_SUPPLY - token.totalSupply()
    amount = headroom + excess
    assume(amount >= 0)
    with boa.env.prank(emitter_role):
        if excess <= 0:
            token.mint(holder, amount)
            assert token.totalSupply() == MAX_SUPPLY + excess
        else:
            with boa.reverts("token: max supply exceeded"):
                token.mint(holder, amount)
