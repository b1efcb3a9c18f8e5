"""The `tessera` command line: one entry point for operators, requesters and the demo.

Every command is a thin shell over a library function (`offchain.devchain`, `offchain.ipfs`,
`offchain.requester`, `offchain.worker`, `offchain.demo`): it parses arguments, builds nothing but the one
`Settings` (made in the top-level callback), shows progress on long work, and prints the result. Heavy
modules (web3, torch) are imported inside the commands that need them, so `--help` stays fast.

A `TesseraError` reaching the top is printed as its one-line message (``E_CODE: what. Next: what to do``)
on stderr and the process exits with status 2; nothing a user can cause prints a traceback. Machine-readable
output (a CID, a job id) goes to stdout alone; everything else goes to stderr.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from typer.core import TyperGroup

from offchain.errors import ConfigError, TesseraError

if TYPE_CHECKING:
    from offchain.settings import Settings

EXIT_USER_ERROR = 2


# ------------------------------------------------------------------------------------------ plumbing
class _Group(TyperGroup):
    """The root group: turns a `TesseraError` from any subcommand into its one-liner and exit status 2."""

    def invoke(self, ctx: typer.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except TesseraError as err:
            _fail(err)


def _fail(err: TesseraError) -> NoReturn:
    typer.echo(str(err), err=True)
    raise typer.Exit(EXIT_USER_ERROR)


@dataclass
class State:
    """What the top-level callback hands every command: the one `Settings` and the consoles."""

    overrides: dict[str, object] = field(default_factory=dict)
    out: Console = field(default_factory=lambda: Console(highlight=False, soft_wrap=True))
    err: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))
    _settings: Settings | None = None
    _settings_error: TesseraError | None = None

    @property
    def settings(self) -> Settings:
        """The settings built by the callback; an invalid environment is reported only when one is used."""
        if self._settings_error is not None:
            raise self._settings_error
        assert self._settings is not None
        return self._settings


def build_settings(overrides: dict[str, object]) -> Settings:
    """`Settings()` from the environment plus command-line overrides; invalid input becomes `ConfigError`."""
    from pydantic import ValidationError

    from offchain.settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        name = f"TESSERA_{where.upper()}" if where != "settings" else "the TESSERA_ settings"
        raise ConfigError(
            f"invalid setting {name}: {first.get('msg', exc)}",
            hint="fix it in the environment or .env (see .env.example)",
        ) from None


def _state(ctx: typer.Context) -> State:
    return ctx.ensure_object(State)


app = typer.Typer(
    cls=_Group,
    name="tessera",
    help="Tessera: a verifiable GPU compute market. Run a worker, post jobs, read results.",
    epilog="Examples:  tessera demo  ·  tessera chain up  ·  tessera job submit spec.json --fee 1",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    ctx: typer.Context,
    rpc_url: Annotated[
        str | None, typer.Option("--rpc-url", help="JSON-RPC endpoint (TESSERA_RPC_URL).", show_default=False)
    ] = None,
    deployment: Annotated[
        Path | None,
        typer.Option(
            "--deployment", help="Deployment manifest file (TESSERA_DEPLOYMENT).", show_default=False
        ),
    ] = None,
    deployments_dir: Annotated[
        Path | None,
        typer.Option(
            "--deployments-dir",
            help="Folder of <chain-id>.json manifests (TESSERA_DEPLOYMENTS_DIR).",
            show_default=False,
        ),
    ] = None,
    ipfs: Annotated[
        str | None,
        typer.Option(
            "--ipfs", help="'local', a Kubo RPC URL or gateway:<URL> (TESSERA_IPFS).", show_default=False
        ),
    ] = None,
    ipfs_dir: Annotated[
        Path | None,
        typer.Option("--ipfs-dir", help="Embedded IPFS store folder (TESSERA_IPFS_DIR).", show_default=False),
    ] = None,
) -> None:
    """Tessera: a verifiable GPU compute market. Settings come from TESSERA_* variables or .env."""
    overrides = {
        "rpc_url": rpc_url,
        "deployment": deployment,
        "deployments_dir": deployments_dir,
        "ipfs": ipfs,
        "ipfs_dir": ipfs_dir,
    }
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    state = State(overrides=overrides)
    try:
        state._settings = build_settings(overrides)
    except TesseraError as err:
        state._settings_error = err
    ctx.obj = state


# ------------------------------------------------------------------------------------------------ chain
chain_app = typer.Typer(
    help="Start or stop the local development chain (anvil, chain id 1337).", no_args_is_help=True
)
app.add_typer(chain_app, name="chain")


def _default_state_dir() -> Path:
    from offchain.devchain import REPO_ROOT

    return REPO_ROOT / ".tessera"


@chain_app.command("up")
def chain_up(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8545,
    state_dir: Annotated[
        Path | None,
        typer.Option(help="Where anvil keeps its state and pid file \\[default: <repo>/.tessera]."),
    ] = None,
) -> None:
    """Start anvil in the background; its state survives restarts.

    Example: tessera chain up --port 8545
    """
    from offchain import devchain

    devchain.up(port, state_dir or _default_state_dir())


@chain_app.command("down")
def chain_down(
    state_dir: Annotated[
        Path | None, typer.Option(help="The folder given to `chain up` \\[default: <repo>/.tessera].")
    ] = None,
) -> None:
    """Stop the anvil started by `tessera chain up` (its state is kept).

    Example: tessera chain down
    """
    from offchain import devchain

    devchain.down(state_dir or _default_state_dir())


# ----------------------------------------------------------------------------------------------- deploy
def run_deploy_script(
    *,
    network: str,
    deployments_dir: Path,
    force: bool = False,
    params: Path | None = None,
    account: str | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run `ape run deploy` (scripts/deploy.py) in the repository; return its output.

    A failure is raised as the script's own `E_...` one-liner when it printed one, else as `ConfigError`
    with the end of its output.
    """
    import os
    import re
    import subprocess

    from offchain.devchain import REPO_ROOT

    ape = Path(sys.executable).with_name("ape")
    args = [
        str(ape),
        "run",
        "deploy",
        "--network",
        network,
        "--deployments-dir",
        str(deployments_dir.resolve()),
    ]
    args += ["--force"] if force else []
    args += ["--params", str(params.resolve())] if params is not None else []
    args += ["--account", account] if account else []
    proc = subprocess.run(
        args,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        coded = re.search(r"(E_[A-Z_]+): (.+)", output)
        if coded:
            raise _Reported(coded.group(1), coded.group(2).strip())
        tail = " | ".join(line.strip() for line in output.strip().splitlines()[-3:])
        raise ConfigError(
            f"`ape run deploy` failed (exit {proc.returncode}): {tail}", hint="see the output above"
        )
    return proc.stdout


class _Reported(TesseraError):
    """An error another program already formatted as ``E_CODE: message``; re-raised with its own code."""

    def __init__(self, code: str, text: str) -> None:
        self.code = code
        message, _, hint = text.partition(". Next: ")
        super().__init__(message, hint=hint)


@app.command("deploy")
def deploy(
    ctx: typer.Context,
    network: Annotated[
        str | None,
        typer.Option(
            help="ape network choice \\[default: ethereum:local:<TESSERA_RPC_URL>], "
            "e.g. ethereum:sepolia:node.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a live deployment recorded for this chain.")
    ] = False,
    params: Annotated[
        Path | None,
        typer.Option(
            help="Parameters JSON \\[default: scripts/params/local.json locally, default.json elsewhere].",
            exists=True,
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    account: Annotated[
        str | None, typer.Option(help="ape account alias (required off local chains).", show_default=False)
    ] = None,
) -> None:
    """Deploy and wire the four contracts (`ape run deploy`); writes <deployments-dir>/<chain-id>.json.

    Example: tessera chain up && tessera deploy
    """
    state = _state(ctx)
    settings = state.settings
    network = network or f"ethereum:local:{settings.rpc_url}"
    with state.err.status(f"deploying to {network} ..."):
        output = run_deploy_script(
            network=network,
            deployments_dir=settings.deployments_dir,
            force=force,
            params=params,
            account=account,
        )
    lines = [ln for ln in output.splitlines() if not ln.startswith(("INFO:", "SUCCESS:"))]
    typer.echo("\n".join(lines))


# ------------------------------------------------------------------------------------------------- ipfs
ipfs_app = typer.Typer(
    help="Add and read content with the configured IPFS backend (TESSERA_IPFS).", no_args_is_help=True
)
app.add_typer(ipfs_app, name="ipfs")


def open_ipfs(settings: Settings):
    """The IPFS backend the settings name (embedded store, Kubo RPC, or gateway)."""
    from offchain.ipfs import open_backend

    return open_backend(settings.ipfs, store_dir=settings.ipfs_dir, timeout_s=settings.ipfs_timeout_s)


@ipfs_app.command("add")
def ipfs_add(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="File to add.", exists=True, dir_okay=False, readable=True)],
    only_hash: Annotated[
        bool, typer.Option("--only-hash", "-n", help="Only compute the CID; store nothing.")
    ] = False,
    cid_version: Annotated[int, typer.Option("--cid-version", min=0, max=1, help="CID version, 0 or 1.")] = 0,
    raw_leaves: Annotated[
        bool | None,
        typer.Option(
            "--raw-leaves/--no-raw-leaves",
            help="Raw leaf blocks \\[default: on with --cid-version 1, as Kubo].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Add FILE and print its CID (the same CID `ipfs add -Q` gives).

    Example: tessera ipfs add --cid-version 1 weights.safetensors
    """
    if only_hash:
        from offchain.ipfs import compute_cid

        cid = compute_cid(file, cid_version=cid_version, raw_leaves=raw_leaves)
    else:
        settings = _state(ctx).settings
        with open_ipfs(settings) as backend:
            cid = backend.add_file(file, cid_version=cid_version, raw_leaves=raw_leaves)
    typer.echo(str(cid))


@ipfs_app.command("cat")
def ipfs_cat(
    ctx: typer.Context,
    cid: Annotated[str, typer.Argument(help="CID of a file (Qm... or b...).")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Print (or save) the file CID names; every block is verified against its CID.

    Example: tessera ipfs cat QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o --out hello.txt
    """
    settings = _state(ctx).settings
    limits = {"max_bytes": settings.max_input_bytes, "timeout_s": settings.ipfs_timeout_s}
    with open_ipfs(settings) as backend:
        if out is not None:
            size = backend.cat_to_file(cid, out, **limits)
            _state(ctx).err.print(f"wrote {size} bytes to {out}")
        else:
            for piece in backend.iter_content(cid, **limits):
                sys.stdout.buffer.write(piece)
            sys.stdout.buffer.flush()


@ipfs_app.command("serve")
def ipfs_serve(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 5080,
    allow_origin: Annotated[
        list[str] | None,
        typer.Option("--allow-origin", help="A browser origin allowed to call the RPC API (repeatable)."),
    ] = None,
) -> None:
    """Serve the embedded store as a trustless gateway and a Kubo RPC subset on 127.0.0.1.

    Workers share it with TESSERA_IPFS=http://127.0.0.1:PORT. Example: tessera ipfs serve --port 5080
    """
    from offchain.ipfs.serve import run_server

    run_server(_state(ctx).settings.ipfs_dir, port=port, allow_origins=allow_origin or ())


@app.command("dashboard")
def dashboard(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8080,
    gateway: Annotated[
        str | None, typer.Option(help="IPFS gateway URL for the page \\[default: serve the embedded store].")
    ] = None,
    ipfs_api: Annotated[
        str | None, typer.Option("--ipfs-api", help="Kubo RPC URL the page adds specs through.")
    ] = None,
) -> None:
    """Serve the dashboard and the deployment manifest on 127.0.0.1 (build it first: make frontend).

    Example: tessera dashboard --port 8080
    """
    from offchain.dashboard import run_dashboard

    run_dashboard(_state(ctx).settings, port=port, gateway_url=gateway, ipfs_api_url=ipfs_api)


# ---------------------------------------------------------------------------------------------- helpers
def _client(ctx: typer.Context, *, signer: bool):
    """Connect to the deployment (with the configured key when ``signer``), behind a spinner."""
    from offchain.requester import Client

    state = _state(ctx)
    settings = state.settings
    with state.err.status(f"connecting to {settings.rpc_url} ..."):
        return Client.connect(settings, signer=signer)


def _amount(value: str | None) -> int | None:
    from offchain.requester import parse_amount

    return None if value is None else parse_amount(value)


def _when(timestamp: int, now: int) -> str:
    from datetime import UTC, datetime

    at = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    delta = timestamp - now
    rel = f"in {delta} s" if delta > 0 else f"{-delta} s ago"
    return f"{at} ({rel})"


AMOUNT_HELP = "TSR as a decimal (1.5) or wei with a suffix (15wei)."


# --------------------------------------------------------------------------------------------- operator
operator_app = typer.Typer(
    help="Register as an operator, stake, unstake and withdraw TSR.", no_args_is_help=True
)
app.add_typer(operator_app, name="operator")


@operator_app.command("register")
def operator_register(
    ctx: typer.Context,
    metadata_cid: Annotated[
        str | None,
        typer.Argument(
            help="CID of a JSON file describing the operator \\[default: made from --name, added to IPFS].",
            show_default=False,
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Operator name for the generated metadata.")] = None,
) -> None:
    """Register the configured key as an operator, with a metadata CID (name, contact, hardware).

    Example: tessera operator register --name "rig-7"
    """
    import json

    state = _state(ctx)
    client = _client(ctx, signer=True)
    if metadata_cid is None:
        metadata = {"name": name or f"operator {client.address[:10]}", "address": client.address}
        with open_ipfs(state.settings) as backend:
            metadata_cid = str(backend.add_bytes(json.dumps(metadata, sort_keys=True).encode() + b"\n"))
    with state.err.status("registering ..."):
        client.register(metadata_cid)
    typer.echo(f"registered {client.address} (metadata {metadata_cid}); next: tessera operator stake 100")


@operator_app.command("stake")
def operator_stake(
    ctx: typer.Context, amount: Annotated[str, typer.Argument(help=AMOUNT_HELP, show_default=False)]
) -> None:
    """Bond AMOUNT of TSR (approving the staking contract first if needed).

    Example: tessera operator stake 100
    """
    from offchain.requester import format_tsr

    client = _client(ctx, signer=True)
    wei = _amount(amount) or 0
    with _state(ctx).err.status(f"staking {format_tsr(wei)} ..."):
        client.stake(wei)
    status = client.operator_status()
    typer.echo(
        f"bonded {format_tsr(status.bonded)} (minimum {format_tsr(status.min_stake)}) for {client.address}"
    )


@operator_app.command("unstake")
def operator_unstake(
    ctx: typer.Context, amount: Annotated[str, typer.Argument(help=AMOUNT_HELP, show_default=False)]
) -> None:
    """Start unbonding AMOUNT; it stays slashable until withdrawn after the unbonding period.

    Example: tessera operator unstake 50
    """
    from offchain.requester import format_tsr

    client = _client(ctx, signer=True)
    wei = _amount(amount) or 0
    with _state(ctx).err.status(f"requesting to unstake {format_tsr(wei)} ..."):
        lock_id, at = client.request_unstake(wei)
    now = client.operator_status().now
    typer.echo(f"lock {lock_id}: {format_tsr(wei)} withdrawable {_when(at, now)}")
    typer.echo(f"next: tessera operator withdraw {lock_id}  (after that time)")


@operator_app.command("withdraw")
def operator_withdraw(
    ctx: typer.Context,
    lock_id: Annotated[int, typer.Argument(help="Lock id printed by `unstake`.", min=0, max=7)],
) -> None:
    """Withdraw an unbonding lock whose period has passed.

    Example: tessera operator withdraw 0
    """
    from offchain.requester import format_tsr

    client = _client(ctx, signer=True)
    with _state(ctx).err.status(f"withdrawing lock {lock_id} ..."):
        amount = client.withdraw(lock_id)
    typer.echo(f"withdrew {format_tsr(amount)} to {client.address}")


@operator_app.command("status")
def operator_status(
    ctx: typer.Context,
    address: Annotated[
        str | None,
        typer.Argument(help="Operator address \\[default: the configured key's].", show_default=False),
    ] = None,
) -> None:
    """Show an operator's balances, stake, locks and eligibility.

    Example: tessera operator status 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
    """
    from rich.table import Table

    from offchain.requester import format_tsr

    client = _client(ctx, signer=address is None)
    st = client.operator_status(address)
    table = Table(title=f"operator {st.address}", show_header=False, title_justify="left")
    table.add_row(
        "registered",
        "yes" + (f" (metadata {st.metadata_cid})" if st.metadata_cid else "") if st.registered else "no",
    )
    table.add_row("native balance", f"{st.native_balance / 10**18:.6f}")
    table.add_row("TSR balance", format_tsr(st.tsr_balance))
    table.add_row("bonded", f"{format_tsr(st.bonded)} (minimum {format_tsr(st.min_stake)})")
    table.add_row("locked by jobs", format_tsr(st.locked))
    table.add_row("free stake", format_tsr(st.free_stake))
    jailed = st.jailed_until > st.now
    table.add_row("eligible to claim jobs", "yes" if st.eligible else "no" + (" (jailed)" if jailed else ""))
    if jailed:
        table.add_row("jailed until", _when(st.jailed_until, st.now))
    for lock_id, amount, at in st.locks:
        ready = "withdrawable" if at <= st.now else f"withdrawable {_when(at, st.now)}"
        table.add_row(f"lock {lock_id}", f"{format_tsr(amount)}, {ready}")
    _state(ctx).out.print(table)


# -------------------------------------------------------------------------------------------------- job
job_app = typer.Typer(
    help="Post compute jobs, follow them and fetch their verified results.", no_args_is_help=True
)
app.add_typer(job_app, name="job")


def _spec_module():
    try:
        from offchain.compute import spec
    except ImportError as err:  # pragma: no cover - only while the compute package is missing
        raise ConfigError(
            f"the job spec model is not available ({err})", hint="reinstall the project"
        ) from None
    return spec


@job_app.command("schema")
def job_schema() -> None:
    """Print the JSON Schema of job specs (for frontends and editors).

    Example: tessera job schema > spec.schema.json
    """
    import json

    typer.echo(json.dumps(_spec_module().json_schema(), indent=2))


@job_app.command("submit")
def job_submit(
    ctx: typer.Context,
    spec_file: Annotated[
        Path, typer.Argument(help="Job spec (JSON).", exists=True, dir_okay=False, readable=True)
    ],
    fee: Annotated[str, typer.Option(help="Fee escrowed for the workers. " + AMOUNT_HELP)] = "1",
    replicas: Annotated[int, typer.Option(help="Workers that run the job.", min=1, max=8)] = 1,
    quorum: Annotated[
        int | None,
        typer.Option(
            help="Agreeing results needed \\[default: a strict majority].", min=1, max=8, show_default=False
        ),
    ] = None,
    collateral: Annotated[
        str | None,
        typer.Option(
            help="Stake each worker locks \\[default: the registry's minimum]. " + AMOUNT_HELP,
            show_default=False,
        ),
    ] = None,
    claim_window: Annotated[int, typer.Option(help="Seconds to claim.", min=30, max=86_400)] = 300,
    commit_window: Annotated[
        int, typer.Option(help="Seconds after the claim deadline to commit.", min=30, max=86_400)
    ] = 300,
    reveal_window: Annotated[
        int, typer.Option(help="Seconds after the commit deadline to reveal.", min=30, max=86_400)
    ] = 300,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until the job is settled and show its status.")
    ] = False,
) -> None:
    """Validate SPEC_FILE, add its canonical form to IPFS, approve the fee, post the job; prints the job id.

    Example: tessera job submit examples/matmul.json --fee 2 --replicas 3
    """
    spec_model = _spec_module()
    # A malformed spec stops here: nothing is uploaded or sent. What is uploaded is the canonical form
    # (sorted keys, defaults written out), which every worker's strict parser reads back identically.
    spec_bytes = spec_model.canonical_spec_bytes(spec_model.parse_spec(spec_file.read_bytes()))
    if quorum is not None and not (2 * quorum > replicas and quorum <= replicas):
        raise ConfigError(
            f"--quorum {quorum} is not a strict majority of --replicas {replicas}",
            hint=f"use a quorum between {replicas // 2 + 1} and {replicas}",
        )
    state = _state(ctx)
    client = _client(ctx, signer=True)
    with open_ipfs(state.settings) as backend, state.err.status("adding the spec to IPFS ..."):
        spec_cid = str(backend.add_bytes(spec_bytes))
    with state.err.status(f"posting job (spec {spec_cid}) ..."):
        job_id, _ = client.post_job(
            spec_cid,
            spec_bytes,
            fee=_amount(fee) or 0,
            replicas=replicas,
            quorum=quorum,
            collateral=_amount(collateral),
            windows=(claim_window, commit_window, reveal_window),
        )
    typer.echo(job_id)
    state.err.print(f"job {job_id} posted; next: tessera job status {job_id}")
    if wait:
        _wait(ctx, client, job_id, timeout_s=claim_window + commit_window + reveal_window + 60)
        _print_status(ctx, client.job_status(job_id), client)


def _wait(ctx: typer.Context, client, job_id: int, *, timeout_s: float) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    with _state(ctx).err.status(f"job {job_id}: waiting ...") as status:
        while True:
            view = client.contracts.get_job(job_id)
            status.update(
                f"job {job_id}: {view.phase.name.lower()} ({view.claims} claimed, {view.commits} "
                f"committed, {view.reveals} revealed)"
            )
            if view.phase.terminal:
                return
            if time.monotonic() > deadline:
                raise TesseraError(
                    f"job {job_id} is still {view.phase.name.lower()} after {timeout_s:.0f} s",
                    hint=f"check again later with `tessera job status {job_id}`",
                )
            time.sleep(0.5)


@job_app.command("wait")
def job_wait(
    ctx: typer.Context,
    job_id: Annotated[int, typer.Argument(help="Job id.", min=1)],
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 900,
) -> None:
    """Wait until a job is settled (Completed, Failed, Cancelled or Expired), then show its status.

    Example: tessera job wait 1 --timeout 300
    """
    client = _client(ctx, signer=False)
    _wait(ctx, client, job_id, timeout_s=timeout)
    _print_status(ctx, client.job_status(job_id), client)


def _print_status(ctx: typer.Context, st, client) -> None:
    from rich.table import Table

    from offchain.requester import format_tsr

    v = st.view
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    head = Table(title=f"job {v.job_id}: {st.phase}", show_header=False, title_justify="left")
    head.add_row("requester", v.requester)
    head.add_row("spec", f"{st.spec_cid} (sha256 0x{st.spec_digest.hex()})" if st.spec_cid else "?")
    head.add_row("fee / collateral", f"{format_tsr(v.fee)} / {format_tsr(v.collateral)} per worker")
    head.add_row("replicas / quorum", f"{v.replicas} / {v.quorum}")
    head.add_row("claims / commits / reveals", f"{v.claims} / {v.commits} / {v.reveals}")
    head.add_row("claim deadline", _when(v.claim_deadline, now))
    head.add_row("commit deadline", _when(v.commit_deadline, now))
    head.add_row("reveal deadline", _when(v.reveal_deadline, now))
    if st.result_digest is not None:
        head.add_row("agreed digest", "0x" + st.result_digest.hex())
        head.add_row("result CID", st.result_cid or "?")
        head.add_row(
            "paid to workers",
            format_tsr(st.fee_paid) + f" (protocol fee burned {format_tsr(st.protocol_fee or 0)})",
        )
    out = _state(ctx).out
    out.print(head)
    if st.workers:
        table = Table("worker", "committed", "revealed", "digest", "paid", "slashed")
        for w in st.workers:
            digest = "—" if w.result_digest is None else "0x" + w.result_digest.hex()[:12] + "…"
            if w.result_digest is not None and st.result_digest is not None:
                digest += " ✓" if w.result_digest == st.result_digest else " ✗"
            slashed = f"{format_tsr(w.slashed)} ({', '.join(w.slash_reasons)})" if w.slashed else "—"
            table.add_row(
                w.worker,
                "yes" if w.committed else "no",
                "yes" if w.revealed else "no",
                digest,
                format_tsr(w.paid) if w.paid else "—",
                slashed,
            )
        out.print(table)


@job_app.command("status")
def job_status(ctx: typer.Context, job_id: Annotated[int, typer.Argument(help="Job id.", min=1)]) -> None:
    """Show a job's phase, deadlines, claimants, commits, reveals, payouts and slashes.

    Example: tessera job status 1
    """
    client = _client(ctx, signer=False)
    _print_status(ctx, client.job_status(job_id), client)


@job_app.command("result")
def job_result(
    ctx: typer.Context,
    job_id: Annotated[int, typer.Argument(help="Job id.", min=1)],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write job-<id>.safetensors into.")
    ] = Path("."),
) -> None:
    """Fetch a completed job's agreed result from IPFS, check it against the agreed digest, save it.

    Example: tessera job result 1 --out results/
    """
    state = _state(ctx)
    client = _client(ctx, signer=False)
    with open_ipfs(state.settings) as backend, state.err.status(f"fetching the result of job {job_id} ..."):
        saved = client.save_result(job_id, out, backend)
    typer.echo(str(saved.path))
    state.err.print(f"{saved.size} bytes from {saved.cid}, sha256 0x{saved.digest.hex()} (the agreed digest)")
    for name, (dtype, shape) in saved.tensors.items():
        state.err.print(f"  {name}: {dtype} {shape}")


# ---------------------------------------------------------------------------------------------- rewards
rewards_app = typer.Typer(
    help="See and claim the epoch emission earned by verified work.", no_args_is_help=True
)
app.add_typer(rewards_app, name="rewards")


@rewards_app.command("status")
def rewards_status(
    ctx: typer.Context,
    address: Annotated[
        str | None,
        typer.Argument(help="Operator address \\[default: the configured key's].", show_default=False),
    ] = None,
) -> None:
    """List ended epochs with unclaimed emission for an operator.

    Example: tessera rewards status
    """
    from offchain.requester import format_tsr

    client = _client(ctx, signer=address is None)
    pending = client.claimable_epochs(address)
    if not pending:
        typer.echo("nothing to claim yet (emission is claimable once an epoch you worked in has ended)")
    for epoch, amount in pending:
        typer.echo(f"epoch {epoch}: {format_tsr(amount)}")


@rewards_app.command("claim")
def rewards_claim(ctx: typer.Context) -> None:
    """Claim the emission of every ended epoch in which the configured operator earned points.

    Example: tessera rewards claim
    """
    from offchain.requester import format_tsr

    client = _client(ctx, signer=True)
    with _state(ctx).err.status("claiming emission ..."):
        amount, epochs = client.claim_rewards()
    typer.echo(f"claimed {format_tsr(amount)} for epochs {', '.join(map(str, epochs))} to {client.address}")


# ----------------------------------------------------------------------------------------------- worker
worker_app = typer.Typer(
    help="Run the oracle worker, or check that it is ready to run.", no_args_is_help=True
)
app.add_typer(worker_app, name="worker")


@worker_app.command("run")
def worker_run(ctx: typer.Context) -> None:
    """Run the oracle worker until Ctrl-C (claims, computes, commits, reveals, finalises, claims emission).

    Example: tessera worker run  (key: TESSERA_KEYSTORE + TESSERA_KEYSTORE_PASSWORD_FILE)
    """
    from offchain.worker.__main__ import run_worker

    code = run_worker(_state(ctx).settings)  # logs its own one-line error and returns 2 on failure
    if code:
        raise typer.Exit(code)


@worker_app.command("doctor")
def worker_doctor(ctx: typer.Context) -> None:
    """Check everything a worker needs: chain id, contract code, key, balances, stake, IPFS, device.

    Example: tessera worker doctor
    """
    from rich.table import Table

    state = _state(ctx)
    table = Table("check", "", "detail", title="tessera worker doctor", title_justify="left")
    failures: list[TesseraError] = []
    for name, outcome in _doctor_checks(state.settings):
        if isinstance(outcome, TesseraError):
            failures.append(outcome)
            table.add_row(name, "[red]✗[/]", str(outcome))
        elif outcome is None:
            table.add_row(name, "[dim]–[/]", "[dim]skipped (an earlier check failed)[/]")
        else:
            table.add_row(name, "[green]✓[/]", outcome)
    state.out.print(table)
    if failures:
        _fail(failures[0])
    state.out.print("ready: `tessera worker run` starts the worker")


def _doctor_checks(settings: Settings):
    """Yield (check, detail | TesseraError | None for skipped) in dependency order; never raise."""
    from offchain.requester import format_tsr

    def attempt(fn):
        try:
            return fn()
        except TesseraError as err:
            return err
        except Exception as err:  # noqa: BLE001 - doctor reports, it does not crash
            return TesseraError(f"{type(err).__name__}: {err}")

    from offchain.chain import preflight
    from offchain.chain.bindings import Tessera
    from offchain.chain.manifest import load_manifest
    from offchain.chain.rpc import connect

    w3 = connect(settings)
    chain_id = attempt(lambda: int(w3.eth.chain_id))
    yield "RPC", chain_id if isinstance(chain_id, TesseraError) else f"{settings.rpc_url} is chain {chain_id}"
    ok = not isinstance(chain_id, TesseraError)
    manifest = attempt(lambda: load_manifest(settings.manifest_path(chain_id))) if ok else None
    yield (
        "deployment manifest",
        manifest
        if not ok or isinstance(manifest, TesseraError)
        else (f"{settings.manifest_path(chain_id)} ({manifest.network}, block {manifest.deployment_block})"),
    )
    ok = ok and not isinstance(manifest, TesseraError)
    code = attempt(lambda: preflight.check_chain(w3, manifest, rpc_url=settings.rpc_url)) if ok else None
    yield (
        "contract code",
        code if not ok or isinstance(code, TesseraError) else "all four contracts have code",
    )
    chain_ok = ok and not isinstance(code, TesseraError)

    from offchain.chain.keys import load_account

    account = attempt(lambda: load_account(settings))
    yield (
        "signing key",
        account
        if isinstance(account, TesseraError)
        else f"{account.address}"
        + (
            " (from TESSERA_KEYSTORE)"
            if settings.keystore
            else " (from TESSERA_PRIVATE_KEY: local development only)"
        ),
    )
    key_ok = not isinstance(account, TesseraError)
    ok = chain_ok and key_ok
    balance = (
        attempt(
            lambda: preflight.check_balance(
                w3, account.address, min_balance_wei=preflight.DEFAULT_MIN_BALANCE_WEI
            )
        )
        if ok
        else None
    )
    yield (
        "gas balance",
        balance if balance is None or isinstance(balance, TesseraError) else f"{balance / 10**18:.6f}",
    )
    contracts = Tessera(w3, manifest) if ok else None

    def stake():
        _, bonded, free, minimum, _ = preflight.check_stake(contracts, account.address)
        tsr = contracts.balance_of(account.address)
        return (
            f"bonded {format_tsr(bonded)} (minimum {format_tsr(minimum)}), free {format_tsr(free)}; "
            f"wallet {format_tsr(tsr)}"
        )

    yield "stake", attempt(stake) if ok else None

    def ipfs():
        probe = b"tessera worker doctor\n"
        with open_ipfs(settings) as backend:
            cid = backend.add_bytes(probe, pin=False)
            back = backend.cat(cid, max_bytes=1024, timeout_s=settings.ipfs_timeout_s)
            if back != probe:
                raise TesseraError(f"{backend.describe()} returned other bytes for {cid}")
            return f"{backend.describe()}: add and cat work"

    yield "IPFS", attempt(ipfs)

    def device():
        import torch

        want = settings.device
        if want in ("auto", "cuda") and torch.cuda.is_available():
            return f"cuda: {torch.cuda.get_device_name(0)} (torch {torch.__version__})"
        if want == "cuda":
            raise ConfigError("TESSERA_DEVICE=cuda but torch sees no CUDA device", hint="use auto or cpu")
        mps = getattr(torch.backends, "mps", None)
        if want in ("auto", "mps") and mps is not None and mps.is_available():
            return f"mps (torch {torch.__version__})"
        if want == "mps":
            raise ConfigError("TESSERA_DEVICE=mps but torch sees no MPS device", hint="use auto or cpu")
        return f"cpu, {torch.get_num_threads()} threads (torch {torch.__version__})"

    yield "compute device", attempt(device)


# ------------------------------------------------------------------------------------------------- demo
@app.command("demo")
def demo(
    faulty: Annotated[
        bool, typer.Option("--faulty", help="One of the three workers lies; watch it get slashed.")
    ] = False,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the temporary folder (logs, ledgers) afterwards.")
    ] = False,
    serve: Annotated[
        bool,
        typer.Option("--dashboard", help="Then serve the dashboard over the demo's chain until Ctrl-C."),
    ] = False,
) -> None:
    """Run the whole market locally: chain, IPFS, contracts, three workers, three jobs, payouts.

    Example: tessera demo --faulty
    """
    from offchain.demo import run_demo

    try:
        run_demo(faulty=faulty, keep=keep, dashboard=serve)
    except KeyboardInterrupt:
        typer.echo("interrupted; everything the demo started is stopped", err=True)
        raise typer.Exit(130) from None


def main() -> None:
    """Console-script entry for `python -m offchain.cli`."""
    app()


if __name__ == "__main__":
    main()
