"""The root `tessera` command: global options, the one `Settings`, and the command groups registered."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from offchain.cli import chain, dashboard, demo, deploy, ipfs, job, model, operator, rewards, worker
from offchain.cli.state import ErrorsToExitGroup, State
from offchain.errors import TesseraError

app = typer.Typer(
    cls=ErrorsToExitGroup,
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
    from offchain.settings import load_settings

    current = State(overrides=overrides)
    try:
        current._settings = load_settings(overrides)
    except TesseraError as err:
        current._settings_error = err
    ctx.obj = current


# The order of registration is the order of `tessera --help`.
app.add_typer(chain.app, name="chain")
deploy.register(app)
app.add_typer(ipfs.app, name="ipfs")
dashboard.register(app)
app.add_typer(operator.app, name="operator")
app.add_typer(job.app, name="job")
app.add_typer(model.app, name="model")
app.add_typer(rewards.app, name="rewards")
app.add_typer(worker.app, name="worker")
demo.register(app)


def main() -> None:
    """Console-script entry (`tessera`, `python -m offchain.cli`)."""
    app()
