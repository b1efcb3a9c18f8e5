"""CAR files (offchain.ipfs.car): what we write is a CARv1 in depth-first order with each block once, and
what we read is verified block by block, bounded, and refused with a specific error when it is wrong.

Independent checks: @ipld/car and the Kubo JS client (test_js_clients.py), Kubo itself
(test_kubo_integration.py), and the CARv1 specification's header fixture below.
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest

from offchain.errors import InputTooLarge, IpfsTimeout, IpfsUnavailable
from offchain.ipfs import CHUNK_SIZE, CID, LocalBlockStore, import_blocks
from offchain.ipfs.car import (
    CarBlockMismatch,
    CarReader,
    MalformedCar,
    car_header,
    car_section,
    export_car,
    import_car,
    iter_car,
)
from offchain.ipfs.cid import encode_varint
from offchain.ipfs.dag import UnwalkableBlock, walk
from offchain.ipfs.dagcbor import DAG_CBOR, decode, encode
from offchain.ipfs.dagpb import encode_link, encode_node
from offchain.ipfs.errors import MalformedDag
from offchain.ipfs.importer import Block

LIMIT = 1 << 30


def car_of(store: LocalBlockStore, root: CID, **kwargs) -> bytes:
    return b"".join(iter_car(store, root, max_bytes=kwargs.pop("max_bytes", LIMIT), timeout_s=10, **kwargs))


def read_all(car: bytes, *, max_bytes: int = LIMIT) -> tuple[tuple[CID, ...], list[Block]]:
    reader = CarReader(io.BytesIO(car), max_bytes=max_bytes)
    return reader.roots, list(reader.blocks())


def link_node(store: LocalBlockStore, *targets: CID) -> CID:
    """A dag-pb node (no UnixFS data) linking ``targets`` in order, stored; its CIDv0."""
    node = encode_node([encode_link(t.to_bytes(), 1, f"l{i}".encode()) for i, t in enumerate(targets)], None)
    cid = CID.for_block(node)
    store.put_block(Block(cid, node))
    return cid


def test_the_header_matches_the_carv1_spec_fixture():
    # https://ipld.io/specs/transport/car/carv1/#fixtures: the header of carv1-basic.car
    fixture = bytes.fromhex(
        "63a265726f6f747382d82a58250001711220f88bc853804cf294fe417e4fa83028689fcdb1b1592c5102e1474dbc"
        "200fab8bd82a5825000171122069ea0740f9807a28f4d932c62e7c1c83be055e55072c90266ab3e79df63a365b67"
        "76657273696f6e01"
    )
    roots = [
        CID.parse("bafyreihyrpefhacm6kkp4ql6j6udakdit7g3dmkzfriqfykhjw6cad5lrm"),
        CID.parse("bafyreidj5idub6mapiupjwjsyyxhyhedxycv4vihfsicm2vt46o7morwlm"),
    ]
    assert car_header(roots) == fixture
    assert CarReader(io.BytesIO(fixture), max_bytes=LIMIT).roots == tuple(roots)


@pytest.mark.parametrize(("cid_version", "raw_leaves"), [(0, None), (1, None), (0, True)])
def test_an_exported_file_imports_into_an_empty_store_and_reads_back(
    store, tmp_path, random_bytes, cid_version, raw_leaves
):
    data = random_bytes(2 * CHUNK_SIZE + 17, seed=cid_version)
    root = store.add_bytes(data, cid_version=cid_version, raw_leaves=raw_leaves)
    summary = export_car(store, root, tmp_path / "file.car", max_bytes=LIMIT, timeout_s=10)
    assert (summary.blocks, summary.block_bytes) == (4, sum(len(b.data) for b in import_blocks(data,
                                                             cid_version, raw_leaves)))  # fmt: skip
    assert summary.car_bytes == (tmp_path / "file.car").stat().st_size

    with LocalBlockStore(tmp_path / "other") as other, open(tmp_path / "file.car", "rb") as car:
        imported = import_car(other, car, max_bytes=LIMIT)
        assert imported.roots == (root,) and imported.blocks == 4 and not imported.pin_errors
        assert other.pins() == [root]
        assert other.cat(root, max_bytes=len(data), timeout_s=10) == data


def test_blocks_come_depth_first_each_once_unless_duplicates_are_asked_for(store, random_bytes):
    big = store.add_bytes(random_bytes(2 * CHUNK_SIZE + 1))
    small = store.add_bytes(b"small")
    node = link_node(store, big, small, big)
    big_leaves = [block.cid for block in import_blocks(random_bytes(2 * CHUNK_SIZE + 1))][:-1]

    roots, blocks = read_all(car_of(store, node))
    assert roots == (node,)
    assert [b.cid for b in blocks] == [node, big, *big_leaves, small]

    _, with_dups = read_all(car_of(store, node, dups=True))
    assert [b.cid for b in with_dups] == [node, big, *big_leaves, small, big, *big_leaves]

    _, only_root = read_all(car_of(store, node, scope="block"))
    assert [b.cid for b in only_root] == [node]


def test_identical_leaves_are_written_once(store):
    root = store.add_bytes(b"\0" * (3 * CHUNK_SIZE))
    _, blocks = read_all(car_of(store, root))
    assert [b.cid for b in blocks] == [root, next(iter(import_blocks(b"\0" * CHUNK_SIZE))).cid]


def test_a_dag_cbor_block_is_walked_through_its_links(store):
    leaf = store.add_bytes(b"leaf", cid_version=1)
    body = encode({"name": "spec", "parts": [leaf, {"again": leaf}], "size": 4})
    root = CID.for_block(body, codec=DAG_CBOR, version=1)
    store.put_block(Block(root, body))
    assert decode(body) == {"name": "spec", "parts": [leaf, {"again": leaf}], "size": 4}
    _, blocks = read_all(car_of(store, root))
    assert [b.cid for b in blocks] == [root, leaf]


def test_a_block_of_an_unknown_codec_cannot_be_walked(store):
    block = b'{"a":1}'
    json_cid = CID.for_block(block, codec=0x0200, version=1)
    store.put_block(Block(json_cid, block))
    with pytest.raises(UnwalkableBlock, match="links cannot be read"):
        car_of(store, json_cid)


def test_a_car_with_a_forged_block_is_refused_and_pins_nothing(store, tmp_path, random_bytes):
    root = store.add_bytes(random_bytes(CHUNK_SIZE + 1))
    car = bytearray(car_of(store, root))
    car[-1] ^= 1
    leaf = list(import_blocks(random_bytes(CHUNK_SIZE + 1)))[1].cid
    with LocalBlockStore(tmp_path / "other") as other:
        with pytest.raises(CarBlockMismatch, match=f"block 2 of the CAR is named {leaf}, but its"):
            import_car(other, io.BytesIO(bytes(car)), max_bytes=LIMIT)
        assert other.pins() == [] and not other.has(leaf)


def test_a_root_whose_dag_is_incomplete_is_not_pinned(store, tmp_path, random_bytes):
    root = store.add_bytes(random_bytes(CHUNK_SIZE + 1))
    only_root = car_of(store, root, scope="block")
    with LocalBlockStore(tmp_path / "other") as other:
        summary = import_car(other, io.BytesIO(only_root), max_bytes=LIMIT)
        assert other.has(root) and other.pins() == []
        assert "incomplete" in summary.pin_errors[root]
        unpinned = import_car(other, io.BytesIO(only_root), max_bytes=LIMIT, pin_roots=False)
        assert unpinned.pin_errors == {}


def test_a_carv2_is_read_through_to_its_carv1_payload(store, random_bytes):
    root = store.add_bytes(random_bytes(CHUNK_SIZE + 1))
    payload = car_of(store, root)
    padding = b"\0" * 7
    fixed = bytes(16) + (51 + len(padding)).to_bytes(8, "little") + len(payload).to_bytes(8, "little")
    carv2 = bytes.fromhex("0aa16776657273696f6e02") + fixed + bytes(8) + padding + payload + b"index bytes"
    reader = CarReader(io.BytesIO(carv2), max_bytes=LIMIT)
    assert reader.version == 2 and reader.roots == (root,)
    assert [b.cid for b in reader.blocks()] == [b.cid for b in read_all(payload)[1]]


def test_reading_stops_at_the_byte_limit(store, random_bytes):
    root = store.add_bytes(random_bytes(3 * CHUNK_SIZE))
    car = io.BytesIO(car_of(store, root))
    reader = CarReader(car, max_bytes=CHUNK_SIZE)
    with pytest.raises(InputTooLarge, match=f"over the limit of {CHUNK_SIZE} bytes"):
        list(reader.blocks())
    assert car.tell() <= CHUNK_SIZE + 1


def test_writing_stops_at_the_byte_and_time_limits(store, tmp_path, random_bytes):
    root = store.add_bytes(random_bytes(3 * CHUNK_SIZE))
    with pytest.raises(InputTooLarge, match="over the limit of 1000 bytes"):
        export_car(store, root, tmp_path / "x.car", max_bytes=1000, timeout_s=10)
    assert list(tmp_path.iterdir()) == [tmp_path / "ipfs"]  # no partial CAR, no temporary file left
    ticks = itertools.count(0, 4.0)
    with pytest.raises(IpfsTimeout, match="ran out of time"):
        list(iter_car(store, root, max_bytes=LIMIT, timeout_s=10, clock=lambda: next(ticks)))


def test_exporting_a_missing_root_fails_before_any_byte(store, tmp_path):
    missing = CID.for_block(b"never added")
    with pytest.raises(IpfsUnavailable):
        next(iter_car(store, missing, max_bytes=LIMIT, timeout_s=10))
    with pytest.raises(IpfsUnavailable):
        export_car(store, missing, tmp_path / "x.car", max_bytes=LIMIT, timeout_s=10)
    assert not (tmp_path / "x.car").exists()


def _section_with(raw_cid: bytes, block: bytes) -> bytes:
    return encode_varint(len(raw_cid) + len(block)) + raw_cid + block


HEADER = car_header([CID.for_block(b"x")])


@pytest.mark.parametrize(
    ("car", "words"),
    [
        pytest.param(b"", "ends inside the header length", id="empty"),
        pytest.param(b"not a car file at all", "ends inside the header", id="not-a-car"),
        pytest.param(b"\x00", "0-byte header", id="zero-header"),
        pytest.param(encode_varint(3) + encode(7) + b"\0\0", "2 bytes after", id="header-trailing"),
        pytest.param(encode_varint(len(encode(7))) + encode(7), "not a map", id="header-an-int"),
        pytest.param(
            encode_varint(len(encode({"roots": [], "version": 3}))) + encode({"roots": [], "version": 3}),
            "CAR version 3",
            id="version-3",
        ),
        pytest.param(
            encode_varint(len(encode({"version": 1}))) + encode({"version": 1}),
            "no list of root",
            id="no-roots",
        ),
        pytest.param(HEADER + b"\x00", "is 0 bytes", id="empty-section"),
        pytest.param(HEADER + encode_varint(3 << 20), f"is {3 << 20} bytes", id="section-too-large"),
        pytest.param(HEADER + b"\x80", "ends inside the length of section 0", id="truncated-varint"),
        pytest.param(
            HEADER + _section_with(b"\x12\x20" + bytes(32), b"")[:-5], "ends inside", id="truncated"
        ),
        pytest.param(
            HEADER + _section_with(b"\x01\x55\x13\x40" + bytes(64), b"x"), "cannot verify", id="sha2-512-cid"
        ),
        pytest.param(HEADER + _section_with(b"\x01\x55\x12\x20" + bytes(8), b""), "no CID", id="short-cid"),
    ],
)
def test_a_malformed_car_is_refused_saying_why(car, words):
    with pytest.raises((MalformedCar, MalformedDag, InputTooLarge)) as caught:
        read_all(car)
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("encoded", "words"),
    [
        pytest.param(b"\x9f\xff", "indefinite", id="indefinite-array"),
        pytest.param(b"\xc1\x00", "tag 1", id="tag-other-than-42"),
        pytest.param(b"\x01\x02", "1 bytes after", id="trailing-bytes"),
        pytest.param(b"\xa1\x01\x02", "not a string", id="integer-map-key"),
        pytest.param(b"\x5a\xff\xff\xff\xff", "past the end", id="bytes-past-the-end"),
        pytest.param(b"\xd8\x2a\x41\x01", "binary CID", id="link-without-0x00"),
        pytest.param(b"\x81" * 70 + b"\x00", "nested deeper", id="too-deep"),
    ],
)
def test_dag_cbor_outside_the_rules_is_malformed(encoded, words):
    with pytest.raises(MalformedDag, match=words):
        decode(encoded)


def test_walk_asks_for_each_block_once(store, random_bytes):
    big = store.add_bytes(random_bytes(CHUNK_SIZE + 1))
    node = link_node(store, big, big, big)
    asked: list[CID] = []

    def get(cid: CID) -> bytes:
        asked.append(cid)
        return store.get_block(cid, timeout_s=10)

    visited = [cid for cid, _ in walk(get, node)]
    assert visited == asked and len(set(asked)) == len(asked) == 4


def test_sections_are_length_prefixed_cid_and_block():
    cid = CID.for_block(b"abc", codec=0x55, version=1)
    assert car_section(cid, b"abc") == bytes([36 + 3]) + cid.to_bytes() + b"abc"


def test_a_car_of_a_header_alone_has_no_blocks(tmp_path: Path):
    path = tmp_path / "h.car"
    path.write_bytes(HEADER)
    with open(path, "rb") as handle:
        reader = CarReader(handle, max_bytes=LIMIT)
        assert list(reader.blocks()) == []
