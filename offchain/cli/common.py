"""Helpers of the commands that talk to a deployment: the client, amounts and times as users read them."""

from __future__ import annotations

import typer

from offchain.cli.state import state


def client_for(ctx: typer.Context, *, signer: bool):
    """Connect to the deployment (with the configured key when ``signer``), behind a spinner."""
    from offchain.requester import Client

    current = state(ctx)
    settings = current.settings
    with current.err.status(f"connecting to {settings.rpc_url} ..."):
        return Client.connect(settings, signer=signer)


def wei_of(value: str | None) -> int | None:
    """A TSR amount typed by the user (`offchain.requester.parse_amount`), in wei."""
    from offchain.requester import parse_amount

    return None if value is None else parse_amount(value)


def when(timestamp: int, now: int) -> str:
    """A chain timestamp as UTC, with how far it is from ``now``."""
    from datetime import UTC, datetime

    at = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    delta = timestamp - now
    rel = f"in {delta} s" if delta > 0 else f"{-delta} s ago"
    return f"{at} ({rel})"


AMOUNT_HELP = "TSR as a decimal (1.5) or wei with a suffix (15wei)."
