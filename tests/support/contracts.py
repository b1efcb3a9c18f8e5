"""The four Tessera contracts compiled once (cached by source hash) and deployed with
`offchain.deployment` (the same order, arguments and wiring as `scripts/deploy.py`)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.chain.manifest import write_manifest
from offchain.deployment import DEPLOY_ORDER, Artifact, deploy_with_web3

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "contracts"
TSR = 10**18

# Deployment parameters for tests: short epochs, the contract defaults otherwise (scripts/params).
TEST_PARAMS = {
    "genesis_supply": 100_000_000 * TSR,
    "min_stake": 100 * TSR,
    "unbonding_period": 7 * 86_400,
    "jail_period": 3 * 86_400,
    "slash_reward_bps": 5_000,
    "epoch_length": 60,
    "initial_emission": 100_000 * TSR,
    "halving_epochs": 365,
    "protocol_fee_bps": 500,
    "wrong_result_slash_bps": 10_000,
    "liveness_slash_bps": 1_000,
    "min_fee": TSR // 10,
    "min_collateral": 10 * TSR,
}


def compile_artifacts() -> dict[str, Artifact]:
    """The four contracts compiled (titanoboa's front end resolves snekmate), cached under .cache/ by a
    hash of every contract source and the compiler version, so parallel and later runs skip compiling."""
    import vyper

    digest = hashlib.sha256(vyper.__version__.encode())
    for path in sorted(CONTRACTS.rglob("*.vy*")):
        digest.update(path.relative_to(CONTRACTS).as_posix().encode() + b"\0" + path.read_bytes())
    cache = REPO / ".cache" / "worker-tests" / f"artifacts-{digest.hexdigest()[:16]}.json"
    if cache.exists():
        return {name: Artifact(**a) for name, a in json.loads(cache.read_text()).items()}
    import boa
    from vyper.compiler.output import build_abi_output

    out = {}
    for name in DEPLOY_ORDER:
        data = boa.load_partial(str(CONTRACTS / f"{name}.vy")).compiler_data
        out[name] = Artifact(abi=build_abi_output(data), bytecode="0x" + data.bytecode.hex())
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({n: {"abi": a.abi, "bytecode": a.bytecode} for n, a in out.items()}))
    os.replace(tmp, cache)  # atomic: a parallel run reads the whole file or none
    return out


def deploy_tessera(
    w3: Web3,
    governance: LocalAccount,
    artifacts: dict[str, Artifact],
    deployments_dir: Path,
    params: dict[str, Any] | None = None,
) -> Path:
    """Deploy and wire the four contracts (`offchain.deployment`); write `<dir>/<chain id>.json`."""
    manifest = deploy_with_web3(w3, governance, artifacts, {**TEST_PARAMS, **(params or {})})
    deployments_dir.mkdir(parents=True, exist_ok=True)
    return write_manifest(manifest, deployments_dir / f"{manifest.chain_id}.json")
