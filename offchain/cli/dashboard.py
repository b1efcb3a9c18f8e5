"""`tessera dashboard`: serve the built dashboard over the configured deployment (`offchain.dashboard`)."""

from __future__ import annotations

from typing import Annotated

import typer

from offchain.cli.state import state


def register(app: typer.Typer) -> None:
    """Add `dashboard` to the root command."""
    app.command("dashboard")(dashboard)


def dashboard(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8080,
    gateway: Annotated[
        str | None, typer.Option(help="IPFS gateway URL for the page \\[default: serve the embedded store].")
    ] = None,
    ipfs_api: Annotated[
        str | None, typer.Option("--ipfs-api", help="Kubo RPC URL the page adds specs through.")
    ] = None,
    ipfs_port: Annotated[
        int, typer.Option("--ipfs-port", help="Port of the embedded store's server (0: any free port).")
    ] = 0,
) -> None:
    """Serve the dashboard and the deployment manifest on 127.0.0.1 (build it first: make frontend).

    Example: tessera dashboard --port 8080
    """
    from offchain.dashboard import run_dashboard

    run_dashboard(
        state(ctx).settings, port=port, gateway_url=gateway, ipfs_api_url=ipfs_api, ipfs_port=ipfs_port
    )
