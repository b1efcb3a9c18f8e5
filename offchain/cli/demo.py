"""`tessera demo`: the whole market on one machine (`offchain.demo`)."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add `demo` to the root command."""
    app.command("demo")(demo)


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
    run_lying_worker: Annotated[
        bool, typer.Option("--run-lying-worker", hidden=True, help="Internal: the demo's lying worker.")
    ] = False,
) -> None:
    """Run the whole market locally: chain, IPFS, contracts, three workers, three jobs, payouts.

    Example: tessera demo --faulty
    """
    from offchain import demo as market_demo

    if run_lying_worker:  # started by the demo itself with --faulty, never by a user
        code = market_demo.run_lying_worker()
        if code:
            raise typer.Exit(code)
        return
    try:
        market_demo.run_demo(faulty=faulty, keep=keep, dashboard=serve)
    except KeyboardInterrupt:
        typer.echo("interrupted; everything the demo started is stopped", err=True)
        raise typer.Exit(130) from None
