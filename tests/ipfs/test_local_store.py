"""The embedded block store: round trips, and every way stored content can be wrong or too big."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from offchain.errors import CidMismatch, InputTooLarge, IpfsTimeout, IpfsUnavailable
from offchain.ipfs import CHUNK_SIZE, CID, LocalBlockStore, MalformedDag, NotAFile, compute_cid, import_blocks
from offchain.ipfs.dagpb import encode_link, encode_node

MiB = 1024 * 1024
SIZES = [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 5 * CHUNK_SIZE + 3]


@pytest.mark.parametrize("cid_version", [0, 1])
@pytest.mark.parametrize("size", SIZES)
def test_add_bytes_then_cat_round_trips(
    store: LocalBlockStore, size: int, cid_version: int, random_bytes: Callable[..., bytes]
) -> None:
    data = random_bytes(size)
    cid = store.add_bytes(data, cid_version=cid_version)
    assert cid == compute_cid(data, cid_version)
    assert store.has(cid)
    assert store.cat(cid, max_bytes=size, timeout_s=10) == data
    assert store.cat(str(cid), max_bytes=size, timeout_s=10) == data


def test_add_file_and_cat_to_file(
    store: LocalBlockStore, tmp_path: Path, random_bytes: Callable[..., bytes]
) -> None:
    data = random_bytes(3 * CHUNK_SIZE + 10)
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    cid = store.add_file(src, cid_version=1)
    dest = tmp_path / "out.bin"
    assert store.cat_to_file(cid, dest, max_bytes=len(data), timeout_s=10) == len(data)
    assert dest.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_adding_pins_and_cid_forms_share_blocks(
    store: LocalBlockStore, random_bytes: Callable[..., bytes]
) -> None:
    data = random_bytes(100)
    cid = store.add_bytes(data)
    assert store.pins() == [cid]
    assert store.has(cid.to_v1())  # blocks are keyed by multihash
    assert store.add_bytes(data, pin=False) == cid


def test_pin_of_absent_content_is_refused(store: LocalBlockStore) -> None:
    with pytest.raises(IpfsUnavailable, match="cannot pin"):
        store.pin(compute_cid(b"never added"))


def test_missing_content_is_unavailable_with_a_next_step(store: LocalBlockStore) -> None:
    cid = compute_cid(b"never added")
    assert not store.has(cid)
    with pytest.raises(
        IpfsUnavailable, match=f"block {cid} is not in local block store.*Next: add the content"
    ):
        store.cat(cid, max_bytes=MiB, timeout_s=10)


def test_a_missing_leaf_is_reported(store: LocalBlockStore, random_bytes: Callable[..., bytes]) -> None:
    data = random_bytes(2 * CHUNK_SIZE)
    cid = store.add_bytes(data)
    first_leaf = next(iter(import_blocks(data))).cid
    store.block_path(first_leaf).unlink()
    with pytest.raises(IpfsUnavailable, match=str(first_leaf)):
        store.cat(cid, max_bytes=len(data), timeout_s=10)


@pytest.mark.parametrize("cid_version", [0, 1])
def test_a_block_corrupted_on_disk_is_a_mismatch_naming_the_file(
    store: LocalBlockStore, cid_version: int, random_bytes: Callable[..., bytes]
) -> None:
    data = random_bytes(3 * CHUNK_SIZE)
    cid = store.add_bytes(data, cid_version=cid_version)
    leaf = list(import_blocks(data, cid_version))[1].cid
    path = store.block_path(leaf)
    damaged = bytearray(path.read_bytes())
    damaged[100] ^= 0x01
    path.write_bytes(bytes(damaged))
    with pytest.raises(CidMismatch, match=f"{leaf} stored at {path} is damaged.*Next: delete"):
        store.cat(cid, max_bytes=len(data), timeout_s=10)


def test_a_damaged_root_is_a_mismatch(store: LocalBlockStore) -> None:
    cid = store.add_bytes(b"small")
    store.block_path(cid).write_bytes(b"other")
    with pytest.raises(CidMismatch):
        store.cat(cid, max_bytes=MiB, timeout_s=10)


def test_declared_size_over_the_limit_is_refused_before_any_leaf_is_read(
    store: LocalBlockStore, random_bytes: Callable[..., bytes]
) -> None:
    data = random_bytes(4 * CHUNK_SIZE)
    cid = store.add_bytes(data)
    for block in list(import_blocks(data))[:-1]:
        store.block_path(block.cid).unlink()  # only the root is left: reading a leaf would fail
    with pytest.raises(
        InputTooLarge, match=f"{4 * CHUNK_SIZE} bytes, over the limit of {4 * CHUNK_SIZE - 1}"
    ):
        store.cat(cid, max_bytes=4 * CHUNK_SIZE - 1, timeout_s=10)


@pytest.mark.parametrize("cid_version", [0, 1])
def test_a_single_block_over_the_limit_is_refused(store: LocalBlockStore, cid_version: int) -> None:
    cid = store.add_bytes(b"x" * 1000, cid_version=cid_version)
    with pytest.raises(InputTooLarge):
        store.cat(cid, max_bytes=999, timeout_s=10)
    assert len(store.cat(cid, max_bytes=1000, timeout_s=10)) == 1000


def test_limit_also_applies_to_cat_to_file_and_leaves_no_file(
    store: LocalBlockStore, tmp_path: Path, random_bytes: Callable[..., bytes]
) -> None:
    cid = store.add_bytes(random_bytes(2 * CHUNK_SIZE))
    dest = tmp_path / "out.bin"
    with pytest.raises(InputTooLarge):
        store.cat_to_file(cid, dest, max_bytes=CHUNK_SIZE, timeout_s=10)
    assert list(tmp_path.iterdir()) == [store.root]


def test_time_limit_counts_the_whole_read(tmp_path: Path, random_bytes: Callable[..., bytes]) -> None:
    ticks = iter(range(1000))
    store = LocalBlockStore(tmp_path / "ipfs", clock=lambda: float(next(ticks)))  # one second per look
    cid = store.add_bytes(random_bytes(6 * CHUNK_SIZE))
    with pytest.raises(IpfsTimeout, match="ran out of time"):
        store.cat(cid, max_bytes=10 * MiB, timeout_s=5)


def _store_block(store: LocalBlockStore, data: bytes) -> CID:
    cid = CID.for_block(data)
    store.block_path(cid).parent.mkdir(parents=True, exist_ok=True)
    store.block_path(cid).write_bytes(data)
    return cid


def test_a_directory_is_not_a_file(store: LocalBlockStore) -> None:
    child = store.add_bytes(b"inside")
    directory = encode_node([encode_link(child.to_bytes(), 20, b"a.txt")], b"\x08\x01")  # UnixFS Directory
    cid = _store_block(store, directory)
    with pytest.raises(NotAFile, match="directory"):
        store.cat(cid, max_bytes=MiB, timeout_s=10)


def test_sizes_that_lie_are_a_malformed_dag(store: LocalBlockStore) -> None:
    child = store.add_bytes(b"12345", cid_version=1)  # a raw leaf of 5 bytes
    # A parent claiming its one child holds 6 bytes (and a filesize of 6).
    liar = encode_node([encode_link(child.to_bytes(), 5)], b"\x08\x02\x18\x06\x20\x06")
    cid = _store_block(store, liar)
    with pytest.raises(MalformedDag, match="parent says 6"):
        store.cat(cid, max_bytes=MiB, timeout_s=10)


def test_a_dag_of_empty_nodes_cannot_run_forever(store: LocalBlockStore) -> None:
    # Each level links to the level below 170 times; every node claims zero bytes. Walking it would fetch
    # 170**3 blocks; the fetch budget stops it long before.
    empty = _store_block(store, encode_node([], b"\x08\x02\x18\x00"))
    level = empty
    for _ in range(3):
        node = encode_node([encode_link(level.to_bytes(), 10)] * 170, b"\x08\x02\x18\x00" + b"\x20\x00" * 170)
        level = _store_block(store, node)
    with pytest.raises(InputTooLarge):
        store.cat(level, max_bytes=1000, timeout_s=30)


def test_garbage_block_is_a_malformed_dag(store: LocalBlockStore) -> None:
    cid = _store_block(store, b"\xff\xff\xff")
    with pytest.raises(MalformedDag):
        store.cat(cid, max_bytes=MiB, timeout_s=10)


def test_fsync_mode_round_trips(tmp_path: Path, random_bytes: Callable[..., bytes]) -> None:
    store = LocalBlockStore(tmp_path / "ipfs", fsync=True)
    data = random_bytes(CHUNK_SIZE + 1)
    assert store.cat(store.add_bytes(data), max_bytes=len(data), timeout_s=10) == data
