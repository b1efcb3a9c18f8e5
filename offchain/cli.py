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


def main() -> None:
    """Console-script entry for `python -m offchain.cli`."""
    app()


if __name__ == "__main__":
    main()
