"""What every command shares: the `State` the root callback builds, and the error-to-exit-status rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from typer.core import TyperGroup

from offchain.errors import TesseraError

if TYPE_CHECKING:
    from offchain.settings import Settings

EXIT_USER_ERROR = 2


class ErrorsToExitGroup(TyperGroup):
    """The root group: turns a `TesseraError` from any subcommand into its one-liner and exit status 2."""

    def invoke(self, ctx: typer.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except TesseraError as err:
            fail(err)


def fail(err: TesseraError) -> NoReturn:
    """Print ``err``'s one-line message on stderr and exit with status 2."""
    typer.echo(str(err), err=True)
    raise typer.Exit(EXIT_USER_ERROR)


@dataclass
class State:
    """What the root callback hands every command: the one `Settings` and the consoles."""

    overrides: dict[str, object] = field(default_factory=dict)
    out: Console = field(default_factory=lambda: Console(highlight=False, soft_wrap=True))
    err: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))
    _settings: Settings | None = None
    _settings_error: TesseraError | None = None

    @property
    def settings(self) -> Settings:
        """The settings built by the callback; an invalid environment is reported only when one is used."""
        if self._settings_error is not None:
            raise self._settings_error
        assert self._settings is not None
        return self._settings


def state(ctx: typer.Context) -> State:
    """The `State` of this invocation."""
    return ctx.ensure_object(State)
