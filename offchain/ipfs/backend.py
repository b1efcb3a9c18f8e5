"""The interface every IPFS backend offers the worker: `IpfsReader` for fetching, `IpfsBackend` for storing.

Reads are always verified and bounded: ``max_bytes`` caps the content, ``timeout_s`` the whole read. Adds
return the CID computed locally by the Kubo-compatible importer, so a CID never depends on trusting a
remote node.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from offchain.ipfs.cid import CID


@runtime_checkable
class IpfsReader(Protocol):
    """Fetch content by CID, verifying every block."""

    def cat(self, cid: CID | str, *, max_bytes: int, timeout_s: float) -> bytes:
        """The file's bytes; `InputTooLarge` past ``max_bytes``, `IpfsTimeout` past ``timeout_s``."""
        ...

    def iter_content(self, cid: CID | str, *, max_bytes: int, timeout_s: float) -> Iterator[memoryview]:
        """The file's bytes in order, as read-only views into verified blocks, within the same bounds."""
        ...

    def cat_to_file(
        self, cid: CID | str, dest: str | os.PathLike[str], *, max_bytes: int, timeout_s: float
    ) -> int:
        """Stream the file to ``dest`` (atomically: a temporary file renamed on success); return its size."""
        ...

    def has(self, cid: CID | str) -> bool:
        """Whether the source can serve the root block of ``cid`` now (not a check of the whole DAG)."""
        ...

    def describe(self) -> str:
        """The store's path or the node's URL, for messages and logs."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class IpfsBackend(IpfsReader, Protocol):
    """A reader that can also store and pin content."""

    def add_bytes(
        self, data: bytes, *, cid_version: int = 0, raw_leaves: bool | None = None, pin: bool = True
    ) -> CID:
        """Store ``data`` and return the CID ``ipfs add`` gives it under the same profile."""
        ...

    def add_file(
        self,
        path: str | os.PathLike[str],
        *,
        cid_version: int = 0,
        raw_leaves: bool | None = None,
        pin: bool = True,
    ) -> CID:
        """Store the file at ``path`` (streamed, never read whole into memory) and return its CID."""
        ...

    def pin(self, cid: CID | str) -> None:
        """Keep ``cid`` and everything under it from garbage collection."""
        ...
