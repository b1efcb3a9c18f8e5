"""`offchain.deployment`: the one deploy-and-wire sequence that the ape script, the test deployers and the
benchmarks share. A recording backend pins the order, the arguments and the wiring; the compiled ABIs pin
that every constructor gets as many arguments as it declares (a changed constructor fails here first)."""

from __future__ import annotations

from typing import Any

import pytest

from offchain.deployment import DEPLOY_ORDER, WIRING, constructor_args, deploy_and_wire, expected_wiring
from tests.support.contracts import TEST_PARAMS, compile_artifacts

DEPLOYER = "0x" + "d0" * 20


class Recorder:
    """A `DeployBackend` that deploys nothing: each contract's address is derived from its name."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, tuple[Any, ...]]] = []

    def deploy(self, name: str, args: tuple[Any, ...]) -> str:
        self.log.append(("deploy", name, args))
        return name

    def address(self, contract: str) -> str:
        return f"<{contract}>"

    def call(self, contract: str, function: str, args: tuple[Any, ...]) -> str:
        self.log.append((f"{contract}.{function}", "", args))
        return f"receipt of {contract}.{function}"


def test_contracts_are_deployed_in_order_each_given_the_addresses_before_it():
    backend = Recorder()
    deployed = deploy_and_wire(backend, TEST_PARAMS, DEPLOYER)
    p = TEST_PARAMS
    assert backend.log[:4] == [
        ("deploy", "TesseraToken", (DEPLOYER, p["genesis_supply"])),
        ("deploy", "Staking", ("<TesseraToken>", p["min_stake"], p["unbonding_period"], p["jail_period"],
                               p["slash_reward_bps"])),
        ("deploy", "RewardEmitter", ("<TesseraToken>", p["epoch_length"], p["initial_emission"],
                                     p["halving_epochs"])),
        ("deploy", "JobRegistry", ("<TesseraToken>", "<Staking>", "<RewardEmitter>", p["protocol_fee_bps"],
                                   p["wrong_result_slash_bps"], p["liveness_slash_bps"], p["min_fee"],
                                   p["min_collateral"])),
    ]  # fmt: skip
    assert deployed.addresses == {name: f"<{name}>" for name in DEPLOY_ORDER}


def test_the_three_wiring_calls_follow_the_deployments_and_their_receipts_are_returned():
    backend = Recorder()
    deployed = deploy_and_wire(backend, TEST_PARAMS, DEPLOYER)
    assert backend.log[4:] == [
        ("TesseraToken.set_emitter", "", ("<RewardEmitter>",)),
        ("Staking.set_job_registry", "", ("<JobRegistry>",)),
        ("RewardEmitter.set_job_registry", "", ("<JobRegistry>",)),
    ]
    assert deployed.wiring_receipts == [f"receipt of {w.contract}.{w.function}" for w in WIRING]


def test_a_test_token_replaces_tsr_for_staking_emission_and_fees():
    backend = Recorder()
    deploy_and_wire(backend, TEST_PARAMS, DEPLOYER, fee_token="<OddToken>")
    token_args = {name: args[0] for _, name, args in backend.log[1:4]}
    assert token_args == {"Staking": "<OddToken>", "RewardEmitter": "<OddToken>", "JobRegistry": "<OddToken>"}


def test_the_expected_wiring_names_every_getter_the_deploy_script_reads_back():
    wiring = expected_wiring({name: f"<{name}>" for name in DEPLOY_ORDER})
    assert wiring["token.owner"] == "0x" + "00" * 20  # set_emitter renounces the token's ownership
    assert wiring["registry.STAKING"] == "<Staking>" and wiring["emitter.job_registry"] == "<JobRegistry>"


@pytest.mark.parametrize("name", DEPLOY_ORDER)
def test_every_constructor_gets_the_arguments_its_abi_declares(name):
    artifact = compile_artifacts()[name]
    (constructor,) = [item for item in artifact.abi if item["type"] == "constructor"]
    addresses = {n: f"<{n}>" for n in DEPLOY_ORDER}
    assert len(constructor_args(name, TEST_PARAMS, addresses, DEPLOYER)) == len(constructor["inputs"])
