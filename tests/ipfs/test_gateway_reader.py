"""The trustless gateway reader against a loopback gateway that behaves well, lies, or stalls."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from offchain.errors import CidMismatch, InputTooLarge, IpfsTimeout, IpfsUnavailable
from offchain.ipfs import CHUNK_SIZE, GatewayReader, LocalBlockStore, import_blocks
from tests.ipfs.fakes import LoopbackServer

MiB = 1024 * 1024
# Each misbehaving source must be cut off well within this (request limit 0.5 s, whole read 1.5 s).
BOUND_S = 4.0


@pytest.fixture
def gateway(fake_ipfs: LoopbackServer) -> Iterator[GatewayReader]:
    with GatewayReader(fake_ipfs.url, timeout_s=0.5) as reader:
        yield reader


@pytest.mark.parametrize("cid_version", [0, 1])
@pytest.mark.parametrize("size", [0, 10, 3 * CHUNK_SIZE + 1])
def test_reads_and_verifies_every_block(
    fake_ipfs: LoopbackServer,
    gateway: GatewayReader,
    size: int,
    cid_version: int,
    random_bytes: Callable[..., bytes],
) -> None:
    data = random_bytes(size)
    cid = fake_ipfs.fake.publish(data, cid_version)
    assert gateway.cat(cid, max_bytes=size, timeout_s=10) == data
    gets = [path for method, path in fake_ipfs.fake.requests if method == "GET"]
    assert len(gets) == len(list(import_blocks(data, cid_version)))
    assert all(path.endswith("?format=raw") for path in gets)


def test_blocks_are_fetched_ahead_in_parallel(
    fake_ipfs: LoopbackServer, gateway: GatewayReader, random_bytes: Callable[..., bytes]
) -> None:
    data = random_bytes(12 * CHUNK_SIZE)
    cid = fake_ipfs.fake.publish(data, 1)
    fake_ipfs.fake.delay_s = 0.05  # a round trip's latency: worth overlapping
    assert gateway.cat(cid, max_bytes=len(data), timeout_s=10) == data
    assert fake_ipfs.fake.max_in_flight > 1


def test_has_asks_for_the_root_block(fake_ipfs: LoopbackServer, gateway: GatewayReader) -> None:
    cid = fake_ipfs.fake.publish(b"present")
    assert gateway.has(cid)
    fake_ipfs.fake.mode = "missing"
    assert not gateway.has(cid)


def test_wrong_bytes_are_a_cid_mismatch(fake_ipfs: LoopbackServer, gateway: GatewayReader) -> None:
    cid = fake_ipfs.fake.publish(b"the real content")
    fake_ipfs.fake.mode = "wrong"
    with pytest.raises(CidMismatch, match=f"gateway {fake_ipfs.url} returned .* for {cid}"):
        gateway.cat(cid, max_bytes=MiB, timeout_s=10)


def test_404_is_unavailable(fake_ipfs: LoopbackServer, gateway: GatewayReader) -> None:
    cid = fake_ipfs.fake.publish(b"x")
    fake_ipfs.fake.mode = "missing"
    with pytest.raises(IpfsUnavailable, match=f"does not have block {cid} \\(HTTP 404"):
        gateway.cat(cid, max_bytes=MiB, timeout_s=10)


def test_a_web_page_is_not_a_trustless_answer(fake_ipfs: LoopbackServer, gateway: GatewayReader) -> None:
    cid = fake_ipfs.fake.publish(b"x")
    fake_ipfs.fake.mode = "html"
    with pytest.raises(IpfsUnavailable, match="not a trustless gateway"):
        gateway.cat(cid, max_bytes=MiB, timeout_s=10)


def test_a_redirect_loop_is_refused(fake_ipfs: LoopbackServer, gateway: GatewayReader) -> None:
    cid = fake_ipfs.fake.publish(b"x")
    fake_ipfs.fake.mode = "loop"
    with pytest.raises(IpfsUnavailable, match="redirect"):
        gateway.cat(cid, max_bytes=MiB, timeout_s=10)


@pytest.mark.parametrize(
    ("mode", "error"),
    [("drip", IpfsTimeout), ("stall", IpfsTimeout), ("endless", InputTooLarge)],
)
def test_a_stream_that_never_ends_is_cut_off_in_bounded_time(
    fake_ipfs: LoopbackServer, gateway: GatewayReader, mode: str, error: type[Exception]
) -> None:
    cid = fake_ipfs.fake.publish(b"x")
    fake_ipfs.fake.mode = mode
    start = time.monotonic()
    with pytest.raises(error):
        gateway.cat(cid, max_bytes=MiB, timeout_s=1.5)
    assert time.monotonic() - start < BOUND_S


def test_total_time_limit_spans_blocks(fake_ipfs: LoopbackServer, random_bytes: Callable[..., bytes]) -> None:
    cid = fake_ipfs.fake.publish(random_bytes(4 * CHUNK_SIZE))
    ticks = iter(range(1000))
    reader = GatewayReader(fake_ipfs.url, timeout_s=100, clock=lambda: float(next(ticks)))
    with reader, pytest.raises(IpfsTimeout):
        reader.cat(cid, max_bytes=10 * MiB, timeout_s=4)


def test_local_store_reads_through_a_gateway_and_keeps_verified_blocks(
    fake_ipfs: LoopbackServer, tmp_path: Path, random_bytes: Callable[..., bytes]
) -> None:
    data = random_bytes(2 * CHUNK_SIZE + 9)
    cid = fake_ipfs.fake.publish(data, 1)
    store = LocalBlockStore(tmp_path / "ipfs", fallback=GatewayReader(fake_ipfs.url, timeout_s=2))
    assert store.cat(cid, max_bytes=len(data), timeout_s=10) == data
    fake_ipfs.fake.mode = "missing"  # now everything must come from the local copy
    assert store.cat(cid, max_bytes=len(data), timeout_s=10) == data
    store.close()


def test_local_store_does_not_keep_wrong_blocks_from_a_gateway(
    fake_ipfs: LoopbackServer, tmp_path: Path
) -> None:
    cid = fake_ipfs.fake.publish(b"genuine")
    fake_ipfs.fake.mode = "wrong"
    store = LocalBlockStore(tmp_path / "ipfs", fallback=GatewayReader(fake_ipfs.url, timeout_s=2))
    with pytest.raises(CidMismatch):
        store.cat(cid, max_bytes=MiB, timeout_s=10)
    assert not store.has(cid)
    store.close()


def test_an_endless_stream_through_the_local_store_is_blamed_on_the_gateway(
    fake_ipfs: LoopbackServer, tmp_path: Path
) -> None:
    """The worker's gateway mode: the refusal names the gateway and what it did, not only the store."""
    cid = fake_ipfs.fake.publish(b"x")
    fake_ipfs.fake.mode = "endless"
    store = LocalBlockStore(tmp_path / "ipfs", fallback=GatewayReader(fake_ipfs.url, timeout_s=2))
    with pytest.raises(InputTooLarge, match=f"{fake_ipfs.url}/ipfs/{cid} sent more than"):
        store.cat(cid, max_bytes=MiB, timeout_s=10)
    assert not store.has(cid)
    store.close()
