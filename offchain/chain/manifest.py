"""The deployment manifest, `deployments/<chain-id>.json`: where the contracts live and how they were set up.

Written once per deployment by `scripts/deploy.py` (atomically: readers never see half a file) and read by
the worker, the demo and dApp frontends. Its shape is an interface; change it only with a new
``schema_version``::

    {"schema_version": 1, "chain_id": 1337, "network": "ethereum:local", "deployer": "0x..",
     "deployment_block": 3, "deployed_at": "2026-01-01T00:00:00+00:00", "compiler": "vyper 0.4.3",
     "parameters": {"min_stake": 100000000000000000000, ...},
     "contracts": {"TesseraToken": {"address": "0x..", "abi": [...], "block": 1, "tx_hash": "0x.."}, ...}}

Addresses are stored checksummed; a hand-edited lowercase address is accepted and checksummed on load.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from eth_utils import is_checksum_address, is_hex_address, to_checksum_address
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
)

from offchain.errors import ConfigError, NoContractCode, WrongChainId

SCHEMA_VERSION = 1
CONTRACT_NAMES = ("TesseraToken", "Staking", "JobRegistry", "RewardEmitter")
ContractName = Literal["TesseraToken", "Staking", "JobRegistry", "RewardEmitter"]


def _checksummed(value: str) -> str:
    if not is_hex_address(value):
        raise ValueError("not a 20-byte hex address (0x and 40 hex digits)")
    digits = value[2:]
    if digits != digits.lower() and digits != digits.upper() and not is_checksum_address(value):
        raise ValueError("mixed-case address with a wrong EIP-55 checksum (a typo?)")
    return to_checksum_address(value)


Address = Annotated[str, AfterValidator(_checksummed)]
TxHash = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$")]


class ContractRecord(BaseModel):
    """One deployed contract: its address, ABI, and the transaction and block that created it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: Address
    abi: list[dict[str, Any]] = Field(min_length=1)
    block: int = Field(ge=0)
    tx_hash: TxHash


class Manifest(BaseModel):
    """A deployment of the four Tessera contracts on one chain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    chain_id: int = Field(gt=0)
    network: str = Field(min_length=1, description="ape network choice, e.g. 'ethereum:local'")
    deployer: Address
    deployment_block: int = Field(ge=0, description="first block holding a Tessera contract")
    deployed_at: datetime
    compiler: str = Field(min_length=1)
    parameters: dict[str, int]
    contracts: dict[ContractName, ContractRecord]

    @field_validator("deployed_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a timezone (ISO-8601 with an offset, e.g. 2026-01-01T00:00:00+00:00)")
        return value

    @field_validator("contracts")
    @classmethod
    def _all_four(cls, value: dict[str, ContractRecord]) -> dict[str, ContractRecord]:
        missing = [name for name in CONTRACT_NAMES if name not in value]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        return value

    @field_serializer("deployed_at")
    def _iso(self, value: datetime) -> str:
        return value.isoformat(timespec="seconds")

    def address(self, name: ContractName) -> str:
        """The checksummed address of contract `name`."""
        return self.contracts[name].address

    def abi(self, name: ContractName) -> list[dict[str, Any]]:
        """The ABI of contract `name`."""
        return self.contracts[name].abi

    def check_chain_id(self, chain_id: int, *, rpc_url: str = "the node", path: Path | None = None) -> None:
        """Raise WrongChainId unless `chain_id` (what the node reports) is the manifest's."""
        if chain_id != self.chain_id:
            where = f" ({path})" if path else ""
            raise WrongChainId(
                f"{rpc_url} is chain {chain_id}, but the deployment manifest{where} is for chain "
                f"{self.chain_id} ({self.network})"
            )

    def check_code(self, code_at: Callable[[str], bytes], *, path: Path | None = None) -> None:
        """Raise NoContractCode naming every contract whose address holds no code (e.g. a reset chain).

        `code_at` returns the code at an address, e.g. ``web3.eth.get_code``.
        """
        empty = [
            f"{name} at {rec.address}"
            for name, rec in self.contracts.items()
            if not bytes(code_at(rec.address))
        ]
        if empty:
            where = f" in {path}" if path else ""
            raise NoContractCode(f"no contract code on chain {self.chain_id} for {', '.join(empty)}{where}")

    def live_contracts(self, code_at: Callable[[str], bytes]) -> list[str]:
        """Names of the contracts whose addresses still hold code."""
        return [name for name, rec in self.contracts.items() if bytes(code_at(rec.address))]


def manifest_path(deployments_dir: Path | str, chain_id: int) -> Path:
    """`<deployments_dir>/<chain_id>.json`."""
    return Path(deployments_dir) / f"{chain_id}.json"


def load_manifest(path: Path | str) -> Manifest:
    """Read and validate a manifest; ConfigError names the file, the bad field and the fix."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"no deployment manifest at {path}",
            hint="deploy first (`make chain && make deploy`, or `ape run deploy --network <choice>`), "
            "or set TESSERA_DEPLOYMENTS_DIR / TESSERA_DEPLOYMENT to where it is",
        ) from None
    except OSError as err:
        raise ConfigError(
            f"cannot read deployment manifest {path}: {err.strerror}",
            hint="check the path and its permissions",
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"{path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})",
            hint="fix the file or redeploy with `ape run deploy --force`",
        ) from None
    try:
        return Manifest.model_validate(data)
    except ValidationError as err:
        raise ConfigError(
            f"{path} is not a valid deployment manifest: {_describe(err)}",
            hint="fix the named field or redeploy with `ape run deploy --force`",
        ) from None


def write_manifest(manifest: Manifest, path: Path | str) -> Path:
    """Write `manifest` to `path` atomically (temporary file, fsync, rename); create the folder if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path


def _describe(err: ValidationError) -> str:
    """`field.path: message` for each error, at most three."""
    parts = []
    for e in err.errors()[:3]:
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        parts.append(f"{loc}: {e['msg']}")
    more = err.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
