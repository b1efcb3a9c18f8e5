"""Importing never holds the file: memory stays at a few chunks however large the input."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

from offchain.ipfs import CHUNK_SIZE, compute_cid, import_blocks

TOTAL = 48 * 1024 * 1024
PIECE = 1024 * 1024
# The generator itself holds ~3 pieces at a time; the importer may add a few chunks. Holding the file
# (or even one level of leaf blocks) would pass TOTAL.
BOUND = 4 * PIECE + 8 * CHUNK_SIZE


def pieces() -> Iterator[bytes]:
    block = bytes(range(256)) * (PIECE // 256)
    for i in range(TOTAL // PIECE):
        yield block[i:] + block[:i]


def test_compute_cid_streams() -> None:
    tracemalloc.start()
    try:
        compute_cid(pieces())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < BOUND, f"peak {peak} bytes while importing {TOTAL}"


def test_import_blocks_yields_while_reading() -> None:
    tracemalloc.start()
    try:
        stored = 0
        for block in import_blocks(pieces(), 1):
            stored += len(block.data)  # a store would write it out here
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored >= TOTAL
    assert peak < BOUND, f"peak {peak} bytes while importing {TOTAL}"
