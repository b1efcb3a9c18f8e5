"""Job inputs kept on disk by CID, so a repeated model (or any repeated input) is not downloaded again.

``DiskCachedIpfs`` wraps the worker's IPFS backend: ``cat_to_file`` goes through a ``DiskCache``
(``model_cache``) bounded by ``TESSERA_MODEL_CACHE_DISK_MB``, least recently used first out. A CID names
immutable bytes and the backend verifies every block before a file enters the cache, so a hit is the
same bytes a fresh download would give; the job still gets its own copy (the cached file is never handed
out, so a job cannot change it). Every other call goes to the backend unchanged.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from offchain.compute.model_cache import DiskCache
from offchain.errors import InputTooLarge

if TYPE_CHECKING:
    from offchain.ipfs.backend import IpfsBackend
    from offchain.ipfs.cid import CID


class DiskCachedIpfs:
    """An ``IpfsBackend`` whose whole-file reads (``cat_to_file``) are served from a disk cache by CID."""

    def __init__(self, backend: IpfsBackend, cache: DiskCache) -> None:
        self.backend = backend
        self.cache = cache

    def cat_to_file(
        self, cid: CID | str, dest: str | os.PathLike[str], *, max_bytes: int, timeout_s: float
    ) -> int:
        """Copy the cached file of ``cid`` to ``dest`` (fetching it into the cache first on a miss)."""

        def fetch(path: Path) -> None:
            self.backend.cat_to_file(cid, path, max_bytes=max_bytes, timeout_s=timeout_s)

        cached = self.cache.get_or_add(str(cid), fetch)
        try:
            size = cached.stat().st_size
            if size > max_bytes:
                raise InputTooLarge(f"{cid} is {size:,} bytes; the limit is {max_bytes:,}")
            partial = Path(f"{os.fspath(dest)}.partial")
            shutil.copyfile(cached, partial)
            partial.replace(dest)
        except FileNotFoundError:  # evicted between the lookup and the copy: fetch it for this job alone
            return self.backend.cat_to_file(cid, dest, max_bytes=max_bytes, timeout_s=timeout_s)
        return size

    # --- everything else: the backend's own ----------------------------------------------------------
    def cat(self, cid: CID | str, *, max_bytes: int, timeout_s: float) -> bytes:
        return self.backend.cat(cid, max_bytes=max_bytes, timeout_s=timeout_s)

    def iter_content(self, cid: CID | str, *, max_bytes: int, timeout_s: float) -> Iterator[memoryview]:
        return self.backend.iter_content(cid, max_bytes=max_bytes, timeout_s=timeout_s)

    def has(self, cid: CID | str) -> bool:
        return self.backend.has(cid)

    def describe(self) -> str:
        return f"{self.backend.describe()} (inputs cached in {self.cache.root})"

    def close(self) -> None:
        self.backend.close()

    def add_bytes(
        self, data: bytes, *, cid_version: int = 0, raw_leaves: bool | None = None, pin: bool = True
    ) -> CID:
        return self.backend.add_bytes(data, cid_version=cid_version, raw_leaves=raw_leaves, pin=pin)

    def add_file(
        self,
        path: str | os.PathLike[str],
        *,
        cid_version: int = 0,
        raw_leaves: bool | None = None,
        pin: bool = True,
    ) -> CID:
        return self.backend.add_file(path, cid_version=cid_version, raw_leaves=raw_leaves, pin=pin)

    def pin(self, cid: CID | str) -> None:
        self.backend.pin(cid)


def cached_inputs(backend: IpfsBackend, cache_dir: Path, max_mb: int) -> IpfsBackend | DiskCachedIpfs:
    """``backend`` behind a disk cache of ``max_mb`` MiB under ``cache_dir`` (0: ``backend`` itself)."""
    if max_mb <= 0:
        return backend
    return DiskCachedIpfs(backend, DiskCache(cache_dir, max_mb << 20))
