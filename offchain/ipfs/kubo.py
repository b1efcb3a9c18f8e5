"""A small Kubo RPC client on httpx, for operators who run their own Kubo node.

It speaks the few endpoints the worker needs, all with POST as the RPC requires: ``add``, ``block/get``,
``block/stat``, ``pin/add`` and ``version`` (and ``dag/import`` for `tessera ipfs car import`). It trusts
the node for nothing: content is read block by block with ``block/get`` and every block is verified
(``cat`` would hand back unverified bytes), and after ``add`` the CID Kubo reports must equal the CID
computed locally for the same profile.

(``ipfshttpclient``, named in older designs, refuses every Kubo since 0.8 and is unmaintained.)
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final

import httpx

from offchain.ipfs._http import bounded_request
from offchain.ipfs.cid import CID
from offchain.ipfs.errors import CidMismatch, IpfsUnavailable
from offchain.ipfs.importer import ImportProfile, ImportResult, build
from offchain.ipfs.reader import MAX_BLOCK_BYTES, BlockReader, Clock

if TYPE_CHECKING:
    from offchain.ipfs.car import CarSummary

_SMALL_RESPONSE: Final = 1 << 20


class KuboRpcClient(BlockReader):
    """Client for a Kubo RPC API at ``api_url`` (e.g. ``http://127.0.0.1:5001``)."""

    fetch_concurrency = 8

    def __init__(
        self,
        api_url: str,
        *,
        timeout_s: float = 30.0,
        client: httpx.Client | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        """``timeout_s`` bounds each RPC call (an ``add`` of a large file may take several: it bounds each
        wait for the node, not the upload). Pass ``client`` to share a connection pool or add auth."""
        super().__init__(clock=clock)
        base = api_url.rstrip("/")
        if base.endswith("/api/v0"):
            base = base[: -len("/api/v0")]
        self.api_url = base
        self.timeout_s = timeout_s
        self._client = client or httpx.Client(follow_redirects=False)
        self._owns_client = client is None

    def describe(self) -> str:
        return f"Kubo RPC at {self.api_url}"

    def _url(self, command: str) -> str:
        return f"{self.api_url}/api/v0/{command}"

    def _call(
        self, command: str, params: dict[str, str], *, what: str, limit: int = _SMALL_RESPONSE
    ) -> bytes:
        return bounded_request(
            self._client,
            "POST",
            self._url(command),
            what=what,
            limit=limit,
            deadline=self._clock() + self.timeout_s,
            per_request_s=self.timeout_s,
            clock=self._clock,
            params=params,
            on_error_status=lambda status, detail: self._rpc_error(command, what, status, detail),
        )

    def _rpc_error(self, command: str, what: str, status: int, detail: str) -> Exception:
        message = detail
        with contextlib.suppress(ValueError, AttributeError):
            message = json.loads(detail).get("Message", detail)
        return IpfsUnavailable(f"{self.describe()}: {command} for {what} failed (HTTP {status}): {message}")

    # -- node ----------------------------------------------------------------------------------------
    def version(self) -> str:
        """The node's Kubo version (also a cheap liveness check)."""
        body = self._call("version", {}, what="the node version")
        try:
            return str(json.loads(body)["Version"])
        except (ValueError, KeyError, TypeError):
            raise IpfsUnavailable(f"{self.describe()} answered /version with {body[:200]!r}") from None

    # -- adding --------------------------------------------------------------------------------------
    def add_bytes(
        self, data: bytes, *, cid_version: int = 0, raw_leaves: bool | None = None, pin: bool = True
    ) -> CID:
        profile = ImportProfile.of(cid_version, raw_leaves)
        expected = build(data, profile)
        return self._add(data, "data", profile, expected, pin=pin)

    def add_file(
        self,
        path: str | os.PathLike[str],
        *,
        cid_version: int = 0,
        raw_leaves: bool | None = None,
        pin: bool = True,
    ) -> CID:
        path = Path(path)
        profile = ImportProfile.of(cid_version, raw_leaves)
        expected = build(path, profile)
        with open(path, "rb") as handle:
            return self._add(handle, path.name, profile, expected, pin=pin)

    def _add(
        self,
        content: bytes | IO[bytes],
        name: str,
        profile: ImportProfile,
        expected: ImportResult,
        *,
        pin: bool,
    ) -> CID:
        size = expected.filesize
        params = {
            "cid-version": str(profile.cid_version),
            "raw-leaves": _flag(profile.raw_leaves),
            "chunker": f"size-{profile.chunk_size}",
            "pin": _flag(pin),
            "quieter": "true",
            "progress": "false",
        }
        # The node answers after it has read and imported everything: allow the upload at >= 1 MiB/s.
        allowed_s = self.timeout_s + size / (1 << 20)
        body = bounded_request(
            self._client,
            "POST",
            self._url("add"),
            what=name,
            limit=_SMALL_RESPONSE,
            deadline=self._clock() + allowed_s,
            per_request_s=allowed_s,
            clock=self._clock,
            params=params,
            files={"file": (name, content, "application/octet-stream")},
            on_error_status=lambda status, detail: self._rpc_error("add", name, status, detail),
        )
        text = body.decode("utf-8", errors="replace")
        reported = _last_hash(text)
        if reported is None:
            raise IpfsUnavailable(f"{self.describe()}: add returned no CID for {name}: {text[:200]!r}")
        got = CID.parse(reported)
        if got != expected.cid:
            raise CidMismatch(
                f"{self.describe()} stored {name} as {got}, but the local importer computes {expected.cid} "
                f"({profile.describe()})",
                hint="the node's Import.* settings are not the defaults: reset them or use the local store",
            )
        return got

    def pin(self, cid: CID | str) -> None:
        cid = CID.parse(cid)
        self._call("pin/add", {"arg": str(cid)}, what=str(cid))

    def import_car(self, path: str | os.PathLike[str], *, max_bytes: int) -> CarSummary:
        """``ipfs dag import`` of the CAR at ``path``, pinning its roots. Every block is verified here
        first (`CarReader`), so the node is never sent a CAR this client would refuse."""
        from offchain.ipfs.car import CarReader, CarSummary

        path = Path(path)
        with open(path, "rb") as handle:
            car = CarReader(handle, max_bytes=max_bytes, label=str(path))
            sizes = [len(block.data) for block in car.blocks()]
        allowed_s = self.timeout_s + car.bytes_read / (1 << 20)
        with open(path, "rb") as handle:
            body = bounded_request(
                self._client,
                "POST",
                self._url("dag/import"),
                what=str(path),
                limit=_SMALL_RESPONSE,
                deadline=self._clock() + allowed_s,
                per_request_s=allowed_s,
                clock=self._clock,
                params={"pin-roots": "true"},
                files={"file": (path.name, handle, "application/vnd.ipld.car")},
                on_error_status=lambda status, text: self._rpc_error("dag/import", str(path), status, text),
            )
        pin_errors: dict[CID, str] = {}
        for line in body.decode("utf-8", errors="replace").splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
                root = json.loads(line)["Root"]
                if root.get("PinErrorMsg"):
                    pin_errors[CID.parse(root["Cid"]["/"])] = str(root["PinErrorMsg"])
        return CarSummary(car.roots, len(sizes), sum(sizes), car.bytes_read, pin_errors)

    # -- reading -------------------------------------------------------------------------------------
    def has(self, cid: CID | str) -> bool:
        """Whether the node holds the root block itself (``block/stat`` ``offline``: no network search)."""
        cid = CID.parse(cid)
        try:
            self._call("block/stat", {"arg": str(cid), "offline": "true"}, what=str(cid))
        except IpfsUnavailable:
            return False
        return True

    def _fetch_block(self, cid: CID, *, limit: int, deadline: float) -> bytes:
        return bounded_request(
            self._client,
            "POST",
            self._url("block/get"),
            what=f"block {cid}",
            limit=min(limit, MAX_BLOCK_BYTES),
            deadline=deadline,
            per_request_s=self.timeout_s,
            clock=self._clock,
            params={"arg": str(cid)},
            on_error_status=lambda status, detail: self._rpc_error("block/get", str(cid), status, detail),
        )

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _last_hash(text: str) -> str | None:
    """The ``Hash`` of the last JSON object in an ``add`` response (one object per line)."""
    found = None
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("Hash"), str):
            found = entry["Hash"]
    return found
