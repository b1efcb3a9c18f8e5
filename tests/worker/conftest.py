"""Worker test fixtures: real anvil chains, funded development keys, compiled contracts, a deployer.

Actors are named by role: ``operator`` (the worker's key), ``requester``, ``governance`` (deployer),
``stranger``. Their keys are anvil's public development accounts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.deployment import Artifact
from offchain.devchain import Chain, running_chain
from tests.support.chain import deploy, dev_account
from tests.support.contracts import compile_artifacts
from tests.support.market import Market, staked_market

# A tiny contract for poller and transaction tests: one event, one revert.
PINGER_SOURCE = """
# pragma version 0.4.3
event Ping:
    n: indexed(uint256)

@external
def ping(n: uint256):
    assert n != 13, "pinger: unlucky"
    log Ping(n=n)
"""


@pytest.fixture(scope="session")
def governance() -> LocalAccount:
    return dev_account(0)


@pytest.fixture(scope="session")
def operator() -> LocalAccount:
    return dev_account(1)


@pytest.fixture(scope="session")
def requester() -> LocalAccount:
    return dev_account(2)


@pytest.fixture(scope="session")
def stranger() -> LocalAccount:
    return dev_account(3)


@pytest.fixture
def chain() -> Iterator[Chain]:
    with running_chain() as c:
        yield c


@pytest.fixture
def w3(chain: Chain) -> Web3:
    return Web3(Web3.HTTPProvider(chain.rpc_url))


@pytest.fixture(scope="session")
def pinger_artifact() -> tuple[list[dict[str, Any]], str]:
    import vyper

    out = vyper.compile_code(PINGER_SOURCE, output_formats=["abi", "bytecode"])
    return out["abi"], out["bytecode"]


@pytest.fixture
def pinger(w3: Web3, governance: LocalAccount, pinger_artifact):
    abi, bytecode = pinger_artifact
    address, _, _ = deploy(w3, governance, abi, bytecode)
    return w3.eth.contract(address=address, abi=abi)


# ---------------------------------------------------------------- the Tessera contracts
@pytest.fixture(scope="session")
def artifacts() -> dict[str, Artifact]:
    """The four contracts compiled once per session (cached on disk: `tests.support.contracts`)."""
    return compile_artifacts()


@pytest.fixture
def market(tmp_path, artifacts, governance, operator, requester) -> Iterator[Market]:
    """anvil mining a block a second, the contracts deployed, ``operator`` staked, ``requester`` funded."""
    with staked_market(tmp_path, artifacts, governance, operator, requester) as m:
        yield m
