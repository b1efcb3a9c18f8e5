"""`tessera chain up|down`: the local development chain (anvil, chain id 1337; `offchain.devchain`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Start or stop the local development chain (anvil, chain id 1337).", no_args_is_help=True
)


def _default_state_dir() -> Path:
    from offchain.devchain import REPO_ROOT

    return REPO_ROOT / ".tessera"


@app.command("up")
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


@app.command("down")
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
