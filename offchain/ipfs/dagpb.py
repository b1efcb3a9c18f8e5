"""Hand-written protobuf coding of dag-pb nodes (PBNode/PBLink) and UnixFS ``Data`` messages.

Encoding reproduces byte for byte what Kubo writes, so that hashes agree:

* PBNode: every Link (field 2) first, then Data (field 1), as the dag-pb spec's canonical form requires.
* PBLink: Hash (1), Name (2, written even when empty), Tsize (3).
* UnixFS Data: Type (1), Data (2, omitted when absent), filesize (3), blocksizes (4, one unpacked varint
  per child).

Decoding is lenient about field order (any valid protobuf is read) but strict about wire types and bounds:
the input is untrusted until its hash is checked, and even then it was written by someone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from offchain.ipfs.cid import CID, decode_varint, encode_varint
from offchain.ipfs.errors import MalformedDag

# UnixFS Data.DataType
UNIXFS_RAW: Final = 0
UNIXFS_DIRECTORY: Final = 1
UNIXFS_FILE: Final = 2
UNIXFS_METADATA: Final = 3
UNIXFS_SYMLINK: Final = 4
UNIXFS_HAMT_SHARD: Final = 5

UNIXFS_TYPE_NAMES: Final = {
    UNIXFS_RAW: "raw",
    UNIXFS_DIRECTORY: "directory",
    UNIXFS_FILE: "file",
    UNIXFS_METADATA: "metadata",
    UNIXFS_SYMLINK: "symlink",
    UNIXFS_HAMT_SHARD: "HAMT shard",
}

_WIRE_VARINT: Final = 0
_WIRE_I64: Final = 1
_WIRE_LEN: Final = 2
_WIRE_I32: Final = 5


@dataclass(frozen=True, slots=True)
class PBLink:
    cid: CID
    tsize: int
    name: str = ""


@dataclass(frozen=True, slots=True)
class PBNode:
    links: tuple[PBLink, ...]
    data: memoryview | None  # a view into the block: no copy


@dataclass(frozen=True, slots=True)
class UnixfsData:
    type: int
    data: memoryview | None = None
    filesize: int | None = None
    blocksizes: tuple[int, ...] = field(default_factory=tuple)


# --- encoding -------------------------------------------------------------------------------------------
def _len_field(tag: int, payload: bytes) -> bytes:
    return bytes((tag,)) + encode_varint(len(payload)) + payload


def encode_link(link_cid: bytes, tsize: int, name: bytes = b"") -> bytes:
    """One encoded PBLink message (without the outer field tag): Hash, Name, Tsize."""
    return _len_field(0x0A, link_cid) + _len_field(0x12, name) + b"\x18" + encode_varint(tsize)


def encode_node(encoded_links: list[bytes], data: bytes | None) -> bytes:
    """A PBNode from already-encoded links, in canonical order (Links, then Data)."""
    parts = [_len_field(0x12, link) for link in encoded_links]
    if data is not None:
        parts.append(_len_field(0x0A, data))
    return b"".join(parts)


def encode_unixfs_file(filesize: int, blocksizes: list[int]) -> bytes:
    """UnixFS Data of an inner File node: Type=File, no Data, filesize, one blocksizes entry per child."""
    parts = [b"\x08\x02\x18", encode_varint(filesize)]
    for size in blocksizes:
        parts.append(b"\x20")
        parts.append(encode_varint(size))
    return b"".join(parts)


def leaf_envelope(size: int) -> tuple[bytes, bytes]:
    """The bytes before and after ``size`` bytes of file data in a dag-pb UnixFS File leaf.

    ``prefix + data + suffix`` is the leaf block; hashing the three pieces in turn avoids copying the data.
    The empty leaf (an empty file) has no Data field at all, only ``filesize = 0``.
    """
    size_varint = encode_varint(size)
    if size == 0:
        unixfs_head, unixfs_tail = b"\x08\x02\x18\x00", b""
    else:
        unixfs_head = b"\x08\x02\x12" + size_varint
        unixfs_tail = b"\x18" + size_varint
    unixfs_len = len(unixfs_head) + size + len(unixfs_tail)
    return b"\x0a" + encode_varint(unixfs_len) + unixfs_head, unixfs_tail


# --- decoding -------------------------------------------------------------------------------------------
def _fields(buf: bytes | memoryview, what: str) -> list[tuple[int, int, int | memoryview]]:
    """Split a protobuf message into ``(field_number, wire_type, value)``; bytes values stay views."""
    view = memoryview(buf)
    out: list[tuple[int, int, int | memoryview]] = []
    pos = 0
    end = len(view)
    try:
        while pos < end:
            key, pos = decode_varint(view, pos)
            number, wire = key >> 3, key & 7
            if number == 0:
                raise ValueError("field number 0")
            if wire == _WIRE_VARINT:
                value, pos = decode_varint(view, pos)
                out.append((number, wire, value))
            elif wire == _WIRE_LEN:
                length, pos = decode_varint(view, pos)
                if pos + length > end:
                    raise ValueError("length-delimited field runs past the end")
                out.append((number, wire, view[pos : pos + length]))
                pos += length
            elif wire in (_WIRE_I64, _WIRE_I32):
                pos += 8 if wire == _WIRE_I64 else 4
                if pos > end:
                    raise ValueError("fixed-width field runs past the end")
            else:
                raise ValueError(f"unsupported wire type {wire}")
    except ValueError as exc:
        raise MalformedDag(f"cannot decode {what}: {exc}") from None
    return out


def decode_node(block: bytes | memoryview, *, label: str = "dag-pb block") -> PBNode:
    links: list[PBLink] = []
    data: memoryview | None = None
    for number, wire, value in _fields(block, label):
        if number == 2 and wire == _WIRE_LEN:
            assert isinstance(value, memoryview)
            links.append(_decode_link(value, label))
        elif number == 1 and wire == _WIRE_LEN:
            assert isinstance(value, memoryview)
            data = value
        else:
            raise MalformedDag(f"{label}: unexpected field {number} (wire type {wire}) in a dag-pb node")
    return PBNode(tuple(links), data)


def _decode_link(buf: memoryview, label: str) -> PBLink:
    link_cid: CID | None = None
    name = ""
    tsize = 0
    for number, wire, value in _fields(buf, f"a link in {label}"):
        if number == 1 and wire == _WIRE_LEN:
            assert isinstance(value, memoryview)
            link_cid = CID.from_bytes(value)
        elif number == 2 and wire == _WIRE_LEN:
            assert isinstance(value, memoryview)
            name = bytes(value).decode("utf-8", errors="replace")
        elif number == 3 and wire == _WIRE_VARINT:
            assert isinstance(value, int)
            tsize = value
        else:
            raise MalformedDag(f"{label}: unexpected field {number} in a dag-pb link")
    if link_cid is None:
        raise MalformedDag(f"{label}: a dag-pb link has no Hash")
    return PBLink(link_cid, tsize, name)


def decode_unixfs(buf: bytes | memoryview, *, label: str = "UnixFS data") -> UnixfsData:
    kind: int | None = None
    data: memoryview | None = None
    filesize: int | None = None
    blocksizes: list[int] = []
    for number, wire, value in _fields(buf, label):
        if number == 1 and wire == _WIRE_VARINT:
            assert isinstance(value, int)
            kind = value
        elif number == 2 and wire == _WIRE_LEN:
            assert isinstance(value, memoryview)
            data = value
        elif number == 3 and wire == _WIRE_VARINT:
            assert isinstance(value, int)
            filesize = value
        elif number == 4 and wire == _WIRE_VARINT:
            assert isinstance(value, int)
            blocksizes.append(value)
        elif number == 4 and wire == _WIRE_LEN:  # packed encoding, written by some other implementations
            assert isinstance(value, memoryview)
            pos = 0
            try:
                while pos < len(value):
                    size, pos = decode_varint(value, pos)
                    blocksizes.append(size)
            except ValueError as exc:
                raise MalformedDag(f"{label}: bad packed blocksizes ({exc})") from None
        # Other fields (hashType, fanout, mode, mtime) do not change a file's bytes: ignore them.
    if kind is None:
        raise MalformedDag(f"{label}: UnixFS data has no Type")
    return UnixfsData(kind, data, filesize, tuple(blocksizes))
