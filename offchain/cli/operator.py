"""`tessera operator register|stake|unstake|withdraw|status|selected`: an operator's stake and selection
(`offchain.requester`)."""

from __future__ import annotations

from typing import Annotated

import typer

from offchain.cli.common import AMOUNT_HELP, client_for, wei_of, when
from offchain.cli.state import state

app = typer.Typer(help="Register as an operator, stake, unstake and withdraw TSR.", no_args_is_help=True)


@app.command("register")
def operator_register(
    ctx: typer.Context,
    metadata_cid: Annotated[
        str | None,
        typer.Argument(
            help="CID of a JSON file describing the operator \\[default: made from --name, added to IPFS].",
            show_default=False,
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Operator name for the generated metadata.")] = None,
) -> None:
    """Register the configured key as an operator, with a metadata CID (name, contact, hardware).

    Example: tessera operator register --name "rig-7"
    """
    import json

    current = state(ctx)
    client = client_for(ctx, signer=True)
    if metadata_cid is None:
        from offchain.compute.devices import pool_slots, slot_infos
        from offchain.ipfs.open import open_ipfs

        settings = current.settings
        slots = slot_infos(
            pool_slots(settings.devices, settings.device), memory_cap_mb=settings.workload_memory_mb
        )
        metadata = {
            "name": name or f"operator {client.address[:10]}",
            "address": client.address,
            "devices": [info.as_metadata() for info in slots],  # what `tessera worker doctor` lists
        }
        with open_ipfs(current.settings) as backend:
            metadata_cid = str(backend.add_bytes(json.dumps(metadata, sort_keys=True).encode() + b"\n"))
    with current.err.status("registering ..."):
        client.register(metadata_cid)
    typer.echo(f"registered {client.address} (metadata {metadata_cid}); next: tessera operator stake 100")


@app.command("stake")
def operator_stake(
    ctx: typer.Context, amount: Annotated[str, typer.Argument(help=AMOUNT_HELP, show_default=False)]
) -> None:
    """Bond AMOUNT of TSR (approving the staking contract first if needed).

    Example: tessera operator stake 100
    """
    from offchain.requester import format_tsr

    client = client_for(ctx, signer=True)
    wei = wei_of(amount) or 0
    with state(ctx).err.status(f"staking {format_tsr(wei)} ..."):
        client.stake(wei)
    status = client.operator_status()
    typer.echo(
        f"bonded {format_tsr(status.bonded)} (minimum {format_tsr(status.min_stake)}) for {client.address}"
    )


@app.command("unstake")
def operator_unstake(
    ctx: typer.Context, amount: Annotated[str, typer.Argument(help=AMOUNT_HELP, show_default=False)]
) -> None:
    """Start unbonding AMOUNT; it stays slashable until withdrawn after the unbonding period.

    Example: tessera operator unstake 50
    """
    from offchain.requester import format_tsr

    client = client_for(ctx, signer=True)
    wei = wei_of(amount) or 0
    with state(ctx).err.status(f"requesting to unstake {format_tsr(wei)} ..."):
        lock_id, at = client.request_unstake(wei)
    now = client.operator_status().now
    typer.echo(f"lock {lock_id}: {format_tsr(wei)} withdrawable {when(at, now)}")
    typer.echo(f"next: tessera operator withdraw {lock_id}  (after that time)")


@app.command("withdraw")
def operator_withdraw(
    ctx: typer.Context,
    lock_id: Annotated[int, typer.Argument(help="Lock id printed by `unstake`.", min=0, max=7)],
) -> None:
    """Withdraw an unbonding lock whose period has passed.

    Example: tessera operator withdraw 0
    """
    from offchain.requester import format_tsr

    client = client_for(ctx, signer=True)
    with state(ctx).err.status(f"withdrawing lock {lock_id} ..."):
        amount = client.withdraw(lock_id)
    typer.echo(f"withdrew {format_tsr(amount)} to {client.address}")


@app.command("status")
def operator_status(
    ctx: typer.Context,
    address: Annotated[
        str | None,
        typer.Argument(help="Operator address \\[default: the configured key's].", show_default=False),
    ] = None,
) -> None:
    """Show an operator's balances, stake, locks, eligibility and reliability record (from events).

    Example: tessera operator status 0x70997970C51812dc3A010C7d01b50e0d17dc79C8
    """
    from rich.table import Table
    from web3 import Web3

    from offchain.chain.reliability import read_records
    from offchain.requester import format_tsr

    client = client_for(ctx, signer=address is None)
    st = client.operator_status(address)
    table = Table(title=f"operator {st.address}", show_header=False, title_justify="left")
    table.add_row(
        "registered",
        "yes" + (f" (metadata {st.metadata_cid})" if st.metadata_cid else "") if st.registered else "no",
    )
    table.add_row("native balance", f"{st.native_balance / 10**18:.6f}")
    table.add_row("TSR balance", format_tsr(st.tsr_balance))
    table.add_row("bonded", f"{format_tsr(st.bonded)} (minimum {format_tsr(st.min_stake)})")
    table.add_row("locked by jobs", format_tsr(st.locked))
    table.add_row("free stake", format_tsr(st.free_stake))
    jailed = st.jailed_until > st.now
    table.add_row("eligible to claim jobs", "yes" if st.eligible else "no" + (" (jailed)" if jailed else ""))
    if jailed:
        table.add_row("jailed until", when(st.jailed_until, st.now))
    for lock_id, amount, at in st.locks:
        ready = "withdrawable" if at <= st.now else f"withdrawable {when(at, st.now)}"
        table.add_row(f"lock {lock_id}", f"{format_tsr(amount)}, {ready}")
    records = read_records(client.contracts, log_range=state(ctx).settings.log_range_blocks)
    record = records.get(Web3.to_checksum_address(st.address))
    if record is not None:
        share = "" if record.agreed_bps is None else f" ({record.agreed_bps / 100:.0f} %)"
        table.add_row("record", f"{record.agreed} of {record.settled} settled agreed{share}, "
                      f"{record.misses} missed, {record.claims} claimed")  # fmt: skip
        slashes = ", ".join(
            f"{n} {reason.name.lower().replace('_', ' ')}" for reason, n in record.slashes.items()
        )
        table.add_row("slashes by reason", f"{slashes} ({format_tsr(record.slashed_amount)})")
    state(ctx).out.print(table)


@app.command("selected")
def operator_selected(
    ctx: typer.Context,
    job_id: Annotated[int, typer.Argument(help="Job id.", min=1)],
    address: Annotated[
        str | None,
        typer.Option(help="Operator address \\[default: the configured key's].", show_default=False),
    ] = None,
) -> None:
    """Show when an operator may claim a job's current round (selection by stake, `selected_at`).

    Example: tessera operator selected 7
    """
    client = client_for(ctx, signer=address is None)
    sel = client.selection(job_id, address)
    head = f"job {job_id} round {sel.round}, operator {sel.operator}: "
    if not sel.has_stake:
        typer.echo(head + "not selectable (no bonded stake); next: tessera operator stake 100")
    elif not sel.this_round:
        typer.echo(head + f"not selected before the claim deadline ({when(sel.claim_deadline, sel.now)})")
    elif sel.selected_at <= sel.now:
        typer.echo(head + f"selected since {when(sel.selected_at, sel.now)}; it may claim a free slot")
    else:
        typer.echo(head + f"selected from {when(sel.selected_at, sel.now)} (the threshold widens with time)")
