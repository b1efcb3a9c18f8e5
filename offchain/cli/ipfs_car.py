"""`tessera ipfs car export|import`: a DAG as one CAR file, as `ipfs dag export` / `ipfs dag import` do
(`offchain.ipfs.car`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from offchain.cli.state import state

app = typer.Typer(
    help="Export a DAG to a CAR file or import one (every block verified against its CID).",
    no_args_is_help=True,
)


@app.command("export")
def car_export(
    ctx: typer.Context,
    cid: Annotated[str, typer.Argument(help="Root CID of the DAG (Qm... or b...).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The CAR file to write.", dir_okay=False)],
) -> None:
    """Write the DAG under CID to a CARv1 file (depth-first, each block once, as `ipfs dag export`).

    Example: tessera ipfs car export QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o -o hello.car
    """
    from offchain.ipfs.car import export_car
    from offchain.ipfs.open import open_ipfs

    settings = state(ctx).settings
    with open_ipfs(settings) as backend:
        summary = export_car(
            backend, cid, out, max_bytes=settings.max_input_bytes, timeout_s=settings.ipfs_timeout_s
        )
    state(ctx).err.print(f"wrote {summary.blocks} blocks ({summary.car_bytes} bytes) under {cid} to {out}")


@app.command("import")
def car_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A CAR file (CARv1 or CARv2).", exists=True, dir_okay=False)],
) -> None:
    """Store every block of a CAR file, each verified first, and pin its roots; print each root's CID.

    A CAR with a block that does not hash to its CID is refused (E_CAR_BLOCK_MISMATCH); a root whose DAG is
    incomplete is not pinned (E_CAR_INCOMPLETE). Example: tessera ipfs car import hello.car
    """
    from offchain.ipfs.car import IncompleteDag, import_car_file
    from offchain.ipfs.open import open_ipfs

    settings = state(ctx).settings
    with open_ipfs(settings) as backend:
        summary = import_car_file(
            backend, file, max_bytes=settings.max_input_bytes, timeout_s=settings.ipfs_timeout_s
        )
    state(ctx).err.print(f"imported {summary.blocks} blocks ({summary.block_bytes} bytes) from {file}")
    for root in summary.roots:
        if root not in summary.pin_errors:
            typer.echo(str(root))
    if summary.pin_errors:
        raise IncompleteDag("; ".join(summary.pin_errors.values()))
