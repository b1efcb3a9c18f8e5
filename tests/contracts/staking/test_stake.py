"""Staking.stake: registered operators bond TSR; the exact amount must arrive."""

import boa
import pytest

from tests.contracts.conftest import TSR
from tests.contracts.staking.conftest import STAKE, deploy_staking, events


def test_stake_bonds_and_pulls_tokens(staking, token, operator):
    before = token.balanceOf(operator)
    with boa.env.prank(operator):
        staking.stake(STAKE)
    (staked,) = events(staking, "Staked")
    assert (staked.operator, staked.amount, staked.bonded) == (operator, STAKE, STAKE)
    assert staking.bonded(operator) == STAKE
    assert staking.total_bonded() == STAKE
    assert token.balanceOf(operator) == before - STAKE
    assert token.balanceOf(staking.address) == STAKE


def test_stake_adds_to_bonded(staking, operators):
    with boa.env.prank(operators[0]):
        staking.stake(STAKE)
        staking.stake(3)
    (staked,) = events(staking, "Staked")
    assert staked.bonded == STAKE + 3
    with boa.env.prank(operators[1]):
        staking.stake(5)
    assert staking.total_bonded() == STAKE + 8


def test_unregistered_caller_reverts(staking, stranger):
    with boa.env.prank(stranger), boa.reverts("staking: not registered"):
        staking.stake(1)


def test_zero_amount_reverts(staking, operator):
    with boa.env.prank(operator), boa.reverts("staking: zero amount"):
        staking.stake(0)


def test_stake_without_allowance_reverts(staking, token, operator):
    with boa.env.prank(operator):
        token.approve(staking.address, 0)
        with boa.reverts("erc20: insufficient allowance"):
            staking.stake(1)


def test_stake_above_balance_reverts(staking, operator):
    with boa.env.prank(operator), boa.reverts("erc20: transfer amount exceeds balance"):
        staking.stake(2 * STAKE + 1)


@pytest.fixture
def odd_staking(staking_deployer, odd_token_deployer, governance, operator):
    odd = odd_token_deployer.deploy()
    odd.mint(operator, 100 * TSR)
    staking = deploy_staking(staking_deployer, odd, governance)
    with boa.env.prank(operator):
        odd.approve(staking.address, 2**256 - 1)
        staking.register("bafkreioperatormetadata")
    return odd, staking


def test_fee_on_transfer_token_reverts(odd_staking, operator):
    odd, staking = odd_staking
    odd.set_modes(100, False, False)  # 1 % kept on transferFrom
    with boa.env.prank(operator), boa.reverts("staking: token took a fee"):
        staking.stake(10 * TSR)


def test_transfer_from_returning_false_reverts(odd_staking, operator):
    odd, staking = odd_staking
    odd.set_modes(0, False, True)
    with boa.env.prank(operator), boa.reverts("staking: transferFrom failed"):
        staking.stake(10 * TSR)


def test_stake_that_would_not_fit_in_128_bits_reverts(odd_staking, operator):
    odd, staking = odd_staking
    odd.mint(operator, 2**128)
    with boa.env.prank(operator), boa.reverts("staking: stake above 2**128"):
        staking.stake(2**128)
