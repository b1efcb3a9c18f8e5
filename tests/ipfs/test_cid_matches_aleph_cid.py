"""Our importer agrees with aleph-cid, an independent Kubo-compatible implementation, on every size that
matters: chunk boundaries, the 174-link boundary where the DAG grows a level, random sizes, and ~50 MB.

aleph-cid offers exactly the two profiles we ship: Kubo's default (CIDv0) and ``--cid-version 1`` (raw
leaves). ``cid_version=0, raw_leaves=True`` has no independent reference here; the Kubo integration test
covers it when a node is available.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import aleph_cid
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offchain.ipfs import CHUNK_SIZE, MAX_LINKS, compute_cid

CHUNK = CHUNK_SIZE
FULL_NODE = MAX_LINKS * CHUNK
BIG = 50 * 1024 * 1024 + 12_345
MAX_OFFSET = 1000


@pytest.fixture(scope="module")
def big() -> bytes:
    """~50 MB of random bytes, made once: every test below reads a slice of it."""
    return random.Random(2024).randbytes(BIG + MAX_OFFSET)


def aleph(data: bytes, cid_version: int) -> str:
    hasher = aleph_cid.CidHasher.for_ipfs_v1_raw_leaves() if cid_version else aleph_cid.CidHasher.for_ipfs()
    hasher.update(data)
    return hasher.finalize()


@pytest.mark.parametrize("cid_version", [0, 1])
@pytest.mark.parametrize(
    "size",
    [
        0,
        1,
        2,
        1000,
        CHUNK - 1,
        CHUNK,
        CHUNK + 1,
        2 * CHUNK,
        7 * CHUNK + 3,
        FULL_NODE - 1,
        FULL_NODE,
        FULL_NODE + 1,
    ],
)
def test_boundary_sizes(size: int, cid_version: int, big: bytes) -> None:
    data = big[:size]
    assert str(compute_cid(data, cid_version)) == aleph(data, cid_version)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.one_of(
        st.integers(0, 4 * CHUNK),
        st.integers(-3, 3).map(lambda d: max(0, 2 * CHUNK + d)),
        st.integers(FULL_NODE - CHUNK, FULL_NODE + 2 * CHUNK),
    ),
    cid_version=st.sampled_from([0, 1]),
    offset=st.integers(0, MAX_OFFSET),
)
def test_random_sizes(size: int, cid_version: int, offset: int, big: bytes) -> None:
    data = big[offset : offset + size]
    assert str(compute_cid(data, cid_version)) == aleph(data, cid_version)


def test_fifty_megabyte_file_from_disk(tmp_path: Path, big: bytes) -> None:
    data = big[:BIG]
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    for cid_version in (0, 1):
        assert str(compute_cid(path, cid_version)) == aleph(data, cid_version)


@pytest.mark.parametrize("cid_version", [0, 1])
def test_cid_is_the_same_however_the_bytes_arrive(
    cid_version: int, tmp_path: Path, random_bytes: Callable[..., bytes]
) -> None:
    data = random_bytes(3 * CHUNK + 777)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    expected = compute_cid(data, cid_version)

    def odd_pieces() -> Iterator[bytes]:
        cuts = random.Random(1)
        pos = 0
        while pos < len(data):
            step = cuts.choice([1, 17, 4096, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK])
            yield data[pos : pos + step]
            pos += step

    assert compute_cid(path, cid_version) == expected
    assert compute_cid(str(path), cid_version) == expected
    with path.open("rb") as handle:
        assert compute_cid(handle, cid_version) == expected
    assert compute_cid(odd_pieces(), cid_version) == expected
    assert compute_cid(bytearray(data), cid_version) == expected
