"""The Kubo-compatible UnixFS importer: bytes in, dag-pb blocks and a root CID out.

It reproduces ``ipfs add`` with Kubo's defaults: a fixed-size chunker of 262 144 bytes, the balanced DAG
layout with at most 174 links per node, and either CIDv0 with dag-pb UnixFS leaves (the default) or CIDv1
with raw leaves (``--cid-version 1``). A file of one chunk is its own root; an empty file is a single empty
leaf.

The builder is push-style and streams: leaves are hashed as soon as a chunk is full and only the pending
links of the current path through the tree are kept (at most 174 small records per level), so memory stays
bounded however large the input. When no block sink is attached (`compute_cid`), leaves are hashed in
place without copying the data into a block.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, NamedTuple

from offchain.ipfs.cid import CID, DAG_PB, RAW, SHA2_256, SHA2_256_LEN
from offchain.ipfs.dagpb import encode_link, encode_node, encode_unixfs_file, leaf_envelope

CHUNK_SIZE: Final = 262_144
"""Kubo's default chunker, ``size-262144``."""
MAX_LINKS: Final = 174
"""Kubo's default maximum number of links in one balanced-layout node."""

_MH_PREFIX: Final = bytes((SHA2_256, SHA2_256_LEN))
_FEED_SIZE: Final = 16 * CHUNK_SIZE

Source = bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO | Iterable[bytes]
"""What the importer reads: bytes in memory, a file path, a binary file object, or an iterable of bytes."""


@dataclass(frozen=True, slots=True)
class ImportProfile:
    """The importer settings that change a CID. `ImportProfile.of` applies Kubo's implication rules."""

    cid_version: int = 0
    raw_leaves: bool = False
    chunk_size: int = CHUNK_SIZE
    max_links: int = MAX_LINKS

    def __post_init__(self) -> None:
        if self.cid_version not in (0, 1):
            raise ValueError(f"cid_version must be 0 or 1, got {self.cid_version}")
        if not 1 <= self.chunk_size <= 1 << 20:
            raise ValueError(f"chunk_size must be between 1 and 1 MiB, got {self.chunk_size}")
        if self.max_links < 2:
            raise ValueError(f"max_links must be at least 2, got {self.max_links}")

    @classmethod
    def of(cls, cid_version: int = 0, raw_leaves: bool | None = None) -> ImportProfile:
        """Kubo's rule: ``--cid-version 1`` implies raw leaves unless ``raw_leaves`` is given explicitly.

        With ``cid_version=0, raw_leaves=True`` the leaves are CIDv1 raw blocks under CIDv0 parents, as in
        Kubo (a raw block cannot have a v0 CID).
        """
        return cls(cid_version, cid_version == 1 if raw_leaves is None else raw_leaves)

    def describe(self) -> str:
        leaves = "raw leaves" if self.raw_leaves else "dag-pb leaves"
        return f"CIDv{self.cid_version}, {leaves}, chunks of {self.chunk_size}, {self.max_links} links/node"


class Block(NamedTuple):
    """One block to store: its CID and its exact bytes."""

    cid: CID
    data: bytes


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The root of an import: ``cid``, ``filesize`` (content bytes) and ``dag_size`` (all blocks' bytes)."""

    cid: CID
    filesize: int
    dag_size: int
    blocks: int


class _Link(NamedTuple):
    cid: CID
    tsize: int  # bytes of the child block plus everything under it (dag-pb Tsize)
    filesize: int  # content bytes under the child (UnixFS blocksizes entry)


class DagBuilder:
    """Push-style importer. Call `write` with bytes of any size, then `finish` once for the root.

    ``sink`` receives every block (children before parents; the root last). Without a sink only hashes are
    computed, which is what `compute_cid` uses.
    """

    def __init__(self, profile: ImportProfile | None = None, sink: Callable[[Block], None] | None = None):
        self._profile = profile or ImportProfile()
        self._sink = sink
        self._buffer = bytearray()
        self._levels: list[list[_Link]] = [[]]
        self._filesize = 0
        self._blocks = 0
        self._leaves = 0
        self._finished = False
        chunk = self._profile.chunk_size
        self._full_envelope = leaf_envelope(chunk)
        self._full_tsize = chunk + len(self._full_envelope[0]) + len(self._full_envelope[1])

    @property
    def profile(self) -> ImportProfile:
        return self._profile

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._finished:
            raise RuntimeError("DagBuilder.write after finish")
        view = memoryview(data).cast("B")
        chunk = self._profile.chunk_size
        self._filesize += len(view)
        if self._buffer:
            need = chunk - len(self._buffer)
            self._buffer += view[:need]
            view = view[need:]
            if len(self._buffer) < chunk:
                return
            self._leaf(bytes(self._buffer))
            self._buffer.clear()
        start, end = 0, len(view)
        while end - start >= chunk:
            self._leaf(view[start : start + chunk])
            start += chunk
        if start < end:
            self._buffer += view[start:]

    def finish(self) -> ImportResult:
        if self._finished:
            raise RuntimeError("DagBuilder.finish called twice")
        self._finished = True
        if self._buffer or self._leaves == 0:
            self._leaf(bytes(self._buffer))
            self._buffer.clear()
        levels = self._levels
        level = 0
        while True:
            entries = levels[level]
            is_top = not any(levels[level + 1 :])
            if is_top and len(entries) == 1:
                root = entries[0]
                break
            if entries:
                levels[level] = []
                self._push(level + 1, self._parent(entries))
            level += 1
        return ImportResult(root.cid, self._filesize, root.tsize, self._blocks)

    # -- internals -----------------------------------------------------------------------------------
    def _leaf(self, chunk: bytes | memoryview) -> None:
        size = len(chunk)
        self._leaves += 1
        sink = self._sink
        if self._profile.raw_leaves:
            data = bytes(chunk) if sink is not None else chunk
            cid = CID(1, RAW, _MH_PREFIX + hashlib.sha256(data).digest())
            tsize = size
            if sink is not None:
                assert isinstance(data, bytes)
                sink(Block(cid, data))
        else:
            if size == self._profile.chunk_size:
                prefix, suffix = self._full_envelope
            else:
                prefix, suffix = leaf_envelope(size)
            tsize = len(prefix) + size + len(suffix)
            if sink is not None:
                block = b"".join((prefix, chunk, suffix))
                digest = hashlib.sha256(block).digest()
            else:
                hasher = hashlib.sha256(prefix)
                hasher.update(chunk)
                hasher.update(suffix)
                digest = hasher.digest()
            cid = CID(self._profile.cid_version, DAG_PB, _MH_PREFIX + digest)
            if sink is not None:
                sink(Block(cid, block))
        self._blocks += 1
        self._push(0, _Link(cid, tsize, size))

    def _push(self, level: int, link: _Link) -> None:
        levels = self._levels
        if level == len(levels):
            levels.append([])
        entries = levels[level]
        entries.append(link)
        if len(entries) == self._profile.max_links:
            levels[level] = []
            self._push(level + 1, self._parent(entries))

    def _parent(self, children: list[_Link]) -> _Link:
        filesizes = [child.filesize for child in children]
        filesize = sum(filesizes)
        links = [encode_link(child.cid.to_bytes(), child.tsize) for child in children]
        block = encode_node(links, encode_unixfs_file(filesize, filesizes))
        cid = CID(self._profile.cid_version, DAG_PB, _MH_PREFIX + hashlib.sha256(block).digest())
        self._blocks += 1
        if self._sink is not None:
            self._sink(Block(cid, block))
        return _Link(cid, len(block) + sum(child.tsize for child in children), filesize)


# --- convenience entry points ---------------------------------------------------------------------------
def iter_source(source: Source, *, read_size: int = _FEED_SIZE) -> Iterator[bytes | memoryview]:
    """Yield the bytes of ``source`` in pieces, reading files incrementally (never the whole file)."""
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source).cast("B")
        if len(view) == 0:
            return
        for start in range(0, len(view), read_size):
            yield view[start : start + read_size]
        return
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as handle:
            yield from _read_file(handle, read_size)
        return
    if isinstance(source, io.IOBase) or hasattr(source, "readinto") or hasattr(source, "read"):
        yield from _read_file(source, read_size)  # type: ignore[arg-type]
        return
    for piece in source:
        if not isinstance(piece, bytes | bytearray | memoryview):
            raise TypeError(f"an iterable source must yield bytes, got {type(piece).__name__}")
        yield piece


def _read_file(handle: BinaryIO, read_size: int) -> Iterator[bytes | memoryview]:
    readinto = getattr(handle, "readinto", None)
    if readinto is None:
        while piece := handle.read(read_size):
            yield piece
        return
    buffer = bytearray(read_size)
    view = memoryview(buffer)
    while n := readinto(view):
        yield view[:n]  # consumed (hashed or copied) before the next read overwrites it


def build(
    source: Source, profile: ImportProfile, sink: Callable[[Block], None] | None = None
) -> ImportResult:
    """Import ``source`` with ``profile``, handing every block to ``sink``; return the root."""
    builder = DagBuilder(profile, sink)
    for piece in iter_source(source):
        builder.write(piece)
    return builder.finish()


def compute_cid(source: Source, cid_version: int = 0, raw_leaves: bool | None = None) -> CID:
    """The CID ``ipfs add`` (Kubo defaults, or ``--cid-version 1``) gives ``source``, computed locally.

    ``source`` is bytes, a path (``str`` or `os.PathLike`), a binary file object or an iterable of bytes.
    """
    return build(source, ImportProfile.of(cid_version, raw_leaves)).cid


def import_blocks(source: Source, cid_version: int = 0, raw_leaves: bool | None = None) -> Iterator[Block]:
    """Yield every block of ``source``'s DAG as it is built; the last block yielded is the root.

    Blocks come out while the source is still being read, so a caller that stores them as they arrive
    holds no more than a few chunks in memory.
    """
    pending: list[Block] = []
    builder = DagBuilder(ImportProfile.of(cid_version, raw_leaves), pending.append)
    for piece in iter_source(source):
        builder.write(piece)
        yield from pending
        pending.clear()
    builder.finish()
    yield from pending


def as_path(source: Source) -> Path | None:
    """The path ``source`` names, if it is a path."""
    return Path(source) if isinstance(source, str | os.PathLike) else None
