"""Inputs are kept on disk by CID: a second job naming the same CID gets its own copy without a download,
the cache stays within its bound, and a cached file larger than the job's limit is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from offchain.compute.cache_inputs import DiskCachedIpfs, cached_inputs
from offchain.compute.model_cache import DiskCache
from offchain.errors import InputTooLarge
from offchain.ipfs.local import LocalBlockStore


class CountingStore(LocalBlockStore):
    """The embedded store, counting the whole-file reads that reach it."""

    fetches: int = 0

    def cat_to_file(self, cid, dest, *, max_bytes: int, timeout_s: float) -> int:  # noqa: ANN001
        self.fetches += 1
        return super().cat_to_file(cid, dest, max_bytes=max_bytes, timeout_s=timeout_s)


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    return CountingStore(tmp_path / "ipfs")


def test_a_repeated_cid_is_copied_from_the_cache_without_a_download(
    store: CountingStore, tmp_path: Path
) -> None:
    model = os.urandom(200_000)
    cid = store.add_bytes(model)
    ipfs = DiskCachedIpfs(store, DiskCache(tmp_path / "cache", max_bytes=1 << 20))

    for job in ("job-1", "job-2"):
        dest = tmp_path / job / "model"
        dest.parent.mkdir()
        assert ipfs.cat_to_file(cid, dest, max_bytes=1 << 20, timeout_s=10) == len(model)
        assert dest.read_bytes() == model
    assert store.fetches == 1 and ipfs.cache.stats.hits == 1

    (tmp_path / "job-2" / "model").write_bytes(b"changed by the job")  # the job's copy, not the cache's
    dest = tmp_path / "job-3-model"
    ipfs.cat_to_file(cid, dest, max_bytes=1 << 20, timeout_s=10)
    assert dest.read_bytes() == model and store.fetches == 1


def test_the_cache_keeps_within_its_bound_and_refuses_what_exceeds_the_job_limit(
    store: CountingStore, tmp_path: Path
) -> None:
    ipfs = DiskCachedIpfs(store, DiskCache(tmp_path / "cache", max_bytes=250_000))
    cids = [store.add_bytes(os.urandom(100_000)) for _ in range(3)]
    for i, cid in enumerate(cids):
        ipfs.cat_to_file(cid, tmp_path / f"in-{i}", max_bytes=1 << 20, timeout_s=10)
    assert ipfs.cache.bytes_used() <= 250_000 and ipfs.cache.stats.evictions == 1

    with pytest.raises(InputTooLarge, match="the limit is 50,000"):
        ipfs.cat_to_file(cids[2], tmp_path / "small", max_bytes=50_000, timeout_s=10)
    assert not (tmp_path / "small").exists()


def test_a_zero_sized_disk_cache_is_no_cache(store: CountingStore, tmp_path: Path) -> None:
    assert cached_inputs(store, tmp_path / "cache", 0) is store
    wrapped = cached_inputs(store, tmp_path / "cache", 1)
    assert isinstance(wrapped, DiskCachedIpfs) and wrapped.cache.max_bytes == 1 << 20
    assert wrapped.has(store.add_bytes(b"x")) and "inputs cached in" in wrapped.describe()
