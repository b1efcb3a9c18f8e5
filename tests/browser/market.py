"""A market for the browser tests: a real anvil with the contracts deployed, operators staked, the IPFS
gateway (`offchain.ipfs.serve`) over a fresh store and the dashboard server (`offchain.dashboard`), plus
helpers that act as requesters and operators by sending transactions directly.

Deployment reuses `tests.support.contracts.deploy_tessera` (what ``scripts/deploy.py`` does, with web3);
the contracts are compiled by ``scripts/gen_abi.py`` (the same compiler and settings as ``ape compile``).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.chain.bindings import Tessera, commitment
from offchain.chain.manifest import load_manifest
from offchain.dashboard import DashboardServer, PageConfig
from offchain.devchain import running_chain
from offchain.ipfs import LocalBlockStore
from offchain.ipfs.serve import IpfsHttpServer
from tests.support.chain import TSR, dev_account, rpc, transact
from tests.support.contracts import deploy_tessera

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "frontend" / "build"

GOVERNANCE, REQUESTER = 0, 4
STAKE = 500 * TSR
COLLATERAL = 10 * TSR

MATMUL_SPEC = {
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
    store: LocalBlockStore
    ipfs: IpfsHttpServer
    dashboard: DashboardServer
    root: Path
    governance: LocalAccount = field(default_factory=lambda: dev_account(GOVERNANCE))
    requester: LocalAccount = field(default_factory=lambda: dev_account(REQUESTER))

    def send(self, account: LocalAccount, contract_name: str, fn: str, *args: Any) -> Any:
        return transact(self.w3, account, self.contracts.contract(contract_name), fn, *args)

    # -- roles -------------------------------------------------------------------------------------
    def fund(self, account: LocalAccount, amount: int) -> None:
        self.send(self.governance, "TesseraToken", "transfer", account.address, amount)

    def stake_operator(self, operator: LocalAccount, amount: int = STAKE) -> None:
        self.fund(operator, amount)
        meta = self.store.add_bytes(json.dumps({"name": f"operator {operator.address[:8]}"}).encode())
        self.send(operator, "Staking", "register", str(meta))
        self.send(operator, "TesseraToken", "approve", self.contracts.staking.address, amount)
        self.send(operator, "Staking", "stake", amount)

    def publish_spec(self, spec: dict) -> tuple[str, bytes]:
        raw = json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()
        return str(self.store.add_bytes(raw)), hashlib.sha256(raw).digest()

    def post_job(
        self,
        spec: dict = MATMUL_SPEC,
        *,
        fee: int = 2 * TSR,
        replicas: int = 1,
        quorum: int = 1,
        digest: bytes | None = None,
        windows: tuple[int, int, int] = (600, 600, 600),
    ) -> int:
        cid, real_digest = self.publish_spec(spec)
        self.send(self.requester, "TesseraToken", "approve", self.contracts.registry.address, fee)
        receipt = self.send(
            self.requester, "JobRegistry", "post_job",
            cid, digest or real_digest, fee, replicas, quorum, COLLATERAL, *windows,
        )  # fmt: skip
        return self.contracts.job_id_from(receipt)

    def work(self, job_id: int, answers: dict[str, bytes]) -> dict[str, str]:
        """Operators (by address) claim, commit their answer, reveal it; returns each answer's CID."""
        ops = {addr: _account_of(addr) for addr in answers}
        for op in ops.values():
            self.send(op, "JobRegistry", "claim", job_id)
        salts, cids = {}, {}
        for addr, result in answers.items():
            salts[addr] = secrets.token_bytes(32)
            cids[addr] = str(self.store.add_bytes(result))
            digest = hashlib.sha256(result).digest()
            seal = commitment(
                self.contracts.chain_id, self.contracts.registry.address, job_id, addr, digest, cids[addr],
                salts[addr],
            )  # fmt: skip
            self.send(ops[addr], "JobRegistry", "commit", job_id, seal)
        for addr, result in answers.items():
            digest = hashlib.sha256(result).digest()
            self.send(ops[addr], "JobRegistry", "reveal", job_id, digest, cids[addr], salts[addr])
        return cids

    def finalize(self, job_id: int) -> Any:
        return self.send(self.governance, "JobRegistry", "finalize", job_id)

    def advance(self, seconds: int) -> None:
        rpc(self.w3, "evm_increaseTime", seconds)
        rpc(self.w3, "evm_mine")

    def calldata(self, contract_name: str, fn: str, *args: Any) -> dict[str, str]:
        """`{to, data}` for the browser driver, which sends it from an unlocked anvil account."""
        contract = self.contracts.contract(contract_name)
        return {"to": contract.address, "data": contract.encode_abi(fn, args=list(args))}


_ACCOUNTS: dict[str, LocalAccount] = {}


def _account_of(address: str) -> LocalAccount:
    if not _ACCOUNTS:
        for i in range(10):
            account = dev_account(i)
            _ACCOUNTS[account.address] = account
    return _ACCOUNTS[address]


@contextmanager
def market(tmp: Path, artifacts: dict[str, Any], *, build_dir: Path = BUILD) -> Iterator[Market]:
    """Chain, contracts, IPFS server and dashboard, all stopped on exit."""
    with running_chain() as chain:
        w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
        manifest = deploy_tessera(w3, dev_account(GOVERNANCE), artifacts, tmp / "deployments")
        contracts = Tessera(w3, load_manifest(manifest))
        # Every staked operator selected at a round's opening: the pages test what the chain did, and
        # selection itself is pinned by tests/contracts (as there, deploy_protocol's default).
        factor = contracts.registry.functions.MAX_SELECTION_FACTOR().call()
        transact(w3, dev_account(GOVERNANCE), contracts.registry, "set_selection_factor", factor)
        store = LocalBlockStore(tmp / "ipfs")
        with IpfsHttpServer(store, port=0) as ipfs:
            page = PageConfig(
                rpc_url=chain.rpc_url,
                chain_id=chain.chain_id,
                gateway_url=ipfs.url,
                ipfs_api_url=ipfs.url,
                poll_interval_ms=500,
            )
            with DashboardServer(page, manifest, build_dir=build_dir, port=0) as dashboard:
                for origin in dashboard.origins:
                    ipfs.allow_origin(origin)
                yield Market(w3, chain.rpc_url, manifest, contracts, store, ipfs, dashboard, tmp)


def env_without_tessera() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
