"""`tessera ipfs serve` as independent JavaScript clients use it, under Node (tests/ipfs/js/clients.mjs).

* ``kubo-rpc-client`` (the official JS Kubo RPC client, 7.x) uploads with ``Transfer-Encoding: chunked``;
  what it adds must get the CID our importer computes and read back byte for byte.
* ``@ipld/car`` (the reference CAR library) parses the CAR the gateway and ``dag/export`` serve, checks
  every block, and writing the same blocks itself gives the same bytes; a CAR it writes in another block
  order imports through the Kubo client's ``dag import`` into an empty store and reads back; a CAR with a
  forged block is refused.

Skipped with the command to run when Node or the npm packages (root ``package.json``) are missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from offchain.ipfs import CHUNK_SIZE, LocalBlockStore, compute_cid, import_blocks
from offchain.ipfs.serve import IpfsHttpServer, Limits

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("js") / "clients.mjs"
PACKAGES = ("kubo-rpc-client", "@ipld/car")


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not on PATH: install Node.js 20 or newer"
    for package in PACKAGES:
        if not (REPO / "node_modules" / package).is_dir():
            return f"node_modules/{package} is missing: run `npm ci` in the repository root (`make setup`)"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=f"JS client tests skipped: {_missing()}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[IpfsHttpServer]:
    store = LocalBlockStore(tmp_path / "store")
    with IpfsHttpServer(store, port=0, limits=Limits(max_add_bytes=4 << 20)) as running:
        yield running


def run_js(scenario: str, inputs: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Run one scenario of clients.mjs; its JSON findings, or the test fails with what Node printed."""
    path = tmp_path / f"{scenario}.json"
    path.write_text(json.dumps(inputs))
    proc = subprocess.run(
        ["node", str(DRIVER), scenario, str(path)], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    lines = proc.stdout.strip().splitlines()
    report = json.loads(lines[-1]) if lines else {}
    assert proc.returncode == 0, f"{scenario}: {report or proc.stdout}\n{proc.stderr[-3000:]}"
    return report


@pytest.mark.parametrize(
    ("cid_version", "raw_leaves"), [(0, None), (1, None), (0, True)], ids=["v0", "v1", "v0-raw-leaves"]
)
def test_kubo_rpc_client_adds_with_a_chunked_upload_and_reads_back(
    server: IpfsHttpServer, tmp_path: Path, random_bytes, cid_version: int, raw_leaves: bool | None
) -> None:
    files = []
    for size in (0, 5, 2 * CHUNK_SIZE + 17):  # empty, one leaf, a root over three leaves
        path = tmp_path / f"blob-{size}.bin"
        path.write_bytes(random_bytes(size, seed=cid_version))
        files.append({"path": str(path), "cidVersion": cid_version, "rawLeaves": raw_leaves})

    report = run_js("add-cat", {"url": server.url, "files": files}, tmp_path)

    for entry, added in zip(files, report["added"], strict=True):
        data = Path(entry["path"]).read_bytes()
        assert added["cid"] == str(compute_cid(data, cid_version, raw_leaves))
        assert added["same"], f"{added['cid']} read back different bytes"
        assert server.store.has(added["cid"]) and server.store.pins()


def test_kubo_rpc_client_is_told_why_an_oversized_upload_is_refused(tmp_path: Path, random_bytes) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(random_bytes(3 << 20))
    store = LocalBlockStore(tmp_path / "store")
    with IpfsHttpServer(store, port=0, limits=Limits(max_add_bytes=1 << 20)) as small:
        report = run_js("add-refused", {"url": small.url, "path": str(path)}, tmp_path)
    # the server answers 413 and throws the rest of the upload away, so the client reads the refusal
    # (without the drain it saw "write EPIPE")
    assert report["refused"] and report["status"] == 413, report
    assert f"the limit is {1 << 20}" in report["message"]
    assert store.pins() == []


@pytest.mark.parametrize(("cid_version", "raw_leaves"), [(0, None), (1, None)], ids=["v0", "v1-raw-leaves"])
def test_ipld_car_reads_our_car_and_writes_one_we_import(
    server: IpfsHttpServer, tmp_path: Path, random_bytes, cid_version: int, raw_leaves: bool | None
) -> None:
    data = random_bytes(2 * CHUNK_SIZE + 17, seed=cid_version)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    cid = server.store.add_bytes(data, cid_version=cid_version, raw_leaves=raw_leaves)
    *leaves, root = import_blocks(data, cid_version, raw_leaves)  # the importer writes the root last
    empty = IpfsHttpServer(LocalBlockStore(tmp_path / "empty"), port=0, limits=Limits(max_add_bytes=4 << 20))

    with empty:
        report = run_js("car", {"url": server.url, "emptyUrl": empty.url, "cid": str(cid), "path": str(path)},
                        tmp_path)  # fmt: skip
        assert empty.store.pins() == [cid]

    assert report["contentType"] == "application/vnd.ipld.car; version=1; order=dfs; dups=n"
    assert report["version"] == 1 and report["roots"] == [str(cid)]
    assert [b["cid"] for b in report["blocks"]] == [str(root.cid), *(str(leaf.cid) for leaf in leaves)]
    assert all(block["verified"] for block in report["blocks"])
    assert report["identicalWhenRewritten"] and report["sameByQuery"] and report["sameByRpc"]
    assert report["imported"] == [{"cid": str(cid), "pinErrorMsg": ""}]
    assert report["readBack"]
    assert "hash to" in report["forgedError"] and str(leaves[-1].cid) in report["forgedError"]
