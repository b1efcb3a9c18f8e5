"""A staked market for worker tests and benchmarks: anvil mining a block a second, the contracts deployed
from a manifest, one operator registered and staked, a funded requester; and helpers to publish a spec to
the local IPFS store, post a job and build a worker's `Settings`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.chain.bindings import Tessera
from offchain.chain.manifest import load_manifest
from offchain.compute.spec import canonical_spec_bytes, parse_spec
from offchain.devchain import running_chain
from offchain.ipfs import LocalBlockStore
from offchain.settings import Settings
from tests.support.chain import TSR, rpc, transact
from tests.support.contracts import deploy_tessera

FEE = 10 * TSR
COLLATERAL = 10 * TSR
STAKE = 1_000 * TSR

MATMUL = {
    "version": 1,
    "workload": {"name": "matmul", "n": 16, "seed": 7},
    "resources": {"max_runtime_s": 60},
}


@dataclass
class Market:
    w3: Web3
    rpc_url: str
    manifest: Path
    contracts: Tessera
    ipfs_dir: Path
    tmp: Path


@contextmanager
def staked_market(
    tmp: Path,
    artifacts: dict[str, Any],
    governance: LocalAccount,
    operator: LocalAccount,
    requester: LocalAccount,
) -> Iterator[Market]:
    """A fresh anvil with the contracts; ``operator`` staked `STAKE`, ``requester`` holding 100 TSR."""
    with running_chain() as chain:
        w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
        manifest = deploy_tessera(w3, governance, artifacts, tmp / "deployments")
        contracts = Tessera(w3, load_manifest(manifest))
        for who, amount in ((operator, STAKE), (requester, 100 * TSR)):
            transact(w3, governance, contracts.token, "transfer", who.address, amount)
        transact(w3, operator, contracts.token, "approve", contracts.staking.address, STAKE)
        transact(w3, operator, contracts.staking, "register", "bafkreioperatormetadata")
        transact(w3, operator, contracts.staking, "stake", STAKE)
        rpc(w3, "evm_setIntervalMining", 1)  # from now on a block a second, as on a real chain
        yield Market(w3, chain.rpc_url, manifest, contracts, tmp / "ipfs", tmp)


def publish_spec(market: Market, spec: dict) -> tuple[str, bytes]:
    """Add the canonical form of ``spec`` to the market's IPFS store; return (CID, bytes)."""
    raw = canonical_spec_bytes(parse_spec(json.dumps(spec).encode()))
    store = LocalBlockStore(market.ipfs_dir)
    cid = str(store.add_bytes(raw))
    return cid, raw


def post_job(
    market: Market,
    requester: LocalAccount,
    cid: str,
    digest: bytes,
    *,
    fee: int = FEE,
    collateral: int = COLLATERAL,
    replicas: int = 1,
    quorum: int = 1,
) -> int:
    """Approve the fee and post a job with 600 s windows; return its id."""
    c = market.contracts
    transact(market.w3, requester, c.token, "approve", c.registry.address, fee)
    receipt = transact(
        market.w3,
        requester,
        c.registry,
        "post_job",
        cid,
        digest,
        fee,
        replicas,
        quorum,
        collateral,
        600,
        600,
        600,
    )
    return c.job_id_from(receipt)


def worker_settings(market: Market, operator: LocalAccount, name: str = "worker", **overrides) -> Settings:
    """In-process worker settings for ``operator`` on this market (no .env, local IPFS store)."""
    return Settings(
        _env_file=None,
        rpc_url=market.rpc_url,
        deployment=market.manifest,
        private_key="0x" + bytes(operator.key).hex(),
        data_dir=market.tmp / name,
        ipfs="local",
        ipfs_dir=market.ipfs_dir,
        poll_interval_s=0.2,
        confirmations=1,
        stuck_after_s=30,
        **overrides,
    )
