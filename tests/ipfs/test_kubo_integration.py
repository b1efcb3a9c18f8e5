"""Against a real Kubo node: our CIDs equal what ``ipfs add`` computes, reads verify, and CARs agree both
ways (Kubo's ``dag export`` is byte for byte our CAR; Kubo's ``dag import`` takes ours).

Runs only when ``TESSERA_IPFS_API`` names a Kubo RPC API, e.g.::

    ipfs daemon --offline &   # Kubo, any recent release
    TESSERA_IPFS_API=http://127.0.0.1:5001 .venv/bin/python -m pytest -p no:ape_test -m kubo tests/ipfs
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import httpx
import pytest

from offchain.ipfs import CHUNK_SIZE, MAX_LINKS, KuboRpcClient, LocalBlockStore, compute_cid
from offchain.ipfs.car import export_car, iter_car

API = os.environ.get("TESSERA_IPFS_API", "")

pytestmark = [
    pytest.mark.kubo,
    pytest.mark.skipif(
        not API.startswith(("http://", "https://")),
        reason="needs a Kubo RPC API: start `ipfs daemon` and set TESSERA_IPFS_API=http://127.0.0.1:5001",
    ),
]

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def kubo() -> Iterator[KuboRpcClient]:
    with KuboRpcClient(API, timeout_s=60) as client:
        yield client


def test_node_answers(kubo: KuboRpcClient) -> None:
    assert kubo.version()


# (0, True) is Kubo's `--raw-leaves` with CIDv0 parents: no independent implementation covers it, Kubo does.
@pytest.mark.parametrize(("cid_version", "raw_leaves"), [(0, None), (1, None), (1, False), (0, True)])
@pytest.mark.parametrize(
    "size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, MAX_LINKS * CHUNK_SIZE + 1]
)
def test_add_matches_local_cid_and_reads_back(
    kubo: KuboRpcClient,
    size: int,
    cid_version: int,
    raw_leaves: bool | None,
    random_bytes: Callable[..., bytes],
) -> None:
    data = random_bytes(size, seed=cid_version)
    # add_bytes raises CidMismatch itself if Kubo's CID differs from ours.
    cid = kubo.add_bytes(data, cid_version=cid_version, raw_leaves=raw_leaves)
    assert cid == compute_cid(data, cid_version, raw_leaves)
    assert kubo.has(cid)
    assert kubo.cat(cid, max_bytes=size, timeout_s=60) == data


def test_pin(kubo: KuboRpcClient) -> None:
    cid = kubo.add_bytes(b"tessera pin test", pin=False)
    kubo.pin(cid)


@pytest.mark.parametrize(("cid_version", "raw_leaves"), [(0, None), (1, None)])
def test_kubo_dag_export_is_our_car(
    kubo: KuboRpcClient, tmp_path, cid_version: int, raw_leaves: bool | None, random_bytes
) -> None:
    data = random_bytes(3 * CHUNK_SIZE + 5, seed=100 + cid_version)  # random: no block repeats
    cid = kubo.add_bytes(data, cid_version=cid_version, raw_leaves=raw_leaves)
    with LocalBlockStore(tmp_path / "store") as store:
        store.add_bytes(data, cid_version=cid_version, raw_leaves=raw_leaves)
        ours = b"".join(iter_car(store, cid, max_bytes=1 << 30, timeout_s=60))
    theirs = httpx.post(f"{kubo.api_url}/api/v0/dag/export", params={"arg": str(cid)}, timeout=60)
    assert theirs.status_code == 200
    assert theirs.content == ours


def test_kubo_dag_import_takes_our_car(kubo: KuboRpcClient, tmp_path, random_bytes) -> None:
    data = random_bytes(2 * CHUNK_SIZE + 11, seed=200)
    with LocalBlockStore(tmp_path / "store") as store:
        cid = store.add_bytes(data)
        export_car(store, cid, tmp_path / "ours.car", max_bytes=1 << 30, timeout_s=60)
    summary = kubo.import_car(tmp_path / "ours.car", max_bytes=1 << 30)
    assert summary.roots == (cid,) and summary.pin_errors == {}
    assert kubo.cat(cid, max_bytes=len(data), timeout_s=60) == data
