"""Browser test fixtures: what must be installed (or the tests skip saying how to install it), the built
dashboard (rebuilt when its sources are newer), the compiled contracts (cached by source hash, shared by
xdist workers), and `run_driver`, which runs ``driver.mjs`` (playwright-core driving Debian's chromium)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from offchain.deployment import Artifact

REPO = Path(__file__).resolve().parents[2]
FRONTEND = REPO / "frontend"
BUILD = FRONTEND / "build"
OUT = REPO / "build" / "browser"  # screenshots, driver reports, the contract cache (ignored by git)
DRIVER = Path(__file__).with_name("driver.mjs")
CHROMIUM = Path(os.environ.get("TESSERA_CHROMIUM", "/usr/bin/chromium"))
SOURCES = [
    *(FRONTEND / name for name in ("src", "index.html", "vite.config.ts", "package-lock.json")),
    *(REPO / "abi" / name for name in ("index.ts", "job-spec.schema.json")),
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives headless Chromium (Debian's chromium + playwright-core)"
    )


def missing_requirements() -> str | None:
    """Why the browser tests cannot run here, with how to fix it; None when they can."""
    if not CHROMIUM.is_file():
        return (f"no Chromium at {CHROMIUM}: install Debian's package (`sudo apt-get install -y chromium`; "
                "`make test` does it when it can) or set TESSERA_CHROMIUM")  # fmt: skip
    if shutil.which("node") is None:
        return "node is not on PATH: install Node.js 20 or newer"
    for package in ("playwright-core", "vite", "viem"):
        if not (FRONTEND / "node_modules" / package).is_dir():
            return f"frontend/node_modules/{package} is missing: run `make frontend` (npm ci in frontend/)"
    return None


@contextmanager
def _locked(name: str) -> Iterator[None]:
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _newest(paths: list[Path]) -> float:
    newest = 0.0
    for path in paths:
        files = path.rglob("*") if path.is_dir() else [path]
        newest = max([newest, *(f.stat().st_mtime for f in files if f.is_file())])
    return newest


@pytest.fixture(scope="session")
def browser_ready() -> None:
    reason = missing_requirements()
    if reason:
        pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="session")
def frontend_build(browser_ready: None) -> Path:
    """frontend/build, rebuilt with vite when a source is newer (as `make frontend` would)."""
    with _locked("frontend-build"):
        index = BUILD / "index.html"
        if not index.is_file() or index.stat().st_mtime < _newest(SOURCES):
            result = subprocess.run(
                ["node", "node_modules/vite/bin/vite.js", "build", "--logLevel", "warn"],
                cwd=FRONTEND, capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            assert result.returncode == 0, f"vite build failed:\n{result.stdout}\n{result.stderr}"
    return BUILD


@pytest.fixture(scope="session")
def artifacts(browser_ready: None) -> dict[str, Artifact]:
    """The four contracts compiled by scripts/gen_abi.py, cached under build/browser by source hash."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import gen_abi
    finally:
        sys.path.remove(str(REPO / "scripts"))
    import vyper

    digest = hashlib.sha256(vyper.__version__.encode())
    for path in sorted((REPO / "contracts").rglob("*.vy*")):
        digest.update(path.relative_to(REPO).as_posix().encode() + path.read_bytes())
    cache = OUT / f"contracts-{digest.hexdigest()[:16]}.json"
    with _locked("contracts"):
        if not cache.is_file():
            compiled = gen_abi.compile_contracts(bytecode=True)
            data = {name: {"abi": c.abi, "bytecode": c.bytecode} for name, c in compiled.items()}
            cache.write_text(json.dumps(data))
        data = json.loads(cache.read_text())
    return {name: Artifact(abi=v["abi"], bytecode=v["bytecode"]) for name, v in data.items()}


RunDriver = Callable[..., dict[str, Any]]


@pytest.fixture(scope="session")
def run_driver(frontend_build: Path) -> RunDriver:
    """Run one driver scenario; returns its report (console messages, numbers read from the pages...)."""

    def run(scenario: str, inputs: dict[str, Any], *, timeout_s: float = 150) -> dict[str, Any]:
        work = OUT / scenario
        work.mkdir(parents=True, exist_ok=True)
        (work / "input.json").write_text(json.dumps(inputs, indent=2))
        report_path = work / "report.json"
        report_path.unlink(missing_ok=True)
        env = {
            **os.environ,
            "TESSERA_FRONTEND_DIR": str(FRONTEND),
            "TESSERA_CHROMIUM": str(CHROMIUM),
        }
        args = [str(work / "input.json"), str(report_path), str(OUT / "screenshots")]
        proc = subprocess.run(
            ["node", str(DRIVER), scenario, *args], env=env, capture_output=True, text=True, timeout=timeout_s
        )
        report = json.loads(report_path.read_text()) if report_path.is_file() else {}
        if proc.returncode != 0:
            pytest.fail(
                f"browser driver scenario {scenario!r} failed (exit {proc.returncode}): "
                f"{report.get('error', '')}\n--- stdout\n{proc.stdout[-4000:]}"
                f"\n--- stderr\n{proc.stderr[-4000:]}"
            )
        return report

    return run
