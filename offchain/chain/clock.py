"""Chain time between blocks: the newest head's timestamp plus the local time elapsed since it was seen.

Contract deadlines are block timestamps, and a chain's time need not be the machine's: a Hardhat node ran
28-29 s ahead of the wall clock after a burst of blocks, and `evm_increaseTime` moves a dev chain by hours.
So the worker judges deadlines on `ChainClock.now()`:

    now = timestamp(newest head seen) + (monotonic now - monotonic when that head was first seen)

It costs no request: the log poller reads the head block on every poll anyway and hands it to `observe`
(the worker also observes the head once at start-up). The answer never goes backwards (chain time does
not, and a new head whose timestamp lags the running estimate, e.g. a block built a moment before it
was seen, does not pull it back). Error bounds: the estimate lags by the age the head block already had
when first seen (at most one block interval plus one poll interval on a live chain).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any


class ChainTimeUnknown(RuntimeError):
    """`ChainClock.now()` was asked before any head block was observed (a wiring bug, not an input)."""


class ChainClock:
    """See the module docstring. Thread-safe; ``ticks`` is the monotonic source (injected by tests)."""

    def __init__(self, *, ticks: Callable[[], float] = time.monotonic) -> None:
        self._ticks = ticks
        self._lock = threading.Lock()
        self._head: int | None = None  # the newest head's number
        self._anchor: tuple[float, float] | None = None  # (its timestamp, ticks when first seen)
        self._floor = 0.0  # the last answer: never go below it

    def observe(self, number: int, timestamp: int) -> None:
        """Record head ``number`` with its block ``timestamp``; a head already seen changes nothing (the
        elapsed time counts from when it was first seen)."""
        with self._lock:
            if number == self._head:
                return
            if self._anchor is not None:
                self._floor = max(self._floor, self._estimate())
            self._head = number
            self._anchor = (float(timestamp), self._ticks())

    def observe_block(self, block: Mapping[str, Any]) -> int:
        """`observe` a block as the node's JSON (hex ``number`` and ``timestamp``); returns its number."""
        number = int(block["number"], 16)
        self.observe(number, int(block["timestamp"], 16))
        return number

    def now(self) -> float:
        """The chain's current time in seconds (a block timestamp scale); `ChainTimeUnknown` before any
        head was observed."""
        with self._lock:
            if self._anchor is None:
                raise ChainTimeUnknown("chain time asked before any head block was observed")
            self._floor = max(self._floor, self._estimate())
            return self._floor

    @property
    def head(self) -> int | None:
        """The newest head number observed (None before any)."""
        return self._head

    def _estimate(self) -> float:
        timestamp, seen = self._anchor  # type: ignore[misc]
        return timestamp + max(0.0, self._ticks() - seen)
