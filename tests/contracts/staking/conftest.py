"""Staking unit fixtures: a Staking whose job registry is a plain account (`job_registry`), so collateral
locks and slashes are called directly. Module-scoped; the boa plugin anchors every test."""

from __future__ import annotations

import boa
import pytest
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from offchain.chain.protocol import BPS, SlashReason  # noqa: F401 - re-exported to the tests here
from tests.contracts.conftest import DEFAULTS, TSR, events, warp_to  # noqa: F401 - re-exported to the tests here

# Stateless property tests stay at or below 200 examples whatever the profile. Function-scoped fixtures are
# safe under @given here: the boa plugin anchors every example, so chain state rolls back between inputs.
capped = settings(
    max_examples=min(settings.default.max_examples, 200),
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
)

REASON_WRONG_RESULT = SlashReason.WRONG_RESULT
REASON_LIVENESS = SlashReason.LIVENESS
REASON_WITHHELD = SlashReason.WITHHELD

addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)

ZERO = "0x0000000000000000000000000000000000000000"
DAY = 86_400
MAX_LOCKS = 8
MIN_UNBONDING_PERIOD, MAX_UNBONDING_PERIOD = 4 * DAY, 60 * DAY
MIN_MIN_STAKE, MAX_MIN_STAKE = TSR, 10**24
MIN_JAIL_PERIOD, MAX_JAIL_PERIOD = 3_600, 30 * DAY
MAX_SLASH_REWARD_BPS = 5_000
STAKE = 1_000 * TSR

# A token that misbehaves on demand: returns false from transfer/transferFrom, or keeps a fee on
# transferFrom. Test-only; the odd-token matrix of the stateful suites lives in contracts/mocks.
ODD_TOKEN = """
# pragma version 0.4.3
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
totalSupply: public(uint256)
MAX_SUPPLY: public(constant(uint256)) = 2**128
fee_bps: public(uint256)
transfer_returns_false: public(bool)
transfer_from_returns_false: public(bool)

@external
def set_modes(fee_bps: uint256, transfer_returns_false: bool, transfer_from_returns_false: bool):
    self.fee_bps = fee_bps
    self.transfer_returns_false = transfer_returns_false
    self.transfer_from_returns_false = transfer_from_returns_false

@external
def mint(to: address, amount: uint256):
    self.balanceOf[to] += amount
    self.totalSupply += amount

@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    return True

@external
def transfer(to: address, amount: uint256) -> bool:
    if self.transfer_returns_false:
        return False
    self.balanceOf[msg.sender] -= amount
    self.balanceOf[to] += amount
    return True

@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    if self.transfer_from_returns_false:
        return False
    fee: uint256 = amount * self.fee_bps // 10_000
    self.allowance[owner][msg.sender] -= amount
    self.balanceOf[owner] -= amount
    self.balanceOf[to] += amount - fee
    self.totalSupply -= fee
    return True

@external
def burn(amount: uint256):
    self.balanceOf[msg.sender] -= amount
    self.totalSupply -= amount
"""


@pytest.fixture(scope="session")
def odd_token_deployer():
    return boa.loads_partial(ODD_TOKEN, name="OddToken")


@pytest.fixture(scope="module")
def governance():
    return boa.env.generate_address("governance")


@pytest.fixture(scope="module")
def job_registry():
    """Stands in for the JobRegistry: the only account that may lock, unlock and slash."""
    return boa.env.generate_address("job_registry")


@pytest.fixture(scope="module")
def operators():
    return [boa.env.generate_address(f"operator{i}") for i in range(3)]


@pytest.fixture(scope="module")
def operator(operators):
    return operators[0]


@pytest.fixture(scope="module")
def beneficiary():
    return boa.env.generate_address("beneficiary")


@pytest.fixture(scope="module")
def stranger():
    return boa.env.generate_address("stranger")


@pytest.fixture(scope="module")
def token(token_deployer, governance):
    with boa.env.prank(governance):
        return token_deployer.deploy(governance, DEFAULTS["genesis_supply"])


def deploy_staking(staking_deployer, token, governance, **overrides):
    p = {**DEFAULTS, **overrides}
    with boa.env.prank(governance):
        return staking_deployer.deploy(
            token.address, p["min_stake"], p["unbonding_period"], p["jail_period"], p["slash_reward_bps"]
        )


@pytest.fixture(scope="module")
def unwired_staking(staking_deployer, token, governance):
    """A Staking with no job registry named yet."""
    return deploy_staking(staking_deployer, token, governance)


@pytest.fixture(scope="module")
def staking(staking_deployer, token, governance, job_registry, operators):
    """Defaults from conftest.DEFAULTS; `job_registry` named; every operator funded with 2 * STAKE and
    registered, none bonded yet."""
    s = deploy_staking(staking_deployer, token, governance)
    with boa.env.prank(governance):
        s.set_job_registry(job_registry)
        for op in operators:
            token.transfer(op, 2 * STAKE)
    for op in operators:
        with boa.env.prank(op):
            token.approve(s.address, 2**256 - 1)
            s.register("bafkreioperatormetadata")
    return s


def bond(staking, operator: str, amount: int = STAKE) -> None:
    with boa.env.prank(operator):
        staking.stake(amount)


@pytest.fixture
def bonded_operator(staking, operator):
    """`operator` with STAKE bonded, nothing locked or unbonding."""
    bond(staking, operator)
    return operator
