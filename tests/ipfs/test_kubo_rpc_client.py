"""The Kubo RPC client against a loopback fake Kubo: POST only, verified reads, CIDs checked after add."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from offchain.errors import CidMismatch, InputTooLarge, IpfsTimeout, IpfsUnavailable
from offchain.ipfs import CHUNK_SIZE, KuboRpcClient, compute_cid
from tests.ipfs.fakes import LoopbackServer

MiB = 1024 * 1024
BOUND_S = 4.0


@pytest.fixture
def kubo(fake_ipfs: LoopbackServer) -> Iterator[KuboRpcClient]:
    with KuboRpcClient(fake_ipfs.url + "/api/v0", timeout_s=0.5) as client:
        yield client


def test_every_call_is_a_post(fake_ipfs: LoopbackServer, kubo: KuboRpcClient) -> None:
    cid = kubo.add_bytes(b"some bytes")
    fake_ipfs.fake.publish(b"some bytes")
    kubo.version()
    kubo.pin(cid)
    kubo.has(cid)
    kubo.cat(cid, max_bytes=MiB, timeout_s=5)
    assert {method for method, _ in fake_ipfs.fake.requests} == {"POST"}
    commands = [path.split("?")[0] for _, path in fake_ipfs.fake.requests]
    assert commands == [
        "/api/v0/add",
        "/api/v0/version",
        "/api/v0/pin/add",
        "/api/v0/block/stat",
        "/api/v0/block/get",
    ]


def test_version(kubo: KuboRpcClient) -> None:
    assert kubo.version() == "0.0.0-fake"


@pytest.mark.parametrize("cid_version", [0, 1])
@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE + 1])
def test_add_returns_the_locally_computed_cid(
    fake_ipfs: LoopbackServer,
    kubo: KuboRpcClient,
    size: int,
    cid_version: int,
    random_bytes: Callable[..., bytes],
) -> None:
    data = random_bytes(size)
    assert kubo.add_bytes(data, cid_version=cid_version) == compute_cid(data, cid_version)
    assert fake_ipfs.fake.added == [data]
    _, path = fake_ipfs.fake.requests[0]
    assert f"cid-version={cid_version}" in path
    assert f"raw-leaves={'true' if cid_version else 'false'}" in path
    assert "chunker=size-262144" in path


def test_add_file_streams_the_file(
    fake_ipfs: LoopbackServer, kubo: KuboRpcClient, tmp_path: Path, random_bytes: Callable[..., bytes]
) -> None:
    data = random_bytes(2 * CHUNK_SIZE + 3)
    path = tmp_path / "weights.safetensors"
    path.write_bytes(data)
    assert kubo.add_file(path, cid_version=1) == compute_cid(data, 1)
    assert fake_ipfs.fake.added == [data]


def test_a_node_that_reports_another_cid_is_refused(fake_ipfs: LoopbackServer, kubo: KuboRpcClient) -> None:
    fake_ipfs.fake.mode = "add_wrong_cid"
    expected = compute_cid(b"payload")
    with pytest.raises(
        CidMismatch, match=f"but the local importer computes {expected}.*Next: the node's Import"
    ):
        kubo.add_bytes(b"payload")


@pytest.mark.parametrize("cid_version", [0, 1])
def test_cat_reads_blocks_and_verifies_them(
    fake_ipfs: LoopbackServer, kubo: KuboRpcClient, cid_version: int, random_bytes: Callable[..., bytes]
) -> None:
    data = random_bytes(3 * CHUNK_SIZE + 1)
    cid = fake_ipfs.fake.publish(data, cid_version)
    assert kubo.cat(cid, max_bytes=len(data), timeout_s=10) == data
    assert all("/api/v0/cat" not in path for _, path in fake_ipfs.fake.requests)


def test_wrong_bytes_are_a_cid_mismatch(fake_ipfs: LoopbackServer, kubo: KuboRpcClient) -> None:
    cid = fake_ipfs.fake.publish(b"the real content")
    fake_ipfs.fake.mode = "wrong"
    with pytest.raises(CidMismatch, match=f"Kubo RPC at {fake_ipfs.url} returned"):
        kubo.cat(cid, max_bytes=MiB, timeout_s=10)


def test_missing_block_is_unavailable_with_kubos_message(
    fake_ipfs: LoopbackServer, kubo: KuboRpcClient
) -> None:
    cid = fake_ipfs.fake.publish(b"x")
    fake_ipfs.fake.mode = "missing"
    with pytest.raises(
        IpfsUnavailable, match=f"block/get for {cid} failed \\(HTTP 500\\): block {cid} not found"
    ):
        kubo.cat(cid, max_bytes=MiB, timeout_s=10)


def test_has_uses_the_nodes_local_blocks(fake_ipfs: LoopbackServer, kubo: KuboRpcClient) -> None:
    cid = fake_ipfs.fake.publish(b"x")
    assert kubo.has(cid)
    assert not kubo.has(compute_cid(b"absent"))
    assert "offline=true" in fake_ipfs.fake.requests[-1][1]


@pytest.mark.parametrize(
    ("mode", "error"),
    [("drip", IpfsTimeout), ("stall", IpfsTimeout), ("endless", InputTooLarge)],
)
def test_a_stream_that_never_ends_is_cut_off_in_bounded_time(
    fake_ipfs: LoopbackServer, kubo: KuboRpcClient, mode: str, error: type[Exception]
) -> None:
    cid = fake_ipfs.fake.publish(b"x")
    fake_ipfs.fake.mode = mode
    start = time.monotonic()
    with pytest.raises(error):
        kubo.cat(cid, max_bytes=MiB, timeout_s=1.5)
    assert time.monotonic() - start < BOUND_S


def test_an_unreachable_node_is_unavailable() -> None:
    with (
        KuboRpcClient("http://127.0.0.1:9", timeout_s=2) as client,
        pytest.raises(IpfsUnavailable, match="cannot reach"),
    ):
        client.version()
