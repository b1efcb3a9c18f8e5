"""Fixtures of the compute tests: CPU runners, runners with misbehaving children, a fresh job directory."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from offchain.compute.runner import RunnerConfig, WorkloadRunner

from .support import HOSTILE_CHILD, HOSTILE_ZYGOTE


@pytest.fixture
def make_runner() -> Iterator[Callable[..., WorkloadRunner]]:
    """A CPU runner with short kill grace; keyword arguments override ``RunnerConfig`` fields.

    No standby children unless asked (each imports torch, mostly for nothing in a test); closed after.
    """
    runners: list[WorkloadRunner] = []

    def make(**overrides: Any) -> WorkloadRunner:
        settings: dict[str, Any] = {"device": "cpu", "threads": 1, "kill_grace_s": 1.0, "prestart": 0}
        runners.append(WorkloadRunner(RunnerConfig(**{**settings, **overrides})))
        return runners[-1]

    yield make
    for runner in runners:
        runner.close()


@pytest.fixture
def hostile_runner(make_runner: Callable[..., WorkloadRunner]) -> Callable[..., WorkloadRunner]:
    """A ``spawn`` runner whose child is ``hostile_child.py`` in the given mode."""

    def make(mode: str, **overrides: Any) -> WorkloadRunner:
        command = (sys.executable, "-P", str(HOSTILE_CHILD), mode)
        return make_runner(executor="spawn", child_command=command, **overrides)

    return make


@pytest.fixture
def hostile_zygote_runner(make_runner: Callable[..., WorkloadRunner]) -> Callable[..., WorkloadRunner]:
    """A ``fork`` runner whose zygote is ``hostile_zygote.py`` in the given mode."""

    def make(mode: str, **overrides: Any) -> WorkloadRunner:
        command = (sys.executable, "-P", str(HOSTILE_ZYGOTE), mode)
        return make_runner(executor="fork", zygote_command=command, **overrides)

    return make


@pytest.fixture
def job_dir(tmp_path: Path) -> Path:
    return tmp_path / "job"
