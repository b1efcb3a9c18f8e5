"""TesseraToken.approve (snekmate erc20)."""

import boa

from tests.contracts.token.conftest import events

ZERO = "0x0000000000000000000000000000000000000000"


def test_approve_sets_allowance_and_logs(token, holder, spender):
    with boa.env.prank(holder):
        assert token.approve(spender, 123)
    (approval,) = events(token, "Approval")
    assert (approval.owner, approval.spender, approval.value) == (holder, spender, 123)
    assert token.allowance(holder, spender) == 123


def test_approve_overwrites_previous_allowance(token, holder, spender):
    with boa.env.prank(holder):
        token.approve(spender, 123)
        token.approve(spender, 7)
    assert token.allowance(holder, spender) == 7


def test_approve_zero_spender_reverts(token, holder):
    with boa.env.prank(holder), boa.reverts("erc20: approve to the zero address"):
        token.approve(ZERO, 1)
