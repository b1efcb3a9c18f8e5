"""`tessera job schema|submit|wait|status|result`: post jobs, follow them, fetch verified results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from offchain.chain.protocol import MAX_POSTED_REPLICAS, MAX_REPLICAS
from offchain.cli.common import AMOUNT_HELP, client_for, wei_of
from offchain.cli.job_view import print_status as _print_status
from offchain.cli.state import state
from offchain.errors import ConfigError, TesseraError

UNCHECKED_WARNING = (
    "warning: a 1-replica result is unchecked (one worker, nobody to disagree); "
    "use --replicas 3 for a checked result"
)

app = typer.Typer(
    help="Post compute jobs, follow them and fetch their verified results.", no_args_is_help=True
)


def _spec_module():
    try:
        from offchain.compute import spec
    except ImportError as err:  # pragma: no cover - only while the compute package is missing
        raise ConfigError(
            f"the job spec model is not available ({err})", hint="reinstall the project"
        ) from None
    return spec


@app.command("schema")
def job_schema() -> None:
    """Print the JSON Schema of job specs (for frontends and editors).

    Example: tessera job schema > spec.schema.json
    """
    import json

    typer.echo(json.dumps(_spec_module().json_schema(), indent=2))


@app.command("submit")
def job_submit(
    ctx: typer.Context,
    spec_file: Annotated[
        Path, typer.Argument(help="Job spec (JSON).", exists=True, dir_okay=False, readable=True)
    ],
    fee: Annotated[str, typer.Option(help="Fee escrowed for the workers. " + AMOUNT_HELP)] = "1",
    replicas: Annotated[
        int,
        typer.Option(
            help=f"Workers that run the job, 1 to {MAX_POSTED_REPLICAS}; 1 is unchecked (no second result), "
            "3 or more are checked, and a disagreement escalates to fresh workers."
        ),
    ] = 1,
    quorum: Annotated[
        int | None,
        typer.Option(help="Agreeing results needed \\[default: a strict majority].", show_default=False),
    ] = None,
    collateral: Annotated[
        str | None,
        typer.Option(
            help="Stake each worker locks \\[default: the registry's minimum]. " + AMOUNT_HELP,
            show_default=False,
        ),
    ] = None,
    claim_window: Annotated[int, typer.Option(help="Seconds to claim.", min=30, max=86_400)] = 300,
    commit_window: Annotated[
        int, typer.Option(help="Seconds after the claim deadline to commit.", min=30, max=86_400)
    ] = 300,
    reveal_window: Annotated[
        int, typer.Option(help="Seconds after the commit deadline to reveal.", min=30, max=86_400)
    ] = 300,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until the job is settled and show its status.")
    ] = False,
) -> None:
    """Validate SPEC_FILE, add its canonical form to IPFS, approve the fee, post the job; prints the job id.

    Example: tessera job submit examples/matmul.json --fee 2 --replicas 3
    """
    if not 1 <= replicas <= MAX_POSTED_REPLICAS:
        raise ConfigError(
            f"--replicas {replicas} is out of bounds: a job may ask for 1 to {MAX_POSTED_REPLICAS} replicas "
            f"(the other of the {MAX_REPLICAS} slots are kept for escalation)",
            hint="use --replicas 3 for a checked result",
        )
    spec_model = _spec_module()
    # A malformed spec stops here: nothing is uploaded or sent. What is uploaded is the canonical form
    # (sorted keys, defaults written out), which every worker's strict parser reads back identically.
    spec_bytes = spec_model.canonical_spec_bytes(spec_model.parse_spec(spec_file.read_bytes()))
    if quorum is not None and not (2 * quorum > replicas and quorum <= replicas):
        raise ConfigError(
            f"--quorum {quorum} is not a strict majority of --replicas {replicas}",
            hint=f"use a quorum between {replicas // 2 + 1} and {replicas}",
        )
    from offchain.ipfs.open import open_ipfs

    current = state(ctx)
    if replicas == 1:
        current.err.print(UNCHECKED_WARNING, soft_wrap=True)
    client = client_for(ctx, signer=True)
    with open_ipfs(current.settings) as backend, current.err.status("adding the spec to IPFS ..."):
        spec_cid = str(backend.add_bytes(spec_bytes))
    with current.err.status(f"posting job (spec {spec_cid}) ..."):
        job_id, _ = client.post_job(
            spec_cid,
            spec_bytes,
            fee=wei_of(fee) or 0,
            replicas=replicas,
            quorum=quorum,
            collateral=wei_of(collateral),
            windows=(claim_window, commit_window, reveal_window),
        )
    typer.echo(job_id)
    current.err.print(f"job {job_id} posted; next: tessera job status {job_id}")
    if wait:
        _wait(ctx, client, job_id, timeout_s=claim_window + commit_window + reveal_window + 60)
        _print_status(ctx, client.job_status(job_id), client)


def _wait(ctx: typer.Context, client, job_id: int, *, timeout_s: float) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    with state(ctx).err.status(f"job {job_id}: waiting ...") as status:
        while True:
            view = client.contracts.get_job(job_id)
            status.update(
                f"job {job_id}: {view.phase.name.lower()}, round {view.round} ({view.claims} claimed, "
                f"{view.commits} committed, {view.reveals} revealed)"
            )
            if view.phase.terminal:
                return
            if time.monotonic() > deadline:
                raise TesseraError(
                    f"job {job_id} is still {view.phase.name.lower()} after {timeout_s:.0f} s",
                    hint=f"check again later with `tessera job status {job_id}`",
                )
            time.sleep(0.5)


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
    _wait(ctx, client, job_id, timeout_s=timeout)
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
