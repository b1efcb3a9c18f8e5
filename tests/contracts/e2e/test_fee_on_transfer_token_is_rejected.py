"""A token that skims a fee off every transfer is refused, not credited with escrow it never delivered.

Reliability §2.12 / T13: JobRegistry and Staking credit the balance delta they observe, and revert when it
is short of the amount named (DESIGN §2.2: "reject fee-on-transfer tokens by checking the balance
delta"). The mock burns 1 % of every transfer.
"""

import boa
import pytest

from tests.contracts.conftest import DEFAULTS, SPEC_CID, SPEC_DIGEST, TSR, deploy_protocol
from tests.contracts.stateful.harness import mock_deployer


@pytest.fixture
def fee_token():
    return mock_deployer("FeeOnTransferToken").deploy()


def test_post_job_with_a_fee_on_transfer_token_reverts(
    token_deployer, staking_deployer, emitter_deployer, registry_deployer, governance, requester, fee_token
):
    protocol = deploy_protocol(
        token_deployer, staking_deployer, emitter_deployer, registry_deployer, governance, fee_token=fee_token
    )
    fee = 10 * TSR
    fee_token.mint(requester, fee)
    with boa.env.prank(requester):
        fee_token.approve(protocol.registry.address, fee)
        with boa.reverts("registry: fee token took a transfer fee"):
            protocol.registry.post_job(
                SPEC_CID, SPEC_DIGEST, fee, 1, 1, DEFAULTS["min_collateral"], 600, 600, 600
            )
    assert fee_token.balanceOf(requester) == fee
    assert fee_token.balanceOf(protocol.registry.address) == 0
    assert protocol.registry.job_count() == 0


def test_stake_with_a_fee_on_transfer_token_reverts(staking_deployer, governance, operator, fee_token):
    with boa.env.prank(governance):
        staking = staking_deployer.deploy(
            fee_token.address,
            DEFAULTS["min_stake"],
            DEFAULTS["unbonding_period"],
            DEFAULTS["jail_period"],
            DEFAULTS["slash_reward_bps"],
        )
    fee_token.mint(operator, 1_000 * TSR)
    with boa.env.prank(operator):
        fee_token.approve(staking.address, 1_000 * TSR)
        staking.register("bafkreioperator")
        with boa.reverts("staking: token took a fee"):
            staking.stake(1_000 * TSR)
    assert staking.bonded(operator) == 0 and staking.total_bonded() == 0
