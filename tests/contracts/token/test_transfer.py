"""TesseraToken.transfer (snekmate erc20)."""

import boa

from tests.contracts.token.conftest import events

TSR = 10**18
ZERO = "0x0000000000000000000000000000000000000000"


def test_transfer_moves_balance_and_logs(token, holder, stranger):
    supply = token.totalSupply()
    with boa.env.prank(holder):
        assert token.transfer(stranger, 400 * TSR)
    (transfer,) = events(token, "Transfer")
    assert (transfer.sender, transfer.receiver, transfer.value) == (holder, stranger, 400 * TSR)
    assert token.balanceOf(holder) == 600 * TSR
    assert token.balanceOf(stranger) == 400 * TSR
    assert token.totalSupply() == supply


def test_transfer_of_whole_balance(token, holder, stranger):
    with boa.env.prank(holder):
        token.transfer(stranger, 1_000 * TSR)
    assert token.balanceOf(holder) == 0


def test_transfer_above_balance_reverts(token, holder, stranger):
    with boa.env.prank(holder), boa.reverts("erc20: transfer amount exceeds balance"):
        token.transfer(stranger, 1_000 * TSR + 1)


def test_transfer_to_zero_address_reverts(token, holder):
    with boa.env.prank(holder), boa.reverts("erc20: transfer to the zero address"):
        token.transfer(ZERO, 1)
