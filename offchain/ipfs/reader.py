"""Verified reading of a UnixFS file: walk its DAG block by block, checking every block against its CID.

`BlockReader` is the base of every backend. A backend supplies one primitive, ``_fetch_block`` (return the
bytes some source claims for a CID, within a byte limit and a deadline); everything else is done here, once:
hash verification, the UnixFS walk, size limits (the root's declared filesize is checked before any data is
fetched), a budget on the total bytes fetched so a DAG of empty nodes cannot run forever, consistency of the
declared sizes, and writing to a file atomically.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Self

from offchain.ipfs.cid import CID, DAG_PB, RAW
from offchain.ipfs.dagpb import (
    UNIXFS_FILE,
    UNIXFS_RAW,
    UNIXFS_TYPE_NAMES,
    decode_node,
    decode_unixfs,
)
from offchain.ipfs.errors import (
    CidMismatch,
    InputTooLarge,
    IpfsTimeout,
    MalformedDag,
    NotAFile,
)

MAX_BLOCK_BYTES: Final = 2 << 20
"""No block is read beyond 2 MiB (Kubo refuses blocks over 2 MiB; its importer writes at most ~256 KiB)."""
MAX_DEPTH: Final = 32
"""174**32 leaves is far beyond any real file: a deeper DAG is an attack, not a file."""

Clock = Callable[[], float]


def fetch_budget(max_bytes: int) -> tuple[int, int]:
    """``(bytes, blocks)`` a walk may fetch for ``max_bytes`` of content: the content plus DAG overhead.

    Kubo's default DAG adds well under 1 % in bytes and one block per 256 KiB; even a 1 KiB chunker adds
    about 6 % and one block per KiB. The floors let small files with a few inner nodes through. Counting
    blocks as well as bytes stops a DAG of tiny or empty nodes early.
    """
    budget = max_bytes + max(max_bytes // 4, 1 << 20)
    return budget, 64 + budget // 1024


def verify_block(cid: CID, block: bytes, source: str) -> bytes:
    """Return ``block`` if it hashes to ``cid``, else raise `CidMismatch` naming the source."""
    if not cid.verify(block):
        raise mismatch(cid, block, source)
    return block


def mismatch(cid: CID, block: bytes, source: str) -> CidMismatch:
    actual = CID.for_block(block, codec=cid.codec, version=cid.version)
    return CidMismatch(f"{source} returned {len(block)} bytes for {cid} that hash to {actual}")


class BlockReader:
    """Base class: verified `get_block`, `iter_content`, `cat` and `cat_to_file` over ``_fetch_block``.

    ``fetch_concurrency`` is how many blocks ahead a read fetches at once (1: one at a time). A backend whose
    ``_fetch_block`` is safe to call from several threads raises it.
    """

    fetch_concurrency: int = 1

    def __init__(self, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock

    # -- the one primitive a backend supplies --------------------------------------------------------
    def _fetch_block(self, cid: CID, *, limit: int, deadline: float) -> bytes:
        """Return the bytes this source holds for ``cid`` (unverified). Raise `IpfsUnavailable` when it
        has none, `InputTooLarge` past ``limit`` bytes and `IpfsTimeout` past ``deadline``."""
        raise NotImplementedError

    def describe(self) -> str:
        """Where blocks come from, for error messages (a path or a URL)."""
        return type(self).__name__

    def close(self) -> None:
        """Release connections; a backend without any keeps this no-op."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _mismatch(self, cid: CID, block: bytes) -> CidMismatch:
        """The error for a block that does not hash to its CID; a backend may say more (a file path)."""
        return mismatch(cid, block, self.describe())

    # -- verified access -----------------------------------------------------------------------------
    def get_block(self, cid: CID | str, *, timeout_s: float, max_bytes: int = MAX_BLOCK_BYTES) -> bytes:
        """One block, verified against ``cid``."""
        cid = CID.parse(cid)
        return self._verified(cid, limit=max_bytes, deadline=self._clock() + timeout_s)

    def _verified(self, cid: CID, *, limit: int, deadline: float) -> bytes:
        if self._clock() >= deadline:
            raise IpfsTimeout(f"ran out of time before fetching block {cid} from {self.describe()}")
        block = self._fetch_block(cid, limit=limit, deadline=deadline)
        if len(block) > limit:
            raise InputTooLarge(f"block {cid} from {self.describe()} is larger than {limit} bytes")
        if not cid.verify(block):
            raise self._mismatch(cid, block)
        return block

    def iter_content(self, cid: CID | str, *, max_bytes: int, timeout_s: float) -> Iterator[memoryview]:
        """Yield the file's bytes in order, each piece a read-only view into a verified block (no copies;
        ``bytes(piece)`` keeps one).

        Raises `InputTooLarge` as soon as the declared or actual size passes ``max_bytes``, `IpfsTimeout`
        when ``timeout_s`` (for the whole read) runs out, `CidMismatch` on a block that does not hash to its
        CID, `NotAFile` for a directory, and `MalformedDag` when the DAG's declared sizes lie.
        """
        root = CID.parse(cid)
        walk = _Walk(self, root, max_bytes=max_bytes, deadline=self._clock() + timeout_s)
        return walk.run()

    def cat(self, cid: CID | str, *, max_bytes: int, timeout_s: float) -> bytes:
        """The whole file in memory (at most ``max_bytes``), every block verified."""
        return b"".join(self.iter_content(cid, max_bytes=max_bytes, timeout_s=timeout_s))

    def cat_to_file(
        self, cid: CID | str, dest: str | os.PathLike[str], *, max_bytes: int, timeout_s: float
    ) -> int:
        """Stream the file to ``dest`` (written to a temporary file, renamed on success); return its size."""
        dest = Path(dest)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        written = 0
        try:
            with os.fdopen(fd, "wb") as handle:
                for piece in self.iter_content(cid, max_bytes=max_bytes, timeout_s=timeout_s):
                    handle.write(piece)
                    written += len(piece)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return written


@dataclass(slots=True)
class _Pending:
    """A block the walk will visit: its CID, the content size its parent declares, its depth, and the fetch
    already under way for it (when prefetching)."""

    cid: CID
    expected: int | None
    depth: int
    future: Future[bytes] | None = None


class _Walk:
    """One depth-first walk of a UnixFS file DAG, with its size and time budget.

    With ``reader.fetch_concurrency > 1`` the next few blocks in reading order are fetched and verified on
    worker threads while the current one is handed out (hashing releases the GIL; network fetches overlap
    their round trips). Counting and limits stay on the calling thread.
    """

    def __init__(self, reader: BlockReader, root: CID, *, max_bytes: int, deadline: float) -> None:
        self.reader = reader
        self.root = root
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.budget, self.max_blocks = fetch_budget(max_bytes)
        self.fetched = 0
        self.blocks = 0
        self.produced = 0

    def _too_large(self, extra: str = "") -> InputTooLarge:
        source = self.reader.describe()
        return InputTooLarge(f"{self.root} from {source} is over the limit of {self.max_bytes} bytes{extra}")

    def _limit(self, entry: _Pending) -> int:
        """Count one more block and return how many bytes it may have."""
        self.blocks += 1
        if self.blocks > self.max_blocks:
            raise self._too_large(f" (its DAG needs more than {self.max_blocks} blocks)")
        limit = min(MAX_BLOCK_BYTES, self.budget - self.fetched)
        if limit <= 0:
            raise self._too_large(f" (its DAG holds more than {self.budget} bytes of blocks)")
        if entry.cid.codec == RAW:  # a raw block is exactly its content
            limit = min(limit, self.max_bytes if entry.expected is None else entry.expected)
        return limit

    def _fetch(self, cid: CID, limit: int) -> bytes:
        try:
            return self.reader._verified(cid, limit=limit, deadline=self.deadline)
        except InputTooLarge as err:
            # Keep the source's own account (a gateway that streams without end says so): the cause of a
            # refusal is recorded with the job, and "the local store" alone would hide which source it was.
            raise self._too_large(f" (block {cid} would pass it: {err.message})") from None

    def _block(self, entry: _Pending) -> bytes:
        if entry.future is None:
            block = self._fetch(entry.cid, self._limit(entry))
        else:
            wait_s = self.deadline - self.reader._clock()
            try:
                if wait_s <= 0:
                    raise TimeoutError
                block = entry.future.result(timeout=wait_s)
            except TimeoutError:
                raise IpfsTimeout(
                    f"ran out of time waiting for block {entry.cid} from {self.reader.describe()}"
                ) from None
        self.fetched += len(block)
        if self.fetched > self.budget:
            raise self._too_large(f" (its DAG holds more than {self.budget} bytes of blocks)")
        return block

    def _emit(self, piece: memoryview) -> memoryview:
        self.produced += len(piece)
        if self.produced > self.max_bytes:
            raise self._too_large()
        return piece

    def run(self) -> Iterator[memoryview]:
        stack = [_Pending(self.root, None, 0)]  # the top is the next block in reading order
        window = self.reader.fetch_concurrency
        pool: ThreadPoolExecutor | None = None
        try:
            while stack:
                if window > 1 and len(stack) > 1:
                    if pool is None:
                        pool = ThreadPoolExecutor(window, thread_name_prefix="ipfs-fetch")
                    for ahead in reversed(stack[-window:]):
                        if ahead.future is None:
                            ahead.future = pool.submit(self._fetch, ahead.cid, self._limit(ahead))
                yield from self._visit(stack.pop(), stack)
        finally:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)

    def _visit(self, entry: _Pending, stack: list[_Pending]) -> Iterator[memoryview]:
        cid, expected = entry.cid, entry.expected
        if entry.depth > MAX_DEPTH:
            raise MalformedDag(f"{self.root}: the DAG is deeper than {MAX_DEPTH} levels at {cid}")
        block = self._block(entry)
        if cid.codec == RAW:
            if expected is not None and expected != len(block):
                raise MalformedDag(
                    f"{self.root}: raw block {cid} holds {len(block)} bytes, its parent says {expected}"
                )
            if block:
                yield self._emit(memoryview(block))
            return
        if cid.codec != DAG_PB:
            raise NotAFile(f"{cid} is a {cid.codec_name} block, not a UnixFS file (dag-pb or raw)")
        try:
            node = decode_node(block)
            if node.data is None:
                raise MalformedDag("a dag-pb node without UnixFS data")
            unixfs = decode_unixfs(node.data)
        except MalformedDag as exc:
            raise MalformedDag(f"{self.root}: block {cid}: {exc.message}") from None
        if unixfs.type not in (UNIXFS_FILE, UNIXFS_RAW):
            kind = UNIXFS_TYPE_NAMES.get(unixfs.type, f"type {unixfs.type}")
            raise NotAFile(f"{cid} is a UnixFS {kind}, not a file")
        inline = unixfs.data if unixfs.data is not None else memoryview(b"")
        if len(unixfs.blocksizes) != len(node.links):
            raise MalformedDag(
                f"{self.root}: node {cid} has {len(node.links)} links but {len(unixfs.blocksizes)} sizes"
            )
        size = len(inline) + sum(unixfs.blocksizes)
        if unixfs.filesize is not None and unixfs.filesize != size:
            raise MalformedDag(f"{self.root}: node {cid} declares {unixfs.filesize} bytes but holds {size}")
        if expected is None and size > self.max_bytes:
            raise InputTooLarge(
                f"{self.root} from {self.reader.describe()} is {size} bytes, over the limit of "
                f"{self.max_bytes} bytes"
            )
        if expected is not None and expected != size:
            raise MalformedDag(f"{self.root}: node {cid} holds {size} bytes, its parent says {expected}")
        if inline:
            yield self._emit(inline)
        for link, child_size in zip(reversed(node.links), reversed(unixfs.blocksizes), strict=True):
            stack.append(_Pending(link.cid, child_size, entry.depth + 1))
