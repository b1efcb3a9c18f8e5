"""`tessera deploy`: run the ape deploy script (`offchain.deploy_script`) against the configured chain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from offchain.cli.state import state


def register(app: typer.Typer) -> None:
    """Add `deploy` to the root command."""
    app.command("deploy")(deploy)


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
    from offchain.deploy_script import run_deploy_script

    current = state(ctx)
    settings = current.settings
    network = network or f"ethereum:local:{settings.rpc_url}"
    with current.err.status(f"deploying to {network} ..."):
        output = run_deploy_script(
            network=network,
            deployments_dir=settings.deployments_dir,
            force=force,
            params=params,
            account=account,
        )
    lines = [ln for ln in output.splitlines() if not ln.startswith(("INFO:", "SUCCESS:"))]
    typer.echo("\n".join(lines))
