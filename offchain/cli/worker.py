"""`tessera worker run|doctor`: the oracle worker (`offchain.worker`) and its set-up checks."""

from __future__ import annotations

import typer

from offchain.cli.state import fail, state
from offchain.errors import TesseraError

app = typer.Typer(help="Run the oracle worker, or check that it is ready to run.", no_args_is_help=True)


@app.command("run")
def worker_run(ctx: typer.Context) -> None:
    """Run the oracle worker until Ctrl-C (claims, computes, commits, reveals, finalises, claims emission).

    Example: tessera worker run  (key: TESSERA_KEYSTORE + TESSERA_KEYSTORE_PASSWORD_FILE)
    """
    from offchain.worker.__main__ import run_worker

    code = run_worker(state(ctx).settings)  # logs its own one-line error and returns 2 on failure
    if code:
        raise typer.Exit(code)


@app.command("doctor")
def worker_doctor(ctx: typer.Context) -> None:
    """Check everything a worker needs: chain id, contract code, key, balances, stake, IPFS, device.

    Example: tessera worker doctor
    """
    from rich.table import Table

    from offchain.worker.doctor import doctor_checks

    current = state(ctx)
    table = Table("check", "", "detail", title="tessera worker doctor", title_justify="left")
    failures: list[TesseraError] = []
    for name, outcome in doctor_checks(current.settings):
        if isinstance(outcome, TesseraError):
            failures.append(outcome)
            table.add_row(name, "[red]✗[/]", str(outcome))
        elif outcome is None:
            table.add_row(name, "[dim]–[/]", "[dim]skipped (an earlier check failed)[/]")
        else:
            table.add_row(name, "[green]✓[/]", outcome)
    current.out.print(table)
    if failures:
        fail(failures[0])
    current.out.print("ready: `tessera worker run` starts the worker")
