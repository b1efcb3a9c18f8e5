"""Every setting of the worker and CLI, read once from the environment (prefix TESSERA_) or `.env`.

One `Settings` object is built at the edge (CLI entry point, `load_settings`) and passed to what needs it;
nothing reads the environment anywhere else. `.env.example` documents every field (a test keeps the two
in step).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from offchain.errors import ConfigError


class Settings(BaseSettings):
    """Worker and CLI settings. Field descriptions are the documentation shown in `.env.example`."""

    model_config = SettingsConfigDict(env_prefix="TESSERA_", env_file=".env", extra="ignore")

    # --- chain --------------------------------------------------------------------------------------
    rpc_url: str = Field("http://127.0.0.1:8545", description="JSON-RPC endpoint of the chain.")
    rpc_fallback_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra JSON-RPC endpoints tried in order when rpc_url fails, comma-separated "
        '(a JSON list also works: ["https://a", "https://b"]).',
    )
    rpc_timeout_s: float = Field(10.0, gt=0, description="Timeout of one JSON-RPC request, seconds.")
    deployments_dir: Path = Field(
        Path("deployments"), description="Folder holding deployment manifests named <chain-id>.json."
    )
    deployment: Path | None = Field(
        None, description="Manifest file to use; default: <deployments_dir>/<chain id of rpc_url>.json."
    )
    confirmations: int = Field(
        1, ge=0, le=64, description="Blocks a job event must be buried under before the worker acts on it."
    )
    poll_interval_s: float = Field(1.0, gt=0, description="Seconds between polls for new blocks and logs.")
    log_range_blocks: int = Field(
        2_000, ge=1, le=100_000, description="Largest eth_getLogs block range (halved when the RPC refuses)."
    )
    start_block: int | None = Field(
        None, ge=0, description="First block to scan on a fresh ledger; default: the deployment block."
    )

    # --- keys ---------------------------------------------------------------------------------------
    keystore: Path | None = Field(None, description="Encrypted keystore (JSON, eth-account) of the worker.")
    keystore_password_file: Path | None = Field(
        None, description="File holding the keystore password (else asked on the terminal)."
    )
    private_key: SecretStr | None = Field(
        None, description="Plaintext key, for local development chains only (prefer a keystore)."
    )

    # --- transactions -------------------------------------------------------------------------------
    max_fee_gwei: float = Field(
        200.0, gt=0, description="Cap on maxFeePerGas; the worker abstains rather than pay more."
    )
    priority_fee_gwei: float = Field(1.0, ge=0, description="maxPriorityFeePerGas for new transactions.")
    fee_bump_percent: int = Field(
        20, ge=10, le=200, description="Fee increase when replacing a stuck transaction (nodes need >= 10)."
    )
    stuck_after_s: float = Field(
        30.0,
        gt=0,
        description="Seconds without a receipt before a transaction is replaced with a higher fee.",
    )
    min_fee_to_gas_ratio: float = Field(
        1.0, ge=0, description="Claim a job only if its fee share is worth this many times the gas it costs."
    )
    tsr_per_eth: float = Field(
        1.0,
        gt=0,
        description="What one ETH (the gas token) is worth in TSR to this worker: the fee check converts "
        "a job's gas cost into TSR with it.",
    )
    claim_margin_s: float = Field(
        30.0,
        ge=0,
        description="Claim a job only if its max runtime plus this many seconds (upload, commit "
        "inclusion, a slow start) fit before its commit deadline.",
    )
    commit_reserve_s: float = Field(
        10.0,
        ge=0,
        description="Once a job is claimed, compute it while more than this many seconds remain before "
        "its commit deadline (time to upload and include the commit); giving up loses the collateral's "
        "liveness share, so this is the bare minimum, not a comfort margin.",
    )
    finalize_fallback_s: float = Field(
        30.0,
        ge=0,
        description="One worker per job sends finalize (the first revealer in a fixed order); each other "
        "revealer waits this many seconds more than the one before it, in chain time from when finalize "
        "became possible, and sends it only if the job is still not settled (the chosen one is down).",
    )

    # --- IPFS ---------------------------------------------------------------------------------------
    ipfs: str = Field(
        "local",
        description="'local' (embedded block store), a Kubo RPC URL (http://host:5001) "
        "or 'gateway:<URL>' for a trustless HTTP gateway (read only).",
    )
    ipfs_dir: Path = Field(Path(".tessera/ipfs"), description="Folder of the embedded IPFS block store.")
    ipfs_timeout_s: float = Field(60.0, gt=0, description="Time limit of one IPFS fetch, seconds.")
    max_input_bytes: int = Field(
        256 * 1024 * 1024, gt=0, description="Largest spec or input a worker will fetch, bytes."
    )

    # --- compute ------------------------------------------------------------------------------------
    device: Literal["auto", "cpu", "cuda", "mps"] = Field(
        "auto", description="Where workloads run: auto picks CUDA, then MPS, then CPU."
    )
    workload_memory_mb: int = Field(
        8_192, ge=256, description="Memory limit of a workload's child process, MiB."
    )
    devices: str = Field(
        "",
        description="Device slots, one job each at a time: comma-separated cpu, cuda, cuda:N, mps "
        "(repeat cpu for several CPU jobs at once); empty: every visible CUDA device, else one cpu slot.",
    )
    executor: Literal["fork", "spawn"] = Field(
        "fork",
        description="fork: a warm zygote per slot (torch imported once) forks a fresh child per job; "
        "spawn: a fresh interpreter per job (seconds of start-up each).",
    )
    executor_recycle_after: int = Field(
        256, ge=1, description="Jobs a zygote forks before it is replaced by a fresh one."
    )
    model_cache_memory_mb: int = Field(
        2_048, ge=0, description="Loaded models each zygote keeps for the next jobs, MiB (0: none)."
    )
    model_cache_disk_mb: int = Field(
        10_240,
        ge=0,
        description="Job inputs (model archives, weights) kept on disk by CID under data_dir, so a "
        "repeated one is not downloaded again, MiB (0: none).",
    )
    max_in_flight: int = Field(4, ge=1, le=64, description="Jobs a worker handles at once.")
    max_claimed_uncomputed: int = Field(
        2,
        ge=1,
        le=64,
        description="Claim no new job while this many claimed jobs still wait for their compute to finish "
        "(backpressure: on a busy machine a further claim would only miss its deadline).",
    )

    # --- worker -------------------------------------------------------------------------------------
    data_dir: Path = Field(
        Path(".tessera/worker"), description="Worker state: the SQLite ledger and per-job folders."
    )
    metrics_port: int = Field(
        0, ge=0, le=65_535, description="Port of /metrics, /healthz, /readyz on 127.0.0.1 (0: off)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    log_json: bool = Field(False, description="Write logs as JSON lines instead of text.")

    @field_validator("rpc_fallback_urls", mode="before")
    @classmethod
    def _url_list(cls, value: object) -> object:
        """``a,b`` or a JSON list, from the environment; a list as is."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [url.strip() for url in text.split(",") if url.strip()]
        return value

    @model_validator(mode="after")
    def _one_key_source(self) -> Settings:
        if self.keystore is not None and self.private_key is not None:
            raise ValueError("set either TESSERA_KEYSTORE or TESSERA_PRIVATE_KEY, not both")
        return self

    def manifest_path(self, chain_id: int) -> Path:
        """The deployment manifest for `chain_id` (or the explicit `deployment` file)."""
        return self.deployment or self.deployments_dir / f"{chain_id}.json"


def load_settings(overrides: Mapping[str, object] | None = None) -> Settings:
    """`Settings()` from the environment (and `.env`) plus explicit overrides (``None`` values are left
    out); an invalid value becomes a `ConfigError` naming the variable."""
    try:
        return Settings(**{k: v for k, v in (overrides or {}).items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        name = f"TESSERA_{where.upper()}" if where != "settings" else "the TESSERA_ settings"
        raise ConfigError(
            f"invalid setting {name}: {first.get('msg', exc)}",
            hint="fix it in the environment or .env (see .env.example)",
        ) from None


def env_example() -> str:
    """The text of `.env.example`: every setting, its description and its default."""
    lines = [
        "# Tessera settings. Copy to .env (or export the variables) and change what you need.",
        "# Generated from offchain/settings.py (`python -m offchain.settings > .env.example`);",
        "# a test fails when the two drift apart.",
        "",
    ]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if default is None:
            value = ""
        elif isinstance(default, list):
            value = ",".join(default) if default else ""
            value = f"[{value}]" if value else "[]"
        else:
            value = str(default)
        lines.append(f"# {field.description}")
        prefix = "# " if default is None else ""
        lines.append(f"{prefix}TESSERA_{name.upper()}={value}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(env_example(), end="")
