"""`tessera job schema|submit|wait|status|result|challenge`: post jobs, follow them, fetch verified results,
challenge an optimistic job's result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from offchain.cli.common import client_for
from offchain.cli.job_challenge import job_challenge
from offchain.cli.job_submit import job_submit, spec_module
from offchain.cli.job_view import print_status as _print_status
from offchain.cli.job_view import wait_settled
from offchain.cli.state import state

app = typer.Typer(
    help="Post compute jobs, follow them and fetch their verified results.", no_args_is_help=True
)


@app.command("schema")
def job_schema() -> None:
    """Print the JSON Schema of job specs (for frontends and editors).

    Example: tessera job schema > spec.schema.json
    """
    import json

    typer.echo(json.dumps(spec_module().json_schema(), indent=2))


app.command("submit")(job_submit)


@app.command("wait")
def job_wait(
    ctx: typer.Context,
    job_id: Annotated[int, typer.Argument(help="Job id.", min=1)],
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds.")] = 900,
) -> None:
    """Wait until a job is settled (Completed, Failed, Cancelled or Expired), then show its status.

    Example: tessera job wait 1 --timeout 300
    """
    client = client_for(ctx, signer=False)
    wait_settled(ctx, client, job_id, timeout_s=timeout)
    _print_status(ctx, client.job_status(job_id), client)


@app.command("status")
def job_status(ctx: typer.Context, job_id: Annotated[int, typer.Argument(help="Job id.", min=1)]) -> None:
    """Show a job's phase, deadlines, claimants, commits, reveals, payouts and slashes.

    Example: tessera job status 1
    """
    client = client_for(ctx, signer=False)
    _print_status(ctx, client.job_status(job_id), client)


@app.command("result")
def job_result(
    ctx: typer.Context,
    job_id: Annotated[int, typer.Argument(help="Job id.", min=1)],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write job-<id>.safetensors into.")
    ] = Path("."),
    text: Annotated[
        str | None,
        typer.Option(
            "--text", help="Also print this tensor of token ids as text (the reference GPT's tokenizer)."
        ),
    ] = None,
) -> None:
    """Fetch a completed job's agreed result from IPFS, check it against the agreed digest, save it.

    Example: tessera job result 1 --out results/ --text ids
    """
    from offchain.ipfs.open import open_ipfs

    current = state(ctx)
    client = client_for(ctx, signer=False)
    with (
        open_ipfs(current.settings) as backend,
        current.err.status(f"fetching the result of job {job_id} ..."),
    ):
        saved = client.save_result(job_id, out, backend)
    typer.echo(str(saved.path))
    current.err.print(
        f"{saved.size} bytes from {saved.cid}, sha256 0x{saved.digest.hex()} (the agreed digest)"
    )
    if saved.error_code is not None:
        current.err.print(
            f"job ended with an agreed error: {saved.error_code} (every agreeing worker met it running the "
            "job's own spec, inputs or workload; the README's error table says what to fix)"
        )
        return
    for name, (dtype, shape) in saved.tensors.items():
        current.err.print(f"  {name}: {dtype} {shape}")
    if text is not None:
        from offchain.compute.export_tool import ids_as_text, read_tensors

        tensors = read_tensors(saved.path)
        if text not in tensors:
            raise typer.BadParameter(f"the result has no tensor {text!r}", param_hint="--text")
        for line in ids_as_text(tensors[text]):
            typer.echo(line)


app.command("challenge")(job_challenge)
