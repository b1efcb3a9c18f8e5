"""TesseraToken.transferFrom (snekmate erc20)."""

import boa

from tests.contracts.token.conftest import events

TSR = 10**18
MAX_UINT = 2**256 - 1


def test_transfer_from_spends_allowance(token, holder, spender, stranger):
    with boa.env.prank(holder):
        token.approve(spender, 300 * TSR)
    with boa.env.prank(spender):
        assert token.transferFrom(holder, stranger, 100 * TSR)
    (transfer,) = events(token, "Transfer")
    assert (transfer.sender, transfer.receiver, transfer.value) == (holder, stranger, 100 * TSR)
    assert token.allowance(holder, spender) == 200 * TSR
    assert token.balanceOf(stranger) == 100 * TSR
    assert token.balanceOf(holder) == 900 * TSR


def test_infinite_allowance_is_not_spent(token, holder, spender, stranger):
    with boa.env.prank(holder):
        token.approve(spender, MAX_UINT)
    with boa.env.prank(spender):
        token.transferFrom(holder, stranger, 100 * TSR)
    assert token.allowance(holder, spender) == MAX_UINT


def test_transfer_from_above_allowance_reverts(token, holder, spender, stranger):
    with boa.env.prank(holder):
        token.approve(spender, 10)
    with boa.env.prank(spender), boa.reverts("erc20: insufficient allowance"):
        token.transferFrom(holder, stranger, 11)


def test_transfer_from_above_balance_reverts(token, holder, spender, stranger):
    with boa.env.prank(holder):
        token.approve(spender, MAX_UINT)
    with boa.env.prank(spender), boa.reverts("erc20: transfer amount exceeds balance"):
        token.transferFrom(holder, stranger, 1_000 * TSR + 1)
