"""`tessera rewards status|claim`: the epoch emission earned by verified work."""

from __future__ import annotations

from typing import Annotated

import typer

from offchain.cli.common import client_for
from offchain.cli.state import state

app = typer.Typer(help="See and claim the epoch emission earned by verified work.", no_args_is_help=True)


@app.command("status")
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

    client = client_for(ctx, signer=address is None)
    pending = client.claimable_epochs(address)
    if not pending:
        typer.echo("nothing to claim yet (emission is claimable once an epoch you worked in has ended)")
    for epoch, amount in pending:
        typer.echo(f"epoch {epoch}: {format_tsr(amount)}")


@app.command("claim")
def rewards_claim(ctx: typer.Context) -> None:
    """Claim the emission of every ended epoch in which the configured operator earned points.

    Example: tessera rewards claim
    """
    from offchain.requester import format_tsr

    client = client_for(ctx, signer=True)
    with state(ctx).err.status("claiming emission ..."):
        amount, epochs = client.claim_rewards()
    typer.echo(f"claimed {format_tsr(amount)} for epochs {', '.join(map(str, epochs))} to {client.address}")
