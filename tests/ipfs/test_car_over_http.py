"""`tessera ipfs serve` with CARs: the trustless gateway's ``application/vnd.ipld.car`` responses and the
RPC's ``dag/export`` / ``dag/import``, as plain HTTP clients see them (the JS clients: test_js_clients.py).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from offchain.ipfs import CHUNK_SIZE, CID, LocalBlockStore, import_blocks
from offchain.ipfs.car import CarReader, iter_car
from offchain.ipfs.serve import IpfsHttpServer, Limits

CAR = "application/vnd.ipld.car"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[IpfsHttpServer]:
    store = LocalBlockStore(tmp_path / "store")
    with IpfsHttpServer(store, port=0, limits=Limits(max_add_bytes=2 << 20)) as running:
        yield running


def blocks_of(car: bytes) -> list[CID]:
    return [block.cid for block in CarReader(io.BytesIO(car), max_bytes=1 << 30).blocks()]


def test_the_gateway_answers_a_car_by_format_or_by_accept(server, random_bytes):
    data = random_bytes(2 * CHUNK_SIZE + 3)
    cid = server.store.add_bytes(data)
    by_format = httpx.get(f"{server.url}/ipfs/{cid}", params={"format": "car"})
    by_accept = httpx.get(f"{server.url}/ipfs/{cid}", headers={"Accept": f"{CAR}; version=1; order=dfs"})
    assert by_format.status_code == by_accept.status_code == 200
    assert (
        by_format.content
        == by_accept.content
        == b"".join(iter_car(server.store, cid, max_bytes=1 << 30, timeout_s=10))
    )
    headers = by_format.headers
    assert headers["content-type"] == f"{CAR}; version=1; order=dfs; dups=n"
    assert headers["x-ipfs-roots"] == str(cid) and headers["access-control-allow-origin"] == "*"
    assert headers["content-disposition"] == f'attachment; filename="{cid}.car"'
    assert headers["transfer-encoding"] == "chunked" and "immutable" in headers["cache-control"]
    leaves = [block.cid for block in import_blocks(data)][:-1]
    assert blocks_of(by_format.content) == [cid, *leaves]

    head = httpx.head(f"{server.url}/ipfs/{cid}", params={"format": "car"})
    assert head.status_code == 200 and not head.content and head.headers["etag"] == headers["etag"]
    again = httpx.get(
        f"{server.url}/ipfs/{cid}", params={"format": "car"}, headers={"If-None-Match": headers["etag"]}
    )
    assert again.status_code == 304


def test_dag_scope_block_and_dups_are_honoured(server):
    cid = server.store.add_bytes(b"\0" * (3 * CHUNK_SIZE))  # three identical leaves
    leaf = next(iter(import_blocks(b"\0" * CHUNK_SIZE))).cid
    default = httpx.get(f"{server.url}/ipfs/{cid}", params={"format": "car"})
    assert blocks_of(default.content) == [cid, leaf]
    dups = httpx.get(f"{server.url}/ipfs/{cid}", headers={"Accept": f"{CAR}; dups=y"})
    assert dups.headers["content-type"].endswith("dups=y") and blocks_of(dups.content) == [
        cid,
        leaf,
        leaf,
        leaf,
    ]
    block = httpx.get(f"{server.url}/ipfs/{cid}", params={"format": "car", "dag-scope": "block"})
    assert blocks_of(block.content) == [cid]
    entity = httpx.get(f"{server.url}/ipfs/{cid}", params={"format": "car", "dag-scope": "entity"})
    assert entity.content == default.content


@pytest.mark.parametrize(
    ("params", "accept", "status", "words"),
    [
        ({}, f"{CAR}; version=2", 400, "only version=1"),
        ({}, f"{CAR}; order=random", 400, "order=dfs"),
        ({"format": "car", "dag-scope": "everything"}, "", 400, "dag-scope"),
        ({"format": "car", "entity-bytes": "0:10"}, "", 501, "entity-bytes"),
        ({"format": "tar"}, "", 400, "raw or car"),
    ],
)
def test_a_car_the_gateway_does_not_serve_says_why(server, params, accept, status, words):
    cid = server.store.add_bytes(b"x")
    response = httpx.get(
        f"{server.url}/ipfs/{cid}", params=params, headers={"Accept": accept} if accept else {}
    )
    assert response.status_code == status and words in response.json()["Message"]


def test_a_missing_root_is_a_404_before_any_car_byte(server):
    missing = CID.for_block(b"never added")
    response = httpx.get(f"{server.url}/ipfs/{missing}", params={"format": "car"})
    assert response.status_code == 404 and "not in" in response.json()["Message"]


def test_a_block_damaged_on_disk_truncates_the_car_never_completes_it(server, random_bytes):
    data = random_bytes(3 * CHUNK_SIZE)
    cid = server.store.add_bytes(data)
    last_leaf = list(import_blocks(data))[2].cid
    path = server.store.block_path(last_leaf)
    path.write_bytes(path.read_bytes()[:-1] + b"!")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{server.url}/ipfs/{cid}", params={"format": "car"})


def test_dag_export_and_import_through_the_rpc(server, tmp_path, random_bytes):
    data = random_bytes(CHUNK_SIZE + 9)
    cid = server.store.add_bytes(data, cid_version=1)
    exported = httpx.post(f"{server.url}/api/v0/dag/export", params={"arg": str(cid)})
    assert exported.status_code == 200 and exported.headers["content-type"] == CAR
    with IpfsHttpServer(LocalBlockStore(tmp_path / "other"), port=0) as other:
        files = {"file": ("x.car", exported.content, CAR)}
        imported = httpx.post(f"{other.url}/api/v0/dag/import", params={"stats": "true"}, files=files)
        assert imported.status_code == 200
        lines = [line for line in imported.text.splitlines() if line]
        assert lines[0] == f'{{"Root": {{"Cid": {{"/": "{cid}"}}, "PinErrorMsg": ""}}}}'
        assert '"BlockCount": 3' in lines[1]
        assert other.store.pins() == [cid]
        assert other.store.cat(cid, max_bytes=len(data), timeout_s=10) == data


def test_dag_import_refuses_a_forged_car_and_bounds_the_upload(server, random_bytes):
    cid = server.store.add_bytes(random_bytes(CHUNK_SIZE + 9))
    car = bytearray(b"".join(iter_car(server.store, cid, max_bytes=1 << 30, timeout_s=10)))
    car[-1] ^= 1
    forged = httpx.post(f"{server.url}/api/v0/dag/import", files={"file": ("x.car", bytes(car))})
    assert forged.status_code == 400 and "hash to" in forged.json()["Message"]
    huge = httpx.post(f"{server.url}/api/v0/dag/import", files={"file": ("x.car", b"\0" * (3 << 20))})
    assert huge.status_code == 413
    partial = b"".join(iter_car(server.store, cid, max_bytes=1 << 30, timeout_s=10, scope="block"))
    unpinned = httpx.post(f"{server.url}/api/v0/dag/import", params={"pin-roots": "false"},
                          files={"file": ("x.car", partial)})  # fmt: skip
    assert unpinned.status_code == 200 and unpinned.text == ""


def test_rpc_cat_reads_the_whole_file_and_refuses_ranges(server, random_bytes):
    data = random_bytes(CHUNK_SIZE + 1)
    cid = server.store.add_bytes(data)
    assert httpx.post(f"{server.url}/api/v0/cat", params={"arg": str(cid)}).content == data
    ranged = httpx.post(f"{server.url}/api/v0/cat", params={"arg": str(cid), "offset": "5"})
    assert ranged.status_code == 400 and "offset" in ranged.json()["Message"]
