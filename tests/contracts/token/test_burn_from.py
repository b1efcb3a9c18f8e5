"""TesseraToken.burn_from (snekmate erc20): burns with allowance."""

import boa

from tests.contracts.token.conftest import events

TSR = 10**18
ZERO = "0x0000000000000000000000000000000000000000"


def test_burn_from_spends_allowance(token, holder, spender):
    supply = token.totalSupply()
    with boa.env.prank(holder):
        token.approve(spender, 100 * TSR)
    with boa.env.prank(spender):
        token.burn_from(holder, 60 * TSR)
    (transfer,) = events(token, "Transfer")
    assert (transfer.sender, transfer.receiver, transfer.value) == (holder, ZERO, 60 * TSR)
    assert token.allowance(holder, spender) == 40 * TSR
    assert token.balanceOf(holder) == 940 * TSR
    assert token.totalSupply() == supply - 60 * TSR


def test_burn_from_without_allowance_reverts(token, holder, stranger):
    with boa.env.prank(stranger), boa.reverts("erc20: insufficient allowance"):
        token.burn_from(holder, 1)
