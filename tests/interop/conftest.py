"""Interop fixtures: a Hardhat 3 node and an anvil, each deployed to by `ape run deploy` as users run it
(the real script in a subprocess, the repository's ape-config.yaml, a manifest in a temporary folder).

One node of each kind and one deployment on it serve the whole package. Without the Hardhat node's npm
packages, the Hardhat cases skip and say how to install them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from offchain.devchain import LOCAL_CHAIN_ID, running_chain
from tests.interop.hardhat_node import CHAIN_ID as HARDHAT_CHAIN_ID
from tests.interop.hardhat_node import missing, running_hardhat

REPO = Path(__file__).resolve().parents[2]
APE = Path(sys.executable).parent / "ape"


@dataclass(frozen=True)
class Deployment:
    """What `ape run deploy` left on one node: the node, the manifest it wrote and what it printed."""

    node: str
    rpc_url: str
    chain_id: int
    manifest: Path
    output: str


def ape_deploy(rpc_url: str, deployments_dir: Path) -> subprocess.CompletedProcess[str]:
    """`ape run deploy --network ethereum:local:<rpc_url>` from the repository, without TESSERA_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    return subprocess.run(
        [str(APE), "run", "deploy", "--network", f"ethereum:local:{rpc_url}",
         "--deployments-dir", str(deployments_dir)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def deploy_on(node: str, rpc_url: str, chain_id: int, folder: Path) -> Deployment:
    result = ape_deploy(rpc_url, folder)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"ape run deploy failed on {node}:\n{output}"
    return Deployment(node, rpc_url, chain_id, folder / f"{chain_id}.json", output)


@pytest.fixture(scope="package")
def hardhat_url(tmp_path_factory) -> Iterator[str]:
    if reason := missing():
        pytest.skip(f"Hardhat 3 interop: {reason}")
    log = tmp_path_factory.mktemp("hardhat") / "node.log"
    with running_hardhat(log) as url:
        yield url


@pytest.fixture(scope="package")
def anvil_url() -> Iterator[str]:
    with running_chain() as chain:
        yield chain.rpc_url


@pytest.fixture(scope="package")
def hardhat_deployment(hardhat_url, tmp_path_factory) -> Deployment:
    return deploy_on("hardhat", hardhat_url, HARDHAT_CHAIN_ID, tmp_path_factory.mktemp("deployments"))


@pytest.fixture(scope="package")
def anvil_deployment(anvil_url, tmp_path_factory) -> Deployment:
    return deploy_on("anvil", anvil_url, LOCAL_CHAIN_ID, tmp_path_factory.mktemp("deployments"))


@pytest.fixture(params=["anvil", "hardhat"])
def deployment(request) -> Deployment:
    """The same deploy, with the same ape-config.yaml, on each node."""
    return request.getfixturevalue(f"{request.param}_deployment")
