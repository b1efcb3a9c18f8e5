"""`tessera ipfs add|cat|serve|car`: content through the configured IPFS backend (`offchain.ipfs`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from offchain.cli import ipfs_car
from offchain.cli.state import state

app = typer.Typer(
    help="Add and read content with the configured IPFS backend (TESSERA_IPFS).", no_args_is_help=True
)
app.add_typer(ipfs_car.app, name="car")


@app.command("add")
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
        settings = state(ctx).settings
        from offchain.ipfs.open import open_ipfs

        with open_ipfs(settings) as backend:
            cid = backend.add_file(file, cid_version=cid_version, raw_leaves=raw_leaves)
    typer.echo(str(cid))


@app.command("cat")
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
    from offchain.ipfs.open import open_ipfs

    settings = state(ctx).settings
    limits = {"max_bytes": settings.max_input_bytes, "timeout_s": settings.ipfs_timeout_s}
    with open_ipfs(settings) as backend:
        if out is not None:
            size = backend.cat_to_file(cid, out, **limits)
            state(ctx).err.print(f"wrote {size} bytes to {out}")
        else:
            for piece in backend.iter_content(cid, **limits):
                sys.stdout.buffer.write(piece)
            sys.stdout.buffer.flush()


@app.command("serve")
def ipfs_serve(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 5080,
    allow_origin: Annotated[
        list[str] | None,
        typer.Option("--allow-origin", help="A browser origin allowed to call the RPC API (repeatable)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Loopback address to bind.")] = "127.0.0.1",
    max_add_bytes: Annotated[
        int | None,
        typer.Option(
            "--max-add-bytes",
            min=1,
            help="Largest upload accepted by add \\[default: 64 MiB].",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the embedded store as a trustless gateway and a Kubo RPC subset on 127.0.0.1.

    Workers share it with TESSERA_IPFS=http://127.0.0.1:PORT. Example: tessera ipfs serve --port 5080
    """
    from offchain.ipfs.serve import Limits, run_server

    limits = Limits() if max_add_bytes is None else Limits(max_add_bytes=max_add_bytes)
    run_server(
        state(ctx).settings.ipfs_dir, host=host, port=port, allow_origins=allow_origin or (), limits=limits
    )
