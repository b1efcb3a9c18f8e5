"""`tessera job challenge`: dispute an optimistic job's revealed result with the result you computed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from offchain.cli.common import client_for, when
from offchain.cli.state import state
from offchain.errors import ConfigError


def _digest_of(text: str) -> bytes:
    raw = text.strip().lower().removeprefix("0x")
    try:
        digest = bytes.fromhex(raw)
    except ValueError:
        digest = b""
    if len(digest) != 32:
        raise ConfigError(
            f"--digest {text!r} is not a sha256 digest (64 hex digits)",
            hint="give the sha256 of your result bytes, or pass --result-file and let the command hash it",
        )
    return digest


def job_challenge(
    ctx: typer.Context,
    job_id: Annotated[int, typer.Argument(help="The optimistic job.", min=1)],
    result_file: Annotated[
        Path | None,
        typer.Option(
            help="The result you computed: hashed, added to IPFS and named in the challenge.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    digest: Annotated[
        str | None, typer.Option(help="sha256 of your result (hex), with --cid, instead of --result-file.")
    ] = None,
    cid: Annotated[
        str | None, typer.Option(help="IPFS CID of your result (already published), with --digest.")
    ] = None,
) -> None:
    """Challenge an optimistic job's revealed result before its challenge window closes.

    Checks first that the job is optimistic, its worker revealed a result that differs from yours, it is
    not challenged yet and its window is open; then sends challenge(job, digest, cid) from your operator
    key, locking the job's collateral as a bond. The job escalates to fresh workers when the window
    closes; whoever they do not confirm, the worker or you, is slashed.

    Example: tessera job challenge 7 --result-file job-7.safetensors
    """
    if (result_file is None) == (digest is None and cid is None):
        raise ConfigError(
            "name your result either with --result-file or with --digest and --cid",
            hint="e.g. tessera job challenge 7 --result-file my-result.safetensors",
        )
    if result_file is None and (digest is None or cid is None):
        raise ConfigError("--digest and --cid go together", hint="pass both, or --result-file instead")
    import hashlib

    from offchain.ipfs import CID, compute_cid
    from offchain.requester import format_tsr

    if result_file is not None:
        with result_file.open("rb") as handle:
            result_digest = hashlib.file_digest(handle, "sha256").digest()
        result_cid = str(compute_cid(result_file))
    else:
        result_digest, result_cid = _digest_of(digest or ""), str(CID.parse(cid or ""))

    current = state(ctx)
    client = client_for(ctx, signer=True)
    target = client.check_challenge(job_id, result_digest)
    if result_file is not None:
        from offchain.ipfs.open import open_ipfs

        with open_ipfs(current.settings) as backend, current.err.status("adding your result to IPFS ..."):
            added = str(backend.add_file(result_file))
        if added != result_cid:  # pragma: no cover - the backend and compute_cid disagree on the import
            raise ConfigError(
                f"IPFS stored the result as {added}, not {result_cid}", hint="check TESSERA_IPFS"
            )
    current.err.print(
        f"job {job_id}: worker {target.worker} revealed 0x{target.revealed_digest.hex()}; "
        f"you name 0x{result_digest.hex()} ({result_cid})"
    )
    with current.err.status(f"challenging job {job_id} ..."):
        client.challenge(job_id, result_digest, result_cid)
    typer.echo(
        f"challenged job {job_id}: bond {format_tsr(target.bond)} locked (the job's collateral) until it "
        f"settles; it escalates to fresh workers when the window closes, "
        f"{when(target.closes_at, target.now)}"
    )
