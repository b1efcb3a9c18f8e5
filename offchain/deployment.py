"""Deploy and wire the four Tessera contracts: the one place that knows the order, the constructor
arguments and the wiring calls.

    token    = TesseraToken(deployer, genesis_supply)
    staking  = Staking(token, min_stake, unbonding_period, jail_period, slash_reward_bps)
    emitter  = RewardEmitter(token, epoch_length, initial_emission, halving_epochs)
    registry = JobRegistry(token, staking, emitter, protocol_fee_bps, wrong_result_slash_bps,
                           liveness_slash_bps, min_fee, min_collateral)
    token.set_emitter(emitter)            # also renounces the token's ownership
    staking.set_job_registry(registry)
    emitter.set_job_registry(registry)

`deploy_and_wire` runs that sequence through any `DeployBackend` (ape in `scripts/deploy.py`, web3 here in
`Web3Backend` for tests and benchmarks, titanoboa in benchmarks); `build_manifest` turns the result into
the manifest every reader uses (`offchain.chain.manifest`). Nothing here reads the environment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from offchain.chain.manifest import CONTRACT_NAMES, ContractRecord, Manifest

# Deployment order: each contract's constructor takes the addresses of those before it.
DEPLOY_ORDER = ("TesseraToken", "Staking", "RewardEmitter", "JobRegistry")
ZERO_ADDRESS = "0x" + "00" * 20
WIRING_CALLS = 3

C = TypeVar("C")


@dataclass(frozen=True)
class Wire:
    """One one-shot wiring call: ``contract.function(target's address)``."""

    contract: str
    function: str
    target: str


WIRING: tuple[Wire, ...] = (
    Wire("TesseraToken", "set_emitter", "RewardEmitter"),
    Wire("Staking", "set_job_registry", "JobRegistry"),
    Wire("RewardEmitter", "set_job_registry", "JobRegistry"),
)


def constructor_args(
    name: str, params: Mapping[str, int], addresses: Mapping[str, str], deployer: str
) -> tuple[Any, ...]:
    """The constructor arguments of contract ``name`` (the addresses of those deployed before it).

    ``addresses["FeeToken"]``, when present, replaces the TSR token as the staking, emission and fee
    token (tests with odd tokens; the registry refuses a mix of tokens).
    """
    p = params
    token = addresses.get("FeeToken") or addresses.get("TesseraToken", "")
    if name == "TesseraToken":
        return (deployer, p["genesis_supply"])
    if name == "Staking":
        return (token, p["min_stake"], p["unbonding_period"], p["jail_period"], p["slash_reward_bps"])
    if name == "RewardEmitter":
        return (token, p["epoch_length"], p["initial_emission"], p["halving_epochs"])
    if name == "JobRegistry":
        return (
            token,
            addresses["Staking"],
            addresses["RewardEmitter"],
            p["protocol_fee_bps"],
            p["wrong_result_slash_bps"],
            p["liveness_slash_bps"],
            p["min_fee"],
            p["min_collateral"],
        )
    raise KeyError(f"unknown contract {name!r}; expected one of {DEPLOY_ORDER}")


def expected_wiring(addresses: Mapping[str, str]) -> dict[str, str]:
    """What each wiring getter must read back after a deployment (see `read_back` in scripts/deploy.py)."""
    token, staking, emitter, registry = (addresses[n] for n in DEPLOY_ORDER)
    return {
        "token.emitter": emitter, "token.owner": ZERO_ADDRESS,
        "staking.TOKEN": token, "staking.job_registry": registry,
        "emitter.TOKEN": token, "emitter.job_registry": registry,
        "registry.FEE_TOKEN": token, "registry.STAKING": staking, "registry.EMITTER": emitter,
    }  # fmt: skip


class DeployBackend(Protocol[C]):
    """How one toolchain deploys a contract and sends a call; ``C`` is its contract handle."""

    def deploy(self, name: str, args: tuple[Any, ...]) -> C:
        """Deploy contract ``name`` with ``args``; wait until it is mined."""
        ...

    def address(self, contract: C) -> str:
        """The address of a deployed contract handle."""
        ...

    def call(self, contract: C, function: str, args: tuple[Any, ...]) -> Any:
        """Send a state-changing call and wait until it is mined; return its receipt (if any)."""
        ...


@dataclass
class Deployed(Generic[C]):
    """The four contract handles by name, and the receipts of the wiring calls in `WIRING` order."""

    contracts: dict[str, C]
    addresses: dict[str, str]
    wiring_receipts: list[Any] = field(default_factory=list)


def deploy_and_wire(
    backend: DeployBackend[C],
    params: Mapping[str, int],
    deployer: str,
    *,
    fee_token: str | None = None,
    on_deployed: Callable[[str, C], None] | None = None,
) -> Deployed[C]:
    """Deploy the four contracts in `DEPLOY_ORDER` and make the `WIRING` calls.

    ``fee_token`` replaces TSR as the staking, emission and fee token (tests with odd tokens only);
    ``on_deployed`` sees each contract as soon as it exists (progress output).
    """
    contracts: dict[str, C] = {}
    addresses: dict[str, str] = {"FeeToken": fee_token} if fee_token else {}
    for name in DEPLOY_ORDER:
        contract = backend.deploy(name, constructor_args(name, params, addresses, deployer))
        contracts[name] = contract
        addresses[name] = str(backend.address(contract))
        if on_deployed is not None:
            on_deployed(name, contract)
    receipts = [backend.call(contracts[w.contract], w.function, (addresses[w.target],)) for w in WIRING]
    addresses.pop("FeeToken", None)
    return Deployed(contracts=contracts, addresses=addresses, wiring_receipts=receipts)


def build_manifest(
    *,
    chain_id: int,
    network: str,
    deployer: str,
    params: Mapping[str, int],
    records: Mapping[str, ContractRecord],
    compiler: str = "vyper 0.4.3",
    deployed_at: datetime | None = None,
) -> Manifest:
    """The deployment manifest for ``records`` (one per contract in `CONTRACT_NAMES`)."""
    return Manifest(
        chain_id=chain_id,
        network=network,
        deployer=deployer,
        deployment_block=min(records[n].block for n in CONTRACT_NAMES),
        deployed_at=deployed_at or datetime.now(UTC).replace(microsecond=0),
        compiler=compiler,
        parameters=dict(params),
        contracts={n: records[n] for n in CONTRACT_NAMES},
    )


# ---------------------------------------------------------------------------------------------- web3
@dataclass(frozen=True)
class Artifact:
    """A compiled contract: ABI and creation bytecode (hex)."""

    abi: list[dict[str, Any]]
    bytecode: str


@dataclass(frozen=True)
class Web3Contract:
    """What `Web3Backend` deploys: the web3 contract and the record the manifest needs."""

    contract: Any
    record: ContractRecord


class Web3Backend:
    """`DeployBackend` over web3 and a local signing account (development chains, tests, benchmarks)."""

    def __init__(
        self,
        w3: Any,
        account: Any,
        artifacts: Mapping[str, Artifact],
        *,
        deploy_gas: int = 8_000_000,
        call_gas: int = 1_000_000,
        max_fee_per_gas: int = 10 * 10**9,
        priority_fee_per_gas: int = 10**9,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.artifacts = artifacts
        self.deploy_gas = deploy_gas
        self.call_gas = call_gas
        self.fees = {"maxFeePerGas": max_fee_per_gas, "maxPriorityFeePerGas": priority_fee_per_gas}

    def _send(self, tx: dict[str, Any]) -> Any:
        tx = {
            "chainId": self.w3.eth.chain_id,
            "nonce": self.w3.eth.get_transaction_count(self.account.address, "pending"),
            "value": 0,
            **self.fees,
            **tx,
        }
        signed = self.account.sign_transaction(tx)
        receipt = self.w3.eth.wait_for_transaction_receipt(
            self.w3.eth.send_raw_transaction(signed.raw_transaction)
        )
        if receipt["status"] != 1:
            raise RuntimeError(f"transaction {receipt['transactionHash'].hex()} reverted")
        return receipt

    def deploy(self, name: str, args: tuple[Any, ...]) -> Web3Contract:
        a = self.artifacts[name]
        data = (
            self.w3.eth.contract(abi=a.abi, bytecode=a.bytecode)
            .constructor(*args)
            .build_transaction(
                {"from": self.account.address, "nonce": 0, "gas": self.deploy_gas, **self.fees}
            )["data"]
        )
        receipt = self._send({"data": data, "gas": self.deploy_gas})
        address = receipt["contractAddress"]
        record = ContractRecord(
            address=address,
            abi=a.abi,
            block=int(receipt["blockNumber"]),
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        )
        return Web3Contract(self.w3.eth.contract(address=address, abi=a.abi), record)

    def address(self, contract: Web3Contract) -> str:
        return contract.record.address

    def call(self, contract: Web3Contract, function: str, args: tuple[Any, ...]) -> Any:
        data = contract.contract.encode_abi(function, args=list(args))
        return self._send({"to": contract.record.address, "data": data, "gas": self.call_gas})


def deploy_with_web3(
    w3: Any,
    account: Any,
    artifacts: Mapping[str, Artifact],
    params: Mapping[str, int],
    *,
    network: str = "ethereum:local",
) -> Manifest:
    """Deploy and wire with `Web3Backend`; return the manifest (not written: see `write_manifest`)."""
    deployed = deploy_and_wire(Web3Backend(w3, account, artifacts), params, account.address)
    return build_manifest(
        chain_id=int(w3.eth.chain_id),
        network=network,
        deployer=account.address,
        params=params,
        records={n: c.record for n, c in deployed.contracts.items()},
    )
