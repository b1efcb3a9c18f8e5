"""How `tessera job status|wait` print a job: its round, deadlines, escalations and claimants."""

from __future__ import annotations

import typer

from offchain.cli.common import when
from offchain.cli.state import state
from offchain.errors import TesseraError


def print_status(ctx: typer.Context, st, client) -> None:
    """Print a `JobStatus` (offchain.requester): the current round's figures, the escalation history
    (`JobEscalated`) and one row per claimant of every round."""
    from rich.table import Table

    from offchain.chain.protocol import MAX_ROUND
    from offchain.requester import format_tsr

    v = st.view
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    head = Table(title=f"job {v.job_id}: {st.phase}", show_header=False, title_justify="left")
    head.add_row("requester", v.requester)
    head.add_row("spec", f"{st.spec_cid} (sha256 0x{st.spec_digest.hex()})" if st.spec_cid else "?")
    head.add_row("fee / collateral", f"{format_tsr(v.fee)} / {format_tsr(v.collateral)} per worker")
    head.add_row("level", _level(st, now))
    if st.challenge is not None:
        c = st.challenge
        head.add_row(
            "challenged",
            f"by {c.challenger} {when(c.at, now)}: names 0x{c.result_digest.hex()} ({c.result_cid}); "
            f"bond {format_tsr(v.collateral)}",
        )
    escalated = " (escalated: its reveals disagreed)" if v.round else ""
    head.add_row("round", f"{v.round} of at most {MAX_ROUND}{escalated}, first slot {v.first_slot}")
    head.add_row("replicas / quorum", f"{v.replicas} / {v.quorum}" + (" (this round)" if v.round else ""))
    head.add_row("claims / commits / reveals", f"{v.claims} / {v.commits} / {v.reveals}")
    head.add_row("claim deadline", when(v.claim_deadline, now))
    head.add_row("commit deadline", when(v.commit_deadline, now))
    head.add_row("reveal deadline", when(v.reveal_deadline, now))
    if st.result_digest is not None:
        head.add_row("agreed digest", "0x" + st.result_digest.hex())
        head.add_row("result CID", st.result_cid or "?")
        head.add_row(
            "paid to workers",
            format_tsr(st.fee_paid) + f" (protocol fee burned {format_tsr(st.protocol_fee or 0)})",
        )
    out = state(ctx).out
    out.print(head)
    if st.escalations:
        rounds = Table("round", "replicas / quorum", "opened", "claim deadline", "reveal deadline",
                       title="escalations (JobEscalated)", title_justify="left")  # fmt: skip
        for e in st.escalations:
            rounds.add_row(
                str(e.round),
                f"{e.replicas} / {e.quorum}",
                when(e.at, now),
                when(e.claim_deadline, now),
                when(e.reveal_deadline, now),
            )
        out.print(rounds)
    if st.workers:
        table = Table("worker", "round", "committed", "revealed", "digest", "paid", "slashed")
        for w in st.workers:
            digest = "—" if w.result_digest is None else "0x" + w.result_digest.hex()[:12] + "…"
            if w.result_digest is not None and st.result_digest is not None:
                digest += " ✓" if w.result_digest == st.result_digest else " ✗"
            slashed = f"{format_tsr(w.slashed)} ({', '.join(w.slash_reasons)})" if w.slashed else "—"
            table.add_row(
                w.worker,
                str(w.round),
                "yes" if w.committed else "no",
                "yes" if w.revealed else "no",
                digest,
                format_tsr(w.paid) if w.paid else "—",
                slashed,
            )
        out.print(table)


def wait_settled(ctx: typer.Context, client, job_id: int, *, timeout_s: float) -> None:
    """Poll the job until it is settled; `TesseraError` after ``timeout_s``."""
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


def _level(st, now: int) -> str:
    """How the job's result is checked: optimistic (with its challenge window), replicated, or unchecked."""
    v = st.view
    if st.optimistic:
        if st.challenge is not None:
            return "optimistic, challenged: escalates to fresh workers when the window closes"
        if v.round or v.phase.terminal:
            return "optimistic"
        return f"optimistic: challengeable until the reveal deadline, {when(v.reveal_deadline, now)}"
    posted = st.posted_replicas if st.posted_replicas is not None else v.replicas
    return "unchecked (1 replica)" if posted == 1 else f"checked ({posted} replicas)"
