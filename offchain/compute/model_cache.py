"""Model caches keyed by CID, bounded by bytes, least recently used first out.

A CID names immutable bytes, so a cached entry never goes stale: the only questions are what to keep and
for how long. Two tiers, one policy:

* ``ModelCache`` holds loaded models in memory: ``get_or_load(cid, loader)`` returns the cached value or
  calls ``loader`` (which returns the value and the bytes it holds), then evicts the least recently used
  entries until the total fits ``max_bytes``. An entry larger than the whole bound is returned uncached.
  With warm executors it lives in each zygote: a job child forked after the load shares the model's pages
  copy-on-write, so a repeated model skips validation and ``torch.export.load``.
* ``DiskCache`` keeps files (validated archives) under one folder, named by CID: ``get_or_add(cid,
  produce)`` returns the cached path or lets ``produce`` write a new file (download, verify, validate: a
  file enters the cache only when ``produce`` returns), and evicts the least recently used files past
  ``max_bytes`` (never the file just added, which may overshoot the bound until the next addition).
  Recency is the file's mtime, so it survives restarts.

Both are thread-safe; two threads asking for one missing CID load it once.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")

_SAFE_KEY = re.compile(r"[A-Za-z0-9]{1,128}")


@dataclass(frozen=True, slots=True)
class Loaded(Generic[T]):
    """What a loader returns: the value and the bytes it holds (what the cache's bound counts)."""

    value: T
    nbytes: int


@dataclass(slots=True)
class CacheStats:
    """Counts since the cache was made: hits, misses (loads), evictions, and entries too large to keep."""

    hits: int = 0
    misses: int = 0
    evictions: int = 0
    uncached: int = 0


class ModelCache(Generic[T]):
    """Loaded models by CID in memory, LRU, bounded by ``max_bytes`` (0: cache nothing)."""

    def __init__(self, max_bytes: int, *, on_evict: Callable[[str, T], None] | None = None) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._on_evict = on_evict
        self._entries: OrderedDict[str, Loaded[T]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def __contains__(self, cid: object) -> bool:
        with self._lock:
            return cid in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get_or_load(self, cid: str, loader: Callable[[], Loaded[T]]) -> T:
        """The model for ``cid``, loaded by ``loader`` on a miss (a loader's exception caches nothing)."""
        with self._lock:
            hit = self._hit(cid)
            if hit is not None:
                return hit.value
            key_lock = self._loading.setdefault(cid, threading.Lock())
        with key_lock:  # one load per CID at a time; a second asker waits, then hits
            with self._lock:
                hit = self._hit(cid)
                if hit is not None:
                    return hit.value
            try:
                loaded = loader()
            finally:
                with self._lock:
                    self._loading.pop(cid, None)
            if loaded.nbytes < 0:
                raise ValueError(f"the loader of {cid} reported {loaded.nbytes} bytes")
            with self._lock:
                self.stats.misses += 1
                if loaded.nbytes > self.max_bytes:
                    self.stats.uncached += 1
                    return loaded.value
                self._entries[cid] = loaded
                self._bytes += loaded.nbytes
                evicted = self._evict_past(self.max_bytes)
        for key, entry in evicted:
            if self._on_evict is not None:
                self._on_evict(key, entry.value)
        return loaded.value

    def clear(self) -> None:
        with self._lock:
            evicted = self._evict_past(0)
        for key, entry in evicted:
            if self._on_evict is not None:
                self._on_evict(key, entry.value)

    def _hit(self, cid: str) -> Loaded[T] | None:
        entry = self._entries.get(cid)
        if entry is not None:
            self._entries.move_to_end(cid)
            self.stats.hits += 1
        return entry

    def _evict_past(self, limit: int) -> list[tuple[str, Loaded[T]]]:
        evicted = []
        while self._bytes > limit and self._entries:
            key, entry = self._entries.popitem(last=False)
            self._bytes -= entry.nbytes
            self.stats.evictions += 1
            evicted.append((key, entry))
        return evicted


class DiskCache:
    """Files by CID under ``root``, LRU by mtime, bounded by ``max_bytes`` on disk."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}

    def get_or_add(self, cid: str, produce: Callable[[Path], None]) -> Path:
        """The cached file of ``cid``; on a miss ``produce(path)`` writes it (raising: nothing is kept).

        The returned path may be evicted by a later call: copy or open it before adding other files.
        """
        path = self._path(cid)
        with self._lock:
            key_lock = self._loading.setdefault(cid, threading.Lock())
        with key_lock:
            if path.is_file():
                os.utime(path)  # most recently used
                with self._lock:
                    self._loading.pop(cid, None)
                    self.stats.hits += 1
                return path
            self.root.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f".{path.name}.{threading.get_ident()}.partial")
            try:
                produce(partial)
                partial.replace(path)
            finally:
                partial.unlink(missing_ok=True)
            with self._lock:
                self._loading.pop(cid, None)
                self.stats.misses += 1
                self._evict(keep=path)
        return path

    def bytes_used(self) -> int:
        return sum(entry.stat().st_size for entry in self._files())

    def _evict(self, keep: Path) -> None:
        files = sorted(self._files(), key=lambda entry: entry.stat().st_mtime_ns)
        total = sum(entry.stat().st_size for entry in files)
        for entry in files:
            if total <= self.max_bytes:
                break
            if entry == keep:  # never the file just added (even one larger than the bound): it is returned
                continue
            total -= entry.stat().st_size
            entry.unlink(missing_ok=True)
            self.stats.evictions += 1

    def _files(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return [entry for entry in self.root.iterdir() if entry.is_file() and not entry.name.startswith(".")]

    def _path(self, cid: str) -> Path:
        if _SAFE_KEY.fullmatch(cid) is None:
            raise ValueError(f"{cid[:80]!r} is not a CID (letters and digits only)")
        return self.root / cid
