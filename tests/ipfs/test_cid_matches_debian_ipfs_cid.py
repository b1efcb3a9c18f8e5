"""A third opinion: the Debian tool ``ipfs_cid`` (package ipfs-cid, a Rust implementation of Kubo's default
importer) agrees with our CIDv0. It prints only the default profile (its "CIDv1" is the same root in v1
form, not ``--cid-version 1``), so only CIDv0 is compared. Skipped where the tool is not installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from offchain.ipfs import CHUNK_SIZE, MAX_LINKS, compute_cid

TOOL = shutil.which("ipfs_cid")

pytestmark = pytest.mark.skipif(TOOL is None, reason="needs `ipfs_cid`: apt-get install ipfs-cid")


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, MAX_LINKS * CHUNK_SIZE + 1])
def test_cidv0_agrees(size: int, tmp_path: Path, random_bytes: Callable[..., bytes]) -> None:
    assert TOOL is not None
    path = tmp_path / "f.bin"
    path.write_bytes(random_bytes(size))
    out = subprocess.run([TOOL, str(path)], capture_output=True, text=True, check=True, timeout=60).stdout
    theirs = json.loads(out.splitlines()[0])["CIDv0"]
    assert str(compute_cid(path)) == theirs
