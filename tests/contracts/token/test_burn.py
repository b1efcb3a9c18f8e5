"""TesseraToken.burn (snekmate erc20): anyone burns their own balance."""

import boa

from tests.contracts.token.conftest import events

TSR = 10**18
ZERO = "0x0000000000000000000000000000000000000000"


def test_burn_reduces_balance_and_supply(token, holder):
    supply = token.totalSupply()
    with boa.env.prank(holder):
        token.burn(250 * TSR)
    (transfer,) = events(token, "Transfer")
    assert (transfer.sender, transfer.receiver, transfer.value) == (holder, ZERO, 250 * TSR)
    assert token.balanceOf(holder) == 750 * TSR
    assert token.totalSupply() == supply - 250 * TSR


def test_burn_above_balance_reverts(token, holder):
    with boa.env.prank(holder), boa.reverts("erc20: burn amount exceeds balance"):
        token.burn(1_000 * TSR + 1)


def test_burned_supply_can_be_minted_again_up_to_max(token, holder, emitter_role):
    max_supply = token.MAX_SUPPLY()
    with boa.env.prank(holder):
        token.burn(1_000 * TSR)
    with boa.env.prank(emitter_role):
        token.mint(holder, max_supply - token.totalSupply())
    assert token.totalSupply() == max_supply
