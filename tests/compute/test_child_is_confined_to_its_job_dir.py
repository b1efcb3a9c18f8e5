"""The child writes only inside its job directory and never sees the worker's secrets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from offchain.compute.runner import WorkloadRunner

from .support import matmul_document, spec_of

EXPECTED = {"job.json", "inputs", "scratch", "child.log", "result.safetensors", "status.json", "env.json"}


def test_environment_and_writes_stay_inside_the_job_dir(
    hostile_runner: Callable[..., WorkloadRunner], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, temp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    temp.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setenv("TESSERA_PRIVATE_KEY", "0x" + "ab" * 32)
    job_dir = tmp_path / "job"

    # "dump-env" writes the child's environment to env.json, then runs the real child.
    hostile_runner("dump-env").run(spec_of(matmul_document()), {}, job_dir)

    env = json.loads((job_dir / "env.json").read_text())
    assert "TESSERA_PRIVATE_KEY" not in env
    for key in ("HOME", "TMPDIR", "XDG_CACHE_HOME", "TORCH_HOME"):
        assert Path(env[key]).is_relative_to(job_dir), key
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert list(home.iterdir()) == [] and list(temp.iterdir()) == []
    assert {path.name for path in job_dir.iterdir()} <= EXPECTED
