"""CAR files (Content Addressable aRchives): a DAG's blocks in one stream, as ``ipfs dag export`` writes
them and ``ipfs dag import`` and trustless-gateway clients read them (https://ipld.io/specs/transport/car/).

A CARv1 is a varint-prefixed DAG-CBOR header ``{"roots": [CID, ...], "version": 1}``, then one section per
block: ``varint(len(cid) + len(block)) cid block``.

* Writing: `iter_car` / `export_car` walk the DAG under a root depth-first, each block once
  (`offchain.ipfs.dag`: the order Kubo writes), verifying every block as it is read, within a byte limit
  on the whole CAR and a time limit on the whole walk.
* Reading: `CarReader` checks the framing and every block against its CID before handing it out; a block
  that does not match is `CarBlockMismatch`, bad framing is `MalformedCar`, and nothing is read past
  ``max_bytes``. CARv2 files (a CARv1 payload behind a fixed header, written by other tools) are read too.
* `import_car` stores the verified blocks in a `LocalBlockStore` and pins each root whose DAG is complete.
  A refused CAR pins nothing; the blocks stored before the bad one are verified, so keeping them is safe.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final, Literal

from offchain.errors import ConfigError, TesseraError
from offchain.ipfs.backend import IpfsBackend
from offchain.ipfs.cid import CID, decode_varint, encode_varint
from offchain.ipfs.dag import walk
from offchain.ipfs.dagcbor import decode as decode_cbor
from offchain.ipfs.dagcbor import encode as encode_cbor
from offchain.ipfs.errors import CidMismatch, InputTooLarge, InvalidCid, IpfsTimeout, IpfsUnavailable
from offchain.ipfs.importer import Block
from offchain.ipfs.local import LocalBlockStore
from offchain.ipfs.reader import MAX_BLOCK_BYTES, BlockReader

CAR_MEDIA_TYPE: Final = "application/vnd.ipld.car"
MAX_HEADER_BYTES: Final = 1 << 20
"""A header holds the roots: a megabyte is thousands of them."""
MAX_SECTION_BYTES: Final = MAX_BLOCK_BYTES + 128
"""A section is one CID (under 100 bytes for sha2-256) and one block, at most 2 MiB as Kubo allows."""
CARV2_PRAGMA: Final = bytes.fromhex("0aa16776657273696f6e02")
"""The 11 bytes a CARv2 starts with: varint(10) and the DAG-CBOR header ``{"version": 2}``."""
_CARV2_HEADER_BYTES: Final = 40

Scope = Literal["all", "block"]
Clock = Callable[[], float]


class MalformedCar(TesseraError):
    """A CAR whose framing or header does not parse (bad varint, truncated section, wrong version...)."""

    code = "E_CAR_MALFORMED"
    default_hint = "the file is not a CAR (CARv1 or CARv2); export it again with `tessera ipfs car export`"


class CarBlockMismatch(CidMismatch):
    """A CAR block whose bytes do not hash to the CID written before it: the CAR is refused."""

    code = "E_CAR_BLOCK_MISMATCH"
    default_hint = "the CAR is corrupt or forged; get it again from a source you trust, or export it anew"


class IncompleteDag(TesseraError):
    """A CAR root whose DAG is not all there (in the CAR or already in the store): it cannot be pinned."""

    code = "E_CAR_INCOMPLETE"
    default_hint = "import a CAR with the whole DAG (`ipfs dag export` writes one), or add the missing blocks"


# --- writing --------------------------------------------------------------------------------------------
def car_header(roots: list[CID]) -> bytes:
    """The varint-prefixed CARv1 header naming ``roots``."""
    header = encode_cbor({"roots": list(roots), "version": 1})
    return encode_varint(len(header)) + header


def car_section(cid: CID, block: bytes) -> bytes:
    raw_cid = cid.to_bytes()
    return encode_varint(len(raw_cid) + len(block)) + raw_cid + block


def iter_car(
    reader: BlockReader,
    root: CID | str,
    *,
    max_bytes: int,
    timeout_s: float,
    scope: Scope = "all",
    dups: bool = False,
    clock: Clock = time.monotonic,
    on_block: Callable[[CID, bytes], None] | None = None,
) -> Iterator[bytes]:
    """The CARv1 of the DAG under ``root`` in pieces; the first piece is the header and the root's section,
    so a missing or bad root fails before any byte is produced. ``scope="block"`` stops after the root's
    block; ``dups`` repeats blocks linked more than once. `InputTooLarge` past ``max_bytes`` of CAR,
    `IpfsTimeout` past ``timeout_s`` for the whole walk; ``on_block`` sees each block written."""
    root = CID.parse(root)
    deadline = clock() + timeout_s

    def get(cid: CID) -> bytes:
        left = deadline - clock()
        if left <= 0:
            raise IpfsTimeout(f"ran out of time exporting the DAG under {root} (at block {cid})")
        return reader.get_block(cid, timeout_s=left)

    pending = car_header([root])
    total = len(pending)
    for cid, block in walk(get, root, dups=dups):
        section = car_section(cid, block)
        total += len(section)
        if total > max_bytes:
            raise InputTooLarge(f"the CAR of {root} is over the limit of {max_bytes} bytes")
        if on_block is not None:
            on_block(cid, block)
        yield pending + section
        pending = b""
        if scope == "block":
            return


@dataclass(frozen=True, slots=True)
class CarSummary:
    """What a CAR held or what was written: its roots, how many blocks and how many bytes of blocks."""

    roots: tuple[CID, ...]
    blocks: int
    block_bytes: int
    car_bytes: int = 0
    pin_errors: dict[CID, str] = field(default_factory=dict)


def export_car(
    reader: BlockReader,
    root: CID | str,
    dest: str | os.PathLike[str],
    *,
    max_bytes: int,
    timeout_s: float,
) -> CarSummary:
    """Write the CARv1 of the DAG under ``root`` to ``dest`` (atomically: a temporary file renamed at the
    end, so a failed export leaves no partial CAR)."""
    root = CID.parse(root)
    dest = Path(dest)
    sizes: list[int] = []

    def count(_: CID, block: bytes) -> None:
        sizes.append(len(block))

    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            for piece in iter_car(reader, root, max_bytes=max_bytes, timeout_s=timeout_s, on_block=count):
                handle.write(piece)
            car_bytes = handle.tell()
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return CarSummary((root,), len(sizes), sum(sizes), car_bytes)


# --- reading --------------------------------------------------------------------------------------------
class CarReader:
    """A CAR read from ``stream`` with every block verified; see the module docstring.

    ``roots`` (and ``version``, 1 or 2) are read on construction; `blocks` yields the verified blocks once,
    in file order.
    """

    def __init__(self, stream: BinaryIO, *, max_bytes: int, label: str = "the CAR") -> None:
        self._stream = stream
        self._left = max_bytes
        self._max_bytes = max_bytes
        self._label = label
        self._data_left: int | None = None  # CARv2: bytes of the CARv1 payload not yet read
        self.version = 1
        self.roots = self._read_header()

    @property
    def bytes_read(self) -> int:
        return self._max_bytes - self._left

    # -- framing -------------------------------------------------------------------------------------
    def _read(self, size: int, what: str) -> bytes:
        if size > self._left:
            raise InputTooLarge(f"{self._label} is over the limit of {self._max_bytes} bytes")
        if self._data_left is not None:
            if size > self._data_left:
                raise MalformedCar(f"{what} runs past the end of the CARv2 data payload")
            self._data_left -= size
        data = self._stream.read(size)
        if len(data) != size:
            raise MalformedCar(f"{self._label} ends inside {what} ({len(data)} of {size} bytes)")
        self._left -= size
        return data

    def _varint(self, what: str, *, eof_ok: bool = False) -> int | None:
        raw = bytearray()
        while True:
            if self._data_left == 0:
                if eof_ok and not raw:
                    return None
                raise MalformedCar(f"{what} runs past the end of the CARv2 data payload")
            byte = self._stream.read(1)
            if not byte:
                if eof_ok and not raw:
                    return None
                raise MalformedCar(f"{self._label} ends inside {what}")
            if self._left <= 0:
                raise InputTooLarge(f"{self._label} is over the limit of {self._max_bytes} bytes")
            self._left -= 1
            if self._data_left is not None:
                self._data_left -= 1
            raw += byte
            if byte[0] < 0x80:
                return decode_varint(bytes(raw))[0]
            if len(raw) >= 9:
                raise MalformedCar(f"{what} is not a varint of at most 63 bits")

    def _read_header(self, *, inner: bool = False) -> tuple[CID, ...]:
        length = self._varint("the header length")
        assert length is not None
        if length == 0 or length > MAX_HEADER_BYTES:
            raise MalformedCar(f"{self._label} announces a {length}-byte header (1 to {MAX_HEADER_BYTES})")
        header = decode_cbor(self._read(length, "the header"), label=f"the header of {self._label}")
        if not isinstance(header, dict):
            raise MalformedCar(f"the header of {self._label} is not a map")
        if header.get("version") == 2 and encode_varint(length) + encode_cbor(header) == CARV2_PRAGMA:
            if inner:
                raise MalformedCar(f"{self._label} nests a CARv2 inside a CARv2")
            return self._read_v2_header()
        if header.get("version") != 1:
            raise MalformedCar(f"{self._label} is CAR version {header.get('version')!r}; only 1 and 2 exist")
        roots = header.get("roots")
        if not isinstance(roots, list) or not all(isinstance(root, CID) for root in roots):
            raise MalformedCar(f"the header of {self._label} has no list of root CIDs")
        return tuple(roots)  # type: ignore[arg-type]

    def _read_v2_header(self) -> tuple[CID, ...]:
        fixed = self._read(_CARV2_HEADER_BYTES, "the CARv2 header")
        data_offset = int.from_bytes(fixed[16:24], "little")
        data_size = int.from_bytes(fixed[24:32], "little")
        skip = data_offset - len(CARV2_PRAGMA) - _CARV2_HEADER_BYTES
        if skip < 0:
            raise MalformedCar(f"the CARv2 data payload of {self._label} starts inside its header")
        while skip:
            skip -= len(self._read(min(skip, 1 << 16), "the padding before the CARv2 payload"))
        self.version = 2
        self._data_left = data_size
        return self._read_header(inner=True)

    # -- blocks --------------------------------------------------------------------------------------
    def blocks(self) -> Iterator[Block]:
        """Every block in file order, each verified against its CID before it is yielded."""
        index = 0
        while True:
            length = self._varint(f"the length of section {index}", eof_ok=True)
            if length is None:
                return
            if length == 0 or length > MAX_SECTION_BYTES:
                raise MalformedCar(
                    f"section {index} of {self._label} is {length} bytes (1 to {MAX_SECTION_BYTES} allowed)"
                )
            section = self._read(length, f"section {index}")
            cid, data = self._split(section, index)
            if not cid.verify(data):
                actual = CID.for_block(data, codec=cid.codec, version=cid.version)
                raise CarBlockMismatch(
                    f"block {index} of {self._label} is named {cid}, but its {len(data)} bytes hash to "
                    f"{actual}"
                )
            yield Block(cid, data)
            index += 1

    def _split(self, section: bytes, index: int) -> tuple[CID, bytes]:
        """The CID at the start of a section and the block after it."""
        try:
            if section[:2] == b"\x12\x20":  # a CIDv0 is a bare sha2-256 multihash
                end = 34
            else:
                _version, pos = decode_varint(section)
                _codec, pos = decode_varint(section, pos)
                _hash, pos = decode_varint(section, pos)
                digest_len, pos = decode_varint(section, pos)
                end = pos + digest_len
            if end > len(section):
                raise ValueError("the CID runs past the section")
            return CID.from_bytes(section[:end]), section[end:]
        except ValueError as exc:
            raise MalformedCar(f"section {index} of {self._label} starts with no CID ({exc})") from None
        except InvalidCid as exc:
            raise MalformedCar(
                f"section {index} of {self._label} names a CID this store cannot verify: {exc.message}",
                hint="only sha2-256 CIDs (Kubo's default) can be imported",
            ) from None


def import_car(
    store: LocalBlockStore,
    stream: BinaryIO,
    *,
    max_bytes: int,
    pin_roots: bool = True,
    timeout_s: float = 60.0,
    label: str = "the CAR",
) -> CarSummary:
    """Store every block of the CAR in ``stream`` (each verified first) and pin its roots whose DAG is now
    complete in the store; a root that is not is listed in ``pin_errors`` (as Kubo's ``PinErrorMsg``)."""
    car = CarReader(stream, max_bytes=max_bytes, label=label)
    blocks = block_bytes = 0
    for block in car.blocks():
        store.put_block(block)
        blocks += 1
        block_bytes += len(block.data)
    pin_errors: dict[CID, str] = {}
    if pin_roots:
        for root in car.roots:
            missing = first_missing(store, root, timeout_s=timeout_s)
            if missing is None:
                store.pin(root)
            else:
                pin_errors[root] = f"the DAG under {root} is incomplete: block {missing} is missing"
    return CarSummary(car.roots, blocks, block_bytes, car_bytes=car.bytes_read, pin_errors=pin_errors)


def first_missing(store: LocalBlockStore, root: CID, *, timeout_s: float) -> CID | None:
    """The first block (in DAG order) under ``root`` that the store lacks, or None when the DAG is whole."""
    deadline = time.monotonic() + timeout_s
    missing: list[CID] = []

    def get(cid: CID) -> bytes:
        if not store.has(cid):
            missing.append(cid)
            raise IpfsUnavailable(f"block {cid} is not in {store.describe()}")
        return store.get_block(cid, timeout_s=max(deadline - time.monotonic(), 0.001))

    try:
        for _ in walk(get, root):
            pass
    except IpfsUnavailable:
        return missing[-1] if missing else root
    return None


def import_car_file(
    backend: IpfsBackend, path: str | os.PathLike[str], *, max_bytes: int, timeout_s: float
) -> CarSummary:
    """Import the CAR at ``path`` into ``backend``: the local store (verified block by block), or a Kubo
    node (verified here first, then sent to its ``dag/import``); a gateway cannot store, so it is refused."""
    if isinstance(backend, LocalBlockStore):
        with open(path, "rb") as handle:
            return import_car(backend, handle, max_bytes=max_bytes, timeout_s=timeout_s, label=str(path))
    # A Kubo node: `KuboRpcClient.import_car` (looked up, not imported: kubo.py imports this module).
    node_import = getattr(backend, "import_car", None)
    if node_import is not None:
        return node_import(path, max_bytes=max_bytes)
    raise ConfigError(
        f"{backend.describe()} cannot store a CAR",
        hint="set TESSERA_IPFS to 'local' or a Kubo RPC URL to import",
    )
