"""Fixtures for the IPFS layer: deterministic random content, a local store, a loopback IPFS server."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from offchain.ipfs import LocalBlockStore
from tests.ipfs.fakes import FakeIpfs, LoopbackServer


@pytest.fixture
def random_bytes() -> Callable[..., bytes]:
    """``random_bytes(n)``: n pseudo-random bytes, the same on every run (seeded by n)."""

    def make(size: int, seed: int = 0) -> bytes:
        return random.Random(size * 7919 + seed).randbytes(size)

    return make


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalBlockStore]:
    with LocalBlockStore(tmp_path / "ipfs") as local:
        yield local


@pytest.fixture
def fake_ipfs() -> Iterator[LoopbackServer]:
    """A loopback server playing both a trustless gateway and a Kubo RPC node; see tests/ipfs/fakes.py."""
    with LoopbackServer(FakeIpfs()) as server:
        yield server
