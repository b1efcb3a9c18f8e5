"""`tessera job submit`: validate a spec, upload it, post it as a replicated, optimistic or unchecked job."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from offchain.chain.protocol import MAX_POSTED_REPLICAS, MAX_REPLICAS
from offchain.cli.common import AMOUNT_HELP, client_for, wei_of
from offchain.cli.job_view import print_status as _print_status
from offchain.cli.job_view import wait_settled
from offchain.cli.state import state
from offchain.errors import ConfigError

UNCHECKED_WARNING = (
    "warning: a 1-replica result is unchecked (one worker, nobody to disagree); "
    "use --replicas 3 for a checked result, or --optimistic for one any operator can challenge "
    "before it settles"
)
# offchain.requester.DEFAULT_CHALLENGE_WINDOW_S, not imported: `--help` loads no chain code
DEFAULT_CHALLENGE_WINDOW_S = 600


def spec_module():
    try:
        from offchain.compute import spec
    except ImportError as err:  # pragma: no cover - only while the compute package is missing
        raise ConfigError(
            f"the job spec model is not available ({err})", hint="reinstall the project"
        ) from None
    return spec


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
        int | None,
        typer.Option(
            help="Seconds after the commit deadline to reveal \\[default: 300].",
            min=30,
            max=86_400,
            show_default=False,
        ),
    ] = None,
    optimistic: Annotated[
        bool,
        typer.Option(
            "--optimistic",
            help="One worker, but its result settles only when a challenge window has passed; any "
            "operator may challenge it before then (`tessera job challenge`), and a challenge escalates "
            "to fresh workers.",
        ),
    ] = False,
    challenge_window: Annotated[
        int | None,
        typer.Option(
            help="With --optimistic: seconds after the commit deadline during which the result is "
            f"revealed and may be challenged (the reveal window) \\[default: {DEFAULT_CHALLENGE_WINDOW_S}].",
            min=30,
            max=86_400,
            show_default=False,
        ),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until the job is settled and show its status.")
    ] = False,
) -> None:
    """Validate SPEC_FILE, add its canonical form to IPFS, approve the fee, post the job; prints the job id.

    Example: tessera job submit examples/matmul.json --fee 2 --replicas 3
    (or --optimistic --challenge-window 900)
    """
    if optimistic and (replicas != 1 or quorum not in (None, 1)):
        given = f"--replicas {replicas}" if replicas != 1 else f"--quorum {quorum}"
        raise ConfigError(
            f"--optimistic posts one replica with quorum 1, so {given} does not go with it",
            hint="drop --replicas/--quorum for an optimistic job, or drop --optimistic for a replicated one",
        )
    if optimistic and reveal_window is not None:
        raise ConfigError(
            "--reveal-window does not go with --optimistic: an optimistic job's reveal window is its "
            "challenge window",
            hint=f"use --challenge-window {reveal_window}",
        )
    if challenge_window is not None and not optimistic:
        raise ConfigError(
            "--challenge-window is for optimistic jobs only",
            hint="add --optimistic, or drop --challenge-window",
        )
    last_window = (challenge_window or DEFAULT_CHALLENGE_WINDOW_S) if optimistic else (reveal_window or 300)
    if not 1 <= replicas <= MAX_POSTED_REPLICAS:
        raise ConfigError(
            f"--replicas {replicas} is out of bounds: a job may ask for 1 to {MAX_POSTED_REPLICAS} replicas "
            f"(the other of the {MAX_REPLICAS} slots are kept for escalation)",
            hint="use --replicas 3 for a checked result",
        )
    spec_model = spec_module()
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
    if replicas == 1 and not optimistic:
        current.err.print(UNCHECKED_WARNING, soft_wrap=True)
    client = client_for(ctx, signer=True)
    with open_ipfs(current.settings) as backend, current.err.status("adding the spec to IPFS ..."):
        spec_cid = str(backend.add_bytes(spec_bytes))
    windows = (claim_window, commit_window, last_window)
    with current.err.status(f"posting job (spec {spec_cid}) ..."):
        if optimistic:
            job_id, _ = client.post_job_optimistic(
                spec_cid, spec_bytes, fee=wei_of(fee) or 0, collateral=wei_of(collateral), windows=windows
            )
        else:
            job_id, _ = client.post_job(
                spec_cid,
                spec_bytes,
                fee=wei_of(fee) or 0,
                replicas=replicas,
                quorum=quorum,
                collateral=wei_of(collateral),
                windows=windows,
            )
    typer.echo(job_id)
    kind = f"optimistic, challengeable for {last_window} s after the commit deadline; " if optimistic else ""
    current.err.print(f"job {job_id} posted ({kind}next: tessera job status {job_id})")
    if wait:
        wait_settled(ctx, client, job_id, timeout_s=sum(windows) + 60)
        _print_status(ctx, client.job_status(job_id), client)
