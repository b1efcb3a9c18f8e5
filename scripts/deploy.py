"""Deploy and wire the four Tessera contracts, then write the deployment manifest.

    ape run deploy --network ethereum:local:node [--params FILE] [--force] [--account ALIAS]
                   [--deployments-dir DIR]

Order: TesseraToken (genesis supply to the deployer), Staking, RewardEmitter, JobRegistry; then the
one-shot wiring: token.set_emitter (which also renounces the token's ownership),
staking.set_job_registry, emitter.set_job_registry. Everything that can be checked is checked before the
first transaction: the parameters (names and the contracts' bounds), the RPC, the chain id against an
existing manifest, an existing live deployment (`--force` to replace it) and the account's balance.
After deploying, the wiring and every parameter are read back from the chain.

The manifest goes to `<deployments dir>/<chain id>.json` (default `deployments/`, or
TESSERA_DEPLOYMENTS_DIR). The functions above `cli` do not touch the network and are tested directly.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import urllib.error
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

import click
from ape.cli import ConnectedProviderCommand, account_option

from offchain.chain.ape_compat import for_any_node
from offchain.chain.manifest import (
    CONTRACT_NAMES,
    ContractRecord,
    Manifest,
    load_manifest,
    manifest_path,
    write_manifest,
)
from offchain.deployment import build_manifest, deploy_and_wire, expected_wiring
from offchain.devchain import rpc_call
from offchain.errors import (
    ConfigError,
    DeploymentExists,
    RpcUnreachable,
    TesseraError,
    UnfundedAccount,
    WrongChainId,
)

PARAMS_DIR = Path(__file__).resolve().parent / "params"
TSR = 10**18
DAY = 86_400


# ---------------------------------------------------------------- parameters
class Bound(NamedTuple):
    """A deployment parameter: the contract that takes it and the bounds that contract enforces."""

    contract: str
    low: int
    high: int
    meaning: str


# The contracts' constants, mirrored; tests/deploy/test_params.py reads them back from the compiled
# contracts so the two cannot drift apart.
MAX_SUPPLY = 1_000_000_000 * TSR  # TesseraToken.MAX_SUPPLY
PARAMETERS: dict[str, Bound] = {
    "genesis_supply": Bound("TesseraToken", 0, MAX_SUPPLY, "TSR minted to the deployer at genesis"),
    "min_stake": Bound("Staking", 10**18, 10**24, "bonded stake an operator needs to claim jobs"),
    "unbonding_period": Bound("Staking", 4 * DAY, 60 * DAY, "seconds from unstake request to withdrawal"),
    "jail_period": Bound("Staking", 3_600, 30 * DAY, "seconds a wrong result bars an operator from claiming"),
    "slash_reward_bps": Bound("Staking", 0, 5_000, "share of a slash paid to honest parties"),
    "epoch_length": Bound("RewardEmitter", 60, 30 * DAY, "seconds per emission epoch"),
    "initial_emission": Bound("RewardEmitter", 0, MAX_SUPPLY, "scheduled emission per epoch before halving"),
    "halving_epochs": Bound("RewardEmitter", 1, MAX_SUPPLY, "epochs between halvings of the schedule"),
    "protocol_fee_bps": Bound("JobRegistry", 0, 2_000, "share of each job fee burned"),
    "wrong_result_slash_bps": Bound(
        "JobRegistry", 1_000, 10_000, "collateral share slashed for a wrong result"
    ),
    "liveness_slash_bps": Bound(
        "JobRegistry", 500, 5_000, "collateral share slashed for a missed commit/reveal"
    ),
    "min_fee": Bound("JobRegistry", 1, 10**24, "smallest fee a job may offer"),
    "min_collateral": Bound("JobRegistry", 0, 10**24, "smallest collateral a job may ask for"),
}


def validate_params(raw: Mapping[str, object], source: str = "parameters") -> dict[str, int]:
    """Check names, types and the contracts' bounds; ConfigError lists every problem and names `source`."""
    problems: list[str] = []
    for name in raw:
        if name not in PARAMETERS:
            close = difflib.get_close_matches(name, PARAMETERS, n=1)
            problems.append(
                f"unknown parameter {name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
            )
    for name, bound in PARAMETERS.items():
        if name not in raw:
            problems.append(f"missing {name!r} ({bound.meaning})")
            continue
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{name} must be an integer (wei or seconds), got {value!r}")
        elif not bound.low <= value <= bound.high:
            problems.append(
                f"{name} = {value:_} is outside {bound.contract}'s bounds [{bound.low:_}, {bound.high:_}]"
            )
    if not problems:
        genesis, emission, halving = raw["genesis_supply"], raw["initial_emission"], raw["halving_epochs"]
        if 2 * emission * halving > MAX_SUPPLY - genesis:  # type: ignore[operator]
            problems.append(
                f"2 * initial_emission * halving_epochs = {2 * emission * halving:_} exceeds "  # type: ignore[operator]
                f"MAX_SUPPLY - genesis_supply = {MAX_SUPPLY - genesis:_} (RewardEmitter refuses a schedule "  # type: ignore[operator]
                "that could hit the supply cap)"
            )
    if problems:
        raise ConfigError(
            f"{source}: " + "; ".join(problems), hint="see scripts/params/README.md for each parameter"
        )
    return {name: int(raw[name]) for name in PARAMETERS}  # type: ignore[call-overload]


def load_params(path: Path | str) -> dict[str, int]:
    """Read a params JSON file (an object of name -> integer) and validate it."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no parameters file at {path}", hint=f"pass --params with a file like {PARAMS_DIR}/default.json"
        ) from None
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"{path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})",
            hint="fix the file; scripts/params/README.md documents each parameter",
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path} must hold a JSON object of parameter name -> integer",
            hint="see scripts/params/default.json",
        )
    return validate_params(raw, source=str(path))


def default_params_file(is_local: bool) -> Path:
    """local.json (short epochs and periods, for demos) on local networks, default.json elsewhere."""
    return PARAMS_DIR / ("local.json" if is_local else "default.json")


# ---------------------------------------------------------------- pre-flight checks
# Gas of the three wiring calls (each one SSTORE to a fresh slot and an event, about 47k), with margin.
WIRING_GAS = 3 * 80_000
# Constructor execution (storage writes, events, the token's genesis mint), with margin; measured
# against real receipts in tests/deploy/test_deploy.py.
CONSTRUCTOR_GAS = {
    "TesseraToken": 400_000,
    "Staking": 250_000,
    "RewardEmitter": 100_000,
    "JobRegistry": 300_000,
}


def deployment_gas(initcode: Mapping[str, bytes], runtime_size: Mapping[str, int]) -> int:
    """An upper estimate of the gas of the whole deployment, from the compiled bytecode.

    Per contract: 21,000 intrinsic + 32,000 CREATE + calldata (16 per non-zero byte, 4 per zero) +
    2 per initcode word (EIP-3860) + 200 per byte of deployed code + a constructor allowance; plus the
    three wiring calls. Constructor arguments add at most 9 words per contract.
    """
    total = WIRING_GAS
    for name in CONTRACT_NAMES:
        code = initcode[name] + b"\x01" * 32 * 9
        calldata = sum(16 if b else 4 for b in code)
        total += 21_000 + 32_000 + calldata + 2 * ((len(code) + 31) // 32)
        total += 200 * runtime_size[name] + CONSTRUCTOR_GAS[name]
    return total


def check_balance(address: str, balance: int, gas: int, max_fee_per_gas: int) -> int:
    """Raise UnfundedAccount unless `balance` covers `gas` at `max_fee_per_gas`; return the amount needed."""
    needed = gas * max_fee_per_gas
    if balance < needed:
        eth, gwei = 10**18, 10**9
        raise UnfundedAccount(
            f"deployer {address} holds {balance / eth:.6f} ETH ({balance} wei) but deploying needs up to "
            f"{needed / eth:.6f} ETH ({needed} wei: about {gas:_} gas at {max_fee_per_gas / gwei:.3f} gwei)",
            hint=f"send at least {(needed - balance) / eth:.6f} ETH to {address} (or use another --account), "
            "then retry",
        )
    return needed


def check_rpc(url: str, *, is_local: bool) -> int:
    """Return the chain id the node at `url` reports, or raise RpcUnreachable naming `url`."""
    try:
        return int(str(rpc_call(url, "eth_chainId", timeout=5.0)), 16)
    except (OSError, urllib.error.URLError, RuntimeError, ValueError) as err:
        hint = (
            "start the local chain with `make chain` (or point --network at a running node)"
            if is_local
            else "check the node's `uri` in ape-config.yaml (or the --network URL) and that it is up"
        )
        reason = getattr(err, "reason", None) or err
        raise RpcUnreachable(f"no JSON-RPC node answered at {url} ({reason})", hint=hint) from None


def check_existing(
    path: Path, *, chain_id: int, network: str, code_at: Callable[[str], bytes], force: bool
) -> Manifest | None:
    """Inspect an existing manifest for this chain id before deploying over it.

    WrongChainId if it was written for another network with this chain id (or claims another chain id);
    DeploymentExists if its contracts still have code and not `force`. Returns the old manifest, if any.
    """
    if not path.exists():
        return None
    old = load_manifest(path)
    if old.chain_id != chain_id or old.network != network:
        raise WrongChainId(
            f"{path} records a deployment on {old.network} (chain {old.chain_id}), but this run targets "
            f"{network} (chain {chain_id})",
            hint="choose the --network the manifest was written for, or move the file away (or use another "
            "--deployments-dir) if it is stale",
        )
    live = old.live_contracts(code_at)
    if live and not force:
        raise DeploymentExists(
            f"{path} records a live deployment on chain {chain_id} ({', '.join(live)} still have code, first "
            f"deployed in block {old.deployment_block})",
            hint=f"use it as it is, or pass --force to deploy anew and overwrite {path}",
        )
    return old


# ---------------------------------------------------------------- deployment
class ApeBackend:
    """`offchain.deployment.DeployBackend` over ape: ``project.<Name>.deploy`` and contract calls."""

    def __init__(self, containers: Mapping[str, object], account, txn_kwargs: Mapping[str, object]) -> None:
        self.containers = containers
        self.kw = {"sender": account, **txn_kwargs}

    def deploy(self, name: str, args: tuple):
        return self.containers[name].deploy(*args, **self.kw)

    def address(self, contract) -> str:
        return str(contract.address)

    def call(self, contract, function: str, args: tuple):
        return getattr(contract, function)(*args, **self.kw)


def contracts_digest(contracts_dir: Path) -> str:
    """sha256 over every contract source (``*.vy``, ``*.vyi``) under ``contracts_dir``, names included."""
    digest = hashlib.sha256()
    for path in sorted(contracts_dir.rglob("*.vy*")):
        digest.update(path.relative_to(contracts_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def fresh_containers(project) -> dict[str, object]:
    """The four contracts as ape containers, compiled from the sources as they are now.

    ape's incremental compile can keep a contract type older than its source: after a pull that changed
    JobRegistry.vy and the module it imports, `ape compile` kept the old ABI, so a deploy shipped stale
    bytecode and every worker failed on a changed function. The deploy therefore recompiles everything
    whenever the sources differ from those of the last compile it made (a stamp under ``.build/``).
    """
    stamp = Path(project.path) / ".build" / "tessera-contracts.sha256"
    digest = contracts_digest(Path(project.path) / "contracts")
    use_cache = stamp.is_file() and stamp.read_text().strip() == digest
    containers = project.load_contracts(use_cache=use_cache)
    missing = [name for name in CONTRACT_NAMES if name not in containers]
    if missing:
        raise ConfigError(
            f"ape compiled no contract named {', '.join(missing)}",
            hint="run `ape compile --force` and read its errors",
        )
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest)
    return {name: containers[name] for name in CONTRACT_NAMES}


def deploy_contracts(
    containers: Mapping[str, object], account, params: Mapping[str, int], txn_kwargs: Mapping[str, object]
) -> tuple[dict, list]:
    """Deploy the four contracts and make the one-shot wiring calls (`offchain.deployment`).

    Returns name -> contract instance, and the receipts of the three wiring calls.
    """
    deployed = deploy_and_wire(ApeBackend(containers, account, txn_kwargs), params, account.address)
    return deployed.contracts, deployed.wiring_receipts


def read_back(contracts: Mapping[str, object]) -> tuple[dict[str, object], dict[str, int]]:
    """Read the wiring and the parameters from the chain: (wiring name -> address, parameter -> value)."""
    token, staking, emitter, registry = (
        contracts[n] for n in ("TesseraToken", "Staking", "RewardEmitter", "JobRegistry")
    )
    wiring = {
        "token.emitter": token.emitter(),
        "token.owner": token.owner(),
        "staking.TOKEN": staking.TOKEN(),
        "staking.job_registry": staking.job_registry(),
        "emitter.TOKEN": emitter.TOKEN(),
        "emitter.job_registry": emitter.job_registry(),
        "registry.FEE_TOKEN": registry.FEE_TOKEN(),
        "registry.STAKING": registry.STAKING(),
        "registry.EMITTER": registry.EMITTER(),
    }
    params = {
        "genesis_supply": token.totalSupply(),
        "min_stake": staking.min_stake(),
        "unbonding_period": staking.unbonding_period(),
        "jail_period": staking.jail_period(),
        "slash_reward_bps": staking.slash_reward_bps(),
        "epoch_length": emitter.EPOCH_LENGTH(),
        "initial_emission": emitter.INITIAL_EMISSION(),
        "halving_epochs": emitter.HALVING_EPOCHS(),
        "protocol_fee_bps": registry.protocol_fee_bps(),
        "wrong_result_slash_bps": registry.wrong_result_slash_bps(),
        "liveness_slash_bps": registry.liveness_slash_bps(),
        "min_fee": registry.min_fee(),
        "min_collateral": registry.min_collateral(),
    }
    return wiring, {k: int(v) for k, v in params.items()}


def wiring_problems(
    addresses: Mapping[str, str],
    wiring: Mapping[str, object],
    params_read: Mapping[str, int],
    params: Mapping[str, int],
) -> list[str]:
    """Every difference between what was read back and what the deployment intended."""
    expected = expected_wiring(addresses)
    problems = [
        f"{k} is {wiring[k]}, expected {v}"
        for k, v in expected.items()
        if str(wiring[k]).lower() != v.lower()
    ]
    problems += [f"{k} is {params_read[k]}, expected {v}" for k, v in params.items() if params_read[k] != v]
    return problems


def summary(manifest: Manifest, path: Path, gas_used: int, network_choice: str) -> str:
    """The table printed after a deployment, and what to run next."""
    order = sorted(CONTRACT_NAMES, key=lambda n: manifest.contracts[n].block)
    rows = [
        f"  {name:<14} {manifest.contracts[name].address}  block {manifest.contracts[name].block}"
        for name in order
    ]
    steps = []
    if path.parent.resolve() != Path("deployments").resolve():
        steps.append(f"export TESSERA_DEPLOYMENTS_DIR={path.parent}   # so the CLI and workers find it")
    steps += [
        "tessera worker doctor          # check a worker's set-up against this deployment",
        "tessera job schema             # the job spec format, then `tessera job submit SPEC`",
        f"ape console --network {network_choice}   # poke at the contracts",
    ]
    return (
        f"Tessera deployed on {manifest.network} (chain {manifest.chain_id}) by {manifest.deployer}\n"
        + "\n".join(rows)
        + f"\n  wiring and parameters read back and verified; {gas_used:_} gas in 7 transactions\n"
        f"  manifest: {path}\n"
        "Next:\n" + "\n".join(f"  {s}" for s in steps)
    )


# ---------------------------------------------------------------- the ape command
def _provider_url(provider) -> str | None:
    return getattr(provider, "http_uri", None) or getattr(provider, "uri", None)


def _is_local(network) -> bool:
    return network.name == "local"  # an ad-hoc URL ("custom") may be a real chain: treated as live


def _reachable(ctx, param, provider):
    """ape's network callback: runs before ape connects, so an unreachable node gets our message.

    It also swaps ape's local-network provider for one that works with any node, Hardhat 3 included
    (offchain/chain/ape_compat.py)."""
    url = _provider_url(provider) if provider is not None and not isinstance(provider, str) else None
    if url and url.startswith("http"):
        try:
            check_rpc(url, is_local=_is_local(provider.network))
        except RpcUnreachable as err:
            raise click.ClickException(str(err)) from None
    return for_any_node(provider)


@click.command(cls=ConnectedProviderCommand, network_callback=_reachable, short_help="Deploy Tessera")
@account_option(prompt=False)
@click.option(
    "--params",
    "params_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Parameters JSON (default: scripts/params/local.json on local networks, default.json elsewhere).",
)
@click.option("--force", is_flag=True, help="Deploy even if a live deployment is recorded for this chain.")
@click.option(
    "--deployments-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TESSERA_DEPLOYMENTS_DIR",
    default=Path("deployments"),
    show_default=True,
    help="Where <chain-id>.json is written.",
)
def cli(provider, network, account, params_file: Path | None, force: bool, deployments_dir: Path):
    """Deploy and wire TesseraToken, Staking, RewardEmitter and JobRegistry; write the manifest."""
    try:
        _deploy(provider, network, account, params_file, force, deployments_dir)
    except TesseraError as err:
        raise click.ClickException(str(err)) from None


def _deploy(provider, network, account, params_file: Path | None, force: bool, deployments_dir: Path) -> None:
    from ape import accounts, project

    is_local = _is_local(network)
    network_name = f"{network.ecosystem.name}:{network.name}"
    params_file = params_file or default_params_file(is_local)
    params = load_params(params_file)

    chain_id = int(provider.chain_id)
    path = manifest_path(deployments_dir, chain_id)
    old = check_existing(
        path, chain_id=chain_id, network=network_name, code_at=provider.get_code, force=force
    )

    if account is None:
        if not is_local:
            raise ConfigError(
                f"no --account given for {network_name}",
                hint="pass --account <alias> (an `ape accounts` keystore)",
            )
        account = accounts.test_accounts[0]
        click.echo(
            f"No --account on a local network: using ape's first test account {account.address} "
            "(anvil's dev mnemonic; never use it on a real network)."
        )

    containers = fresh_containers(project)
    contract_types = {name: c.contract_type for name, c in containers.items()}
    gas = deployment_gas(
        {n: bytes(ct.deployment_bytecode.to_bytes()) for n, ct in contract_types.items()},
        {n: len(ct.runtime_bytecode.to_bytes()) for n, ct in contract_types.items()},
    )
    try:
        max_fee = int(provider.base_fee * network.base_fee_multiplier) + int(provider.priority_fee)
    except Exception:  # noqa: BLE001 - a chain without EIP-1559
        max_fee = int(provider.gas_price)
    check_balance(account.address, int(account.balance), gas, max_fee)

    click.echo(
        f"Deploying to {network_name} (chain {chain_id}) from {account.address} with {params_file}"
        + (f"; it will replace the deployment recorded in {path}" if old else "")
    )
    contracts, wiring_receipts = deploy_contracts(containers, account, params, {"gas_limit": "auto"})

    addresses = {name: str(c.address) for name, c in contracts.items()}
    wiring, params_read = read_back(contracts)
    problems = wiring_problems(addresses, wiring, params_read, params)
    if problems:
        raise ConfigError(
            "the deployment does not read back as intended: " + "; ".join(problems),
            hint="nothing was written; report this as a bug (the contracts are deployed but unrecorded)",
        )

    records, gas_used = {}, sum(int(r.gas_used) for r in wiring_receipts)
    for name in CONTRACT_NAMES:
        receipt = provider.get_receipt(contracts[name].txn_hash)
        gas_used += int(receipt.gas_used)
        records[name] = ContractRecord(
            address=addresses[name],
            abi=_abi_json(contract_types[name]),
            block=int(receipt.block_number),
            tx_hash=_hex(receipt.txn_hash),
        )
    manifest = build_manifest(
        chain_id=chain_id,
        network=network_name,
        deployer=account.address,
        params=params,
        records=records,
        compiler=_compiler(project),
    )
    write_manifest(manifest, path)
    click.echo(summary(manifest, path, gas_used, provider.network_choice))


def _abi_json(contract_type) -> list[dict]:
    return [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in contract_type.abi]


def _hex(value) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    text = str(value)
    return text if text.startswith("0x") else "0x" + text


def _compiler(project) -> str:
    for compiler in project.manifest.compilers or []:
        if "TesseraToken" in (compiler.contractTypes or []):
            return f"{compiler.name} {compiler.version}"
    return "vyper 0.4.3"
