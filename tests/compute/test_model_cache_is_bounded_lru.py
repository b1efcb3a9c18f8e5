"""Model caches keyed by CID: a hit skips the loader, the least recently used entry goes first, the byte
bound holds in memory and on disk, a failed load or download keeps nothing, and one CID loads once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from offchain.compute.model_cache import DiskCache, Loaded, ModelCache


def _loader(calls: list[str], cid: str, nbytes: int) -> Loaded[str]:
    calls.append(cid)
    return Loaded(f"model {cid}", nbytes)


def test_a_hit_skips_the_loader_and_the_least_recently_used_entry_is_evicted() -> None:
    cache: ModelCache[str] = ModelCache(max_bytes=100)
    calls: list[str] = []
    assert cache.get_or_load("QmA", lambda: _loader(calls, "QmA", 40)) == "model QmA"
    assert cache.get_or_load("QmB", lambda: _loader(calls, "QmB", 40)) == "model QmB"
    assert cache.get_or_load("QmA", lambda: _loader(calls, "QmA", 40)) == "model QmA"  # hit: A is recent
    cache.get_or_load("QmC", lambda: _loader(calls, "QmC", 40))  # 120 > 100: B, least recently used, goes

    assert calls == ["QmA", "QmB", "QmC"]
    assert "QmA" in cache and "QmB" not in cache and "QmC" in cache
    assert cache.bytes_used == 80 and cache.stats.hits == 1 and cache.stats.evictions == 1


def test_an_entry_larger_than_the_bound_is_returned_but_not_kept() -> None:
    evicted: list[str] = []
    cache: ModelCache[str] = ModelCache(max_bytes=100, on_evict=lambda cid, _: evicted.append(cid))
    calls: list[str] = []
    cache.get_or_load("QmA", lambda: _loader(calls, "QmA", 60))
    assert cache.get_or_load("QmHuge", lambda: _loader(calls, "QmHuge", 101)) == "model QmHuge"
    assert "QmHuge" not in cache and "QmA" in cache and cache.stats.uncached == 1 and evicted == []
    cache.clear()
    assert evicted == ["QmA"] and cache.bytes_used == 0 and len(cache) == 0


def test_a_failing_loader_caches_nothing() -> None:
    cache: ModelCache[str] = ModelCache(max_bytes=100)

    def broken() -> Loaded[str]:
        raise RuntimeError("E_UNSAFE_MODEL: refused")

    with pytest.raises(RuntimeError, match="refused"):
        cache.get_or_load("QmA", broken)
    assert "QmA" not in cache and cache.bytes_used == 0
    assert cache.get_or_load("QmA", lambda: Loaded("model", 10)) == "model"


def test_two_threads_asking_for_one_cid_load_it_once() -> None:
    cache: ModelCache[str] = ModelCache(max_bytes=100)
    calls: list[str] = []

    def slow() -> Loaded[str]:
        time.sleep(0.2)
        return _loader(calls, "QmA", 10)

    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_load("QmA", slow))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == ["QmA"] and results == ["model QmA", "model QmA"]


def test_the_disk_cache_keeps_produced_files_lru_within_its_bound(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "models", max_bytes=100)
    produced: list[str] = []

    def produce(cid: str, size: int) -> Callable[[Path], None]:
        def write(path: Path) -> None:
            produced.append(cid)
            path.write_bytes(b"x" * size)

        return write

    a = cache.get_or_add("QmA", produce("QmA", 40))
    cache.get_or_add("QmB", produce("QmB", 40))
    time.sleep(0.01)
    assert cache.get_or_add("QmA", produce("QmA", 40)) == a  # hit: A becomes the most recent
    cache.get_or_add("QmC", produce("QmC", 40))

    assert produced == ["QmA", "QmB", "QmC"]
    assert sorted(path.name for path in (tmp_path / "models").iterdir()) == ["QmA", "QmC"]
    assert cache.bytes_used() == 80 and cache.stats.hits == 1 and cache.stats.evictions == 1


def test_a_failed_download_leaves_no_file_and_a_bad_key_is_refused(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "models", max_bytes=100)

    def broken(path: Path) -> None:
        path.write_bytes(b"half")
        raise OSError("the download broke off")

    with pytest.raises(OSError, match="broke off"):
        cache.get_or_add("QmA", broken)
    assert list((tmp_path / "models").iterdir()) == []
    with pytest.raises(ValueError, match="is not a CID"):
        cache.get_or_add("../../etc/passwd", broken)
