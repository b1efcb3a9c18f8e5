"""The embedded block store: the default backend, a directory of content-addressed blocks, no daemon.

Layout under ``root``::

    blocks/<shard>/<key>   one file per block; <key> is the base32 multihash, <shard> its next-to-last two
                           characters (as Kubo's flatfs does), so CIDv0 and CIDv1 of a block share a file
    pins/<cid>             an empty file per pinned root (nothing is collected yet; a pin records intent)

Every block is written to a temporary file in its shard and renamed into place, so a reader never sees a
half-written block; reads verify every block's hash, so a block damaged on disk is reported, not used.
Optionally a `GatewayReader` (or any `BlockReader`) serves blocks that are missing locally; they are
verified and then kept.
"""

from __future__ import annotations

import base64
import os
import tempfile
import time
from pathlib import Path

from offchain.ipfs.cid import CID
from offchain.ipfs.errors import CidMismatch, InputTooLarge, IpfsUnavailable
from offchain.ipfs.importer import Block, ImportProfile, ImportResult, Source, build
from offchain.ipfs.reader import BlockReader, Clock, verify_block


class LocalBlockStore(BlockReader):
    """Blocks in a directory; see the module docstring for the layout and guarantees."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        fallback: BlockReader | None = None,
        fsync: bool = False,
        clock: Clock = time.monotonic,
    ) -> None:
        """``fallback`` serves blocks missing here (they are verified, then stored). ``fsync`` makes every
        block durable before it is renamed into place (slower; without it a crash can lose recent blocks,
        which later reads detect as missing or mismatched, never as wrong content)."""
        super().__init__(clock=clock)
        self.root = Path(root)
        self._blocks = self.root / "blocks"
        self._pins = self.root / "pins"
        self._fallback = fallback
        # Local reads gain nothing measurable from threads; a gateway behind the store wants blocks in flight.
        self.fetch_concurrency = 1 if fallback is None else fallback.fetch_concurrency
        self._fsync = fsync
        self._known_dirs: set[Path] = set()

    def describe(self) -> str:
        return f"local block store {self.root}"

    @property
    def fallback(self) -> BlockReader | None:
        """Where blocks missing here are fetched from (a gateway), if anywhere."""
        return self._fallback

    # -- layout --------------------------------------------------------------------------------------
    def block_path(self, cid: CID | str) -> Path:
        key = base64.b32encode(CID.parse(cid).multihash).decode("ascii").rstrip("=").lower()
        return self._blocks / key[-3:-1] / key

    # -- writing -------------------------------------------------------------------------------------
    def put_block(self, block: Block) -> None:
        """Store one block (atomically). A block already present with the right size is left alone."""
        path = self.block_path(block.cid)
        try:
            if path.stat().st_size == len(block.data):
                return
        except FileNotFoundError:
            pass
        self._write_atomic(path, block.data)

    def _write_atomic(self, path: Path, data: bytes) -> None:
        parent = path.parent
        if parent not in self._known_dirs:
            parent.mkdir(parents=True, exist_ok=True)
            self._known_dirs.add(parent)
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if self._fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        if self._fsync:
            dir_fd = os.open(parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def import_source(self, source: Source, profile: ImportProfile) -> ImportResult:
        """Import ``source`` with ``profile``, storing each block as it is produced."""
        return build(source, profile, self.put_block)

    def add_bytes(
        self, data: bytes, *, cid_version: int = 0, raw_leaves: bool | None = None, pin: bool = True
    ) -> CID:
        root = self.import_source(data, ImportProfile.of(cid_version, raw_leaves)).cid
        if pin:
            self.pin(root)
        return root

    def add_file(
        self,
        path: str | os.PathLike[str],
        *,
        cid_version: int = 0,
        raw_leaves: bool | None = None,
        pin: bool = True,
    ) -> CID:
        root = self.import_source(Path(path), ImportProfile.of(cid_version, raw_leaves)).cid
        if pin:
            self.pin(root)
        return root

    def pin(self, cid: CID | str) -> None:
        cid = CID.parse(cid)
        if not self.has(cid):
            raise IpfsUnavailable(
                f"cannot pin {cid}: its root block is not in {self.describe()}",
                hint="add the content first (or fetch it with cat), then pin it",
            )
        path = self._pins / str(cid)
        if not path.exists():
            self._write_atomic(path, b"")

    def pins(self) -> list[CID]:
        if not self._pins.is_dir():
            return []
        return sorted(
            (CID.parse(p.name) for p in self._pins.iterdir() if not p.name.startswith(".")), key=str
        )

    # -- reading -------------------------------------------------------------------------------------
    def has(self, cid: CID | str) -> bool:
        return self.block_path(cid).is_file()

    def _fetch_block(self, cid: CID, *, limit: int, deadline: float) -> bytes:
        path = self.block_path(cid)
        try:
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size > limit:
                    raise InputTooLarge(f"block {cid} at {path} is {size} bytes, over the limit of {limit}")
                block = handle.read()
        except FileNotFoundError:
            if self._fallback is None:
                raise IpfsUnavailable(
                    f"block {cid} is not in {self.describe()}",
                    hint="add the content first, or set TESSERA_IPFS=gateway:<URL> to fetch missing blocks",
                ) from None
            block = self._fallback._fetch_block(cid, limit=limit, deadline=deadline)
            verify_block(cid, block, self._fallback.describe())
            self._write_atomic(path, block)
        return block

    def _mismatch(self, cid: CID, block: bytes) -> CidMismatch:
        path = self.block_path(cid)
        return CidMismatch(
            f"block {cid} stored at {path} is damaged (its bytes no longer hash to the CID)",
            hint=f"delete {path} and add or fetch the content again",
        )

    def close(self) -> None:
        if self._fallback is not None:
            close = getattr(self._fallback, "close", None)
            if close is not None:
                close()
