"""TesseraToken.__init__: genesis mint, metadata, ownership, no minter."""

import boa
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.token.conftest import GENESIS, capped, events

MAX_SUPPLY = 1_000_000_000 * 10**18
ZERO = "0x0000000000000000000000000000000000000000"


def test_genesis_supply_is_minted_to_the_holder(token_deployer, governance, holder):
    with boa.env.prank(governance):
        token = token_deployer.deploy(holder, GENESIS)
    (transfer,) = events(token, "Transfer")
    assert (transfer.sender, transfer.receiver, transfer.value) == (ZERO, holder, GENESIS)
    assert token.totalSupply() == GENESIS
    assert token.balanceOf(holder) == GENESIS
    assert token.balanceOf(governance) == 0


def test_deployer_owns_the_token_until_an_emitter_is_named(unwired_token, governance):
    assert unwired_token.owner() == governance
    assert unwired_token.emitter() == ZERO


def test_metadata(unwired_token):
    assert unwired_token.name() == "Tessera"
    assert unwired_token.symbol() == "TSR"
    assert unwired_token.decimals() == 18
    assert unwired_token.MAX_SUPPLY() == MAX_SUPPLY


def test_zero_genesis_mints_nothing(token_deployer, governance):
    with boa.env.prank(governance):
        token = token_deployer.deploy(governance, 0)
    assert token.totalSupply() == 0
    assert events(token, "Transfer") == []


def test_genesis_equal_to_max_supply_is_accepted(token_deployer, governance):
    with boa.env.prank(governance):
        token = token_deployer.deploy(governance, MAX_SUPPLY)
    assert token.totalSupply() == MAX_SUPPLY


def test_genesis_above_max_supply_reverts(token_deployer, governance):
    with boa.env.prank(governance), boa.reverts("token: genesis above max supply"):
        token_deployer.deploy(governance, MAX_SUPPLY + 1)


@capped
@given(genesis=st.one_of(st.integers(0, 2 * MAX_SUPPLY), st.integers(MAX_SUPPLY - 2, MAX_SUPPLY + 2)))
def test_genesis_is_accepted_iff_within_max_supply(token_deployer, governance, genesis):
    with boa.env.prank(governance):
        if genesis <= MAX_SUPPLY:
            assert token_deployer.deploy(governance, genesis).totalSupply() == genesis
        else:
            with boa.reverts("token: genesis above max supply"):
                token_deployer.deploy(governance, genesis)


def test_deployer_cannot_mint(unwired_token, governance):
    with boa.env.prank(governance), boa.reverts("token: caller is not the emitter"):
        unwired_token.mint(governance, 1)


def test_deploy_logs_do_not_announce_the_deployer_as_minter(token_deployer, governance):
    with boa.env.prank(governance):
        token = token_deployer.deploy(governance, GENESIS)
    granted = {e.minter for e in events(token, "RoleMinterChanged") if e.status}
    revoked = {e.minter for e in events(token, "RoleMinterChanged") if not e.status}
    assert granted <= revoked
