"""Log ingestion: bounded `eth_getLogs` ranges from a persisted cursor, with confirmations and reorg rewind.

Each `LogPoller.poll`:

1. reads the head block (its number, and its timestamp for the `ChainClock` when one is given) and scans
   only up to ``head - confirmations``;
2. checks the stored hash of the cursor block against the chain; on a mismatch (or a chain now shorter
   than the cursor) walks the stored hashes down to the newest block the chain still agrees on, rewinds
   the cursor there and reports a `Reorg` (agreement at block n implies agreement below it);
3. fetches ``[from, to]`` ranges of at most ``range`` blocks; a range the node refuses as too large (or a
   result set too big) is halved and retried, never below one block; the range grows back towards
   ``max_range`` after a run of successes;
4. reads the hash of ``to`` before and after each `eth_getLogs`: if it changed, a reorg raced the query
   and the range is fetched again;
5. hands the logs not delivered before (by (block hash, log index)) to the caller's handler, and only
   after the handler returns stores the block hashes, the delivered keys and the new cursor in one write.

A crash inside the handler leaves the cursor where it was, so handlers must be idempotent (the ledger's
inserts and compare-and-swap transitions are).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.types import LogReceipt

from offchain.chain.clock import ChainClock
from offchain.chain.rpc import raw_block

log = logging.getLogger(__name__)

# Phrases nodes and hosted RPCs use when a range or its result is too big (Infura, Alchemy, QuickNode,
# geth/reth "query returned more than 10000 results", anvil's "block range too large" style errors).
RANGE_ERROR_PHRASES = (
    "range",
    "too many",
    "more than",
    "limit",
    "exceed",
    "too large",
    "response size",
    "query timeout",
    "results",
)
RANGE_ERROR_CODES = frozenset({-32005, -32602, -32614})


class CursorStore(Protocol):
    """Where a poller keeps its position (`offchain.chain.store.ChainStore` implements it)."""

    def cursor(self, name: str) -> int | None: ...

    def block_hashes(self, name: str) -> dict[int, bytes]: ...

    def unseen(self, keys: Iterable[tuple[bytes, int]]) -> set[tuple[bytes, int]]: ...

    def advance_cursor(
        self,
        name: str,
        to_block: int,
        hashes: dict[int, bytes],
        delivered: Iterable[tuple[bytes, int, int]],
        keep: int,
    ) -> None: ...

    def rewind_cursor(self, name: str, to_block: int) -> None: ...


@dataclass(frozen=True)
class Reorg:
    """The chain replaced blocks after ``ancestor``; the cursor moved back from ``old_cursor`` to it."""

    old_cursor: int
    ancestor: int


@dataclass(frozen=True)
class PollResult:
    head: int
    scanned_to: int  # the cursor after this poll
    delivered: int  # logs handed to the handler
    reorg: Reorg | None


class RangeTooLarge(Exception):
    """The node refused a log query for its size, even for a single block."""


def is_range_error(err: Exception) -> bool:
    """Whether an `eth_getLogs` failure means 'ask for less'."""
    code = None
    message = str(err)
    response = getattr(err, "rpc_response", None)
    if isinstance(response, dict) and isinstance(response.get("error"), dict):
        code = response["error"].get("code")
        message = str(response["error"].get("message", message))
    elif err.args and isinstance(err.args[0], dict):
        code = err.args[0].get("code")
        message = str(err.args[0].get("message", message))
    lowered = message.lower()
    return code in RANGE_ERROR_CODES or any(p in lowered for p in RANGE_ERROR_PHRASES)


class LogPoller:
    """Incremental, reorg-aware `eth_getLogs` over ``addresses``; see the module docstring."""

    def __init__(
        self,
        w3: Web3,
        store: CursorStore,
        *,
        addresses: Sequence[str],
        start_block: int,
        confirmations: int = 1,
        max_range: int = 2_000,
        history: int = 256,
        grow_after: int = 8,
        name: str = "tessera",
        clock: ChainClock | None = None,
    ) -> None:
        """``start_block``: first block scanned when the store has no cursor yet. ``history``: block hashes
        kept for reorg detection (reorgs deeper than this rescan everything remembered). ``clock``: fed
        every head this poller reads (chain time for deadlines, at no extra request)."""
        if max_range < 1:
            raise ValueError("max_range must be at least 1")
        self.w3 = w3
        self.store = store
        self.addresses = [Web3.to_checksum_address(a) for a in addresses]
        self.start_block = start_block
        self.confirmations = confirmations
        self.max_range = max_range
        self.range = max_range
        self.history = history
        self.grow_after = grow_after
        self.name = name
        self.clock = clock
        self._successes = 0
        self._idle_head: int | None = None  # the head of the last poll that found nothing new

    @property
    def cursor(self) -> int:
        """The last block fully handled."""
        stored = self.store.cursor(self.name)
        return self.start_block - 1 if stored is None else stored

    def poll(
        self,
        handle: Callable[[list[LogReceipt]], None],
        *,
        on_reorg: Callable[[Reorg], None] | None = None,
        max_blocks: int | None = None,
    ) -> PollResult:
        """Deliver every confirmed, not yet delivered log up to the safe head (or ``max_blocks`` past the
        cursor) to ``handle``, in chain order, one range at a time."""
        head = self._read_head()
        if head == self._idle_head:
            # no new block since a poll that found nothing: skip the reorg check (a reorg that keeps the
            # height is seen with the next block; what the worker commits to is checked on its own)
            return PollResult(head=head, scanned_to=self.cursor, delivered=0, reorg=None)
        reorg = self._check_reorg(head)
        if reorg is not None:
            log.warning(
                "chain reorganised: rewound the log cursor from block %d to %d",
                reorg.old_cursor,
                reorg.ancestor,
            )
            if on_reorg is not None:
                on_reorg(reorg)
        safe = head - self.confirmations
        if max_blocks is not None:
            safe = min(safe, self.cursor + max_blocks)
        start = self.cursor + 1
        delivered = 0
        while start <= safe:
            end = min(safe, start + self.range - 1)
            fetched = self._fetch(start, end)
            if fetched is None:
                continue  # range shrank or the chain moved under the query: try again
            logs, end_hash = fetched
            keys = [(bytes(HexBytes(lg["blockHash"])), int(lg["logIndex"])) for lg in logs]
            fresh_keys = self.store.unseen(keys)
            fresh = [lg for lg, k in zip(logs, keys, strict=True) if k in fresh_keys]
            if fresh:
                handle(fresh)
            hashes = {end: end_hash}
            for lg, k in zip(logs, keys, strict=True):
                hashes[int(lg["blockNumber"])] = k[0]
            self.store.advance_cursor(
                self.name,
                end,
                hashes,
                [(k[0], k[1], int(lg["blockNumber"])) for lg, k in zip(logs, keys, strict=True)],
                keep=self.history,
            )
            delivered += len(fresh)
            start = end + 1
        caught_up = reorg is None and delivered == 0 and self.cursor >= head - self.confirmations
        self._idle_head = head if caught_up else None
        return PollResult(head=head, scanned_to=self.cursor, delivered=delivered, reorg=reorg)

    # ------------------------------------------------------------------ internals
    def _read_head(self) -> int:
        """The head's number, one request (the block, not just its number: the clock wants its time)."""
        latest = raw_block(self.w3, "latest")
        if latest is None:
            raise Web3RPCError("eth_getBlockByNumber(latest) returned no block")
        if self.clock is not None:
            return self.clock.observe_block(latest)
        return int(latest["number"], 16)

    def _block_hash(self, number: int) -> bytes | None:
        return block_hash(self.w3, number)

    def _check_reorg(self, head: int) -> Reorg | None:
        cursor = self.cursor
        stored = self.store.block_hashes(self.name)
        if cursor not in stored and cursor <= head:
            return None
        if cursor <= head and self._block_hash(cursor) == stored[cursor]:
            return None
        ancestor = None
        for number in sorted(stored, reverse=True):
            if number > head or number == cursor:
                continue  # gone with a rollback, or the block already found replaced
            if self._block_hash(number) == stored[number]:
                ancestor = number
                break
        if ancestor is None:
            ancestor = (min(stored) - 1) if stored else min(cursor, head)
            ancestor = max(ancestor, self.start_block - 1)
            log.error(
                "reorg deeper than the %d remembered block hashes: rescanning from block %d",
                self.history,
                ancestor + 1,
            )
        self.store.rewind_cursor(self.name, ancestor)
        return Reorg(old_cursor=cursor, ancestor=ancestor)

    def _fetch(self, start: int, end: int) -> tuple[list[LogReceipt], bytes] | None:
        before = self._block_hash(end)
        if before is None:
            return None
        if start == end:  # one block (the steady state): ask by its hash, so the logs are that block's
            try:
                logs = self.w3.eth.get_logs({"blockHash": HexBytes(before), "address": self.addresses})
            except (Web3RPCError, ValueError) as err:  # gone meanwhile, or a node without EIP-234
                log.debug("eth_getLogs by block hash failed (%s); asking by number", err)
            else:
                return self._keep(logs, end, before)
        try:
            logs = self.w3.eth.get_logs({"fromBlock": start, "toBlock": end, "address": self.addresses})
        except (Web3RPCError, ValueError) as err:
            if not is_range_error(err):
                raise
            self._shrink(start, end, err)
            return None
        after = self._block_hash(end)
        if before != after:
            log.info("block %d changed during eth_getLogs; fetching %d..%d again", end, start, end)
            return None
        return self._keep(logs, end, after)

    def _keep(
        self, logs: list[LogReceipt], end: int, end_hash: bytes
    ) -> tuple[list[LogReceipt], bytes] | None:
        """The logs in chain order without removed ones; None if a log of ``end`` is from another fork."""
        after = end_hash
        kept: list[LogReceipt] = []
        for lg in logs:
            if lg.get("removed"):
                continue
            if int(lg["blockNumber"]) == end and bytes(HexBytes(lg["blockHash"])) != after:
                return None  # served from another fork than the header: ask again
            kept.append(lg)
        kept.sort(key=lambda lg: (int(lg["blockNumber"]), int(lg["logIndex"])))
        self._successes += 1
        if self.range < self.max_range and self._successes >= self.grow_after:
            self.range = min(self.max_range, self.range * 2)
            self._successes = 0
        return kept, after

    def _shrink(self, start: int, end: int, err: Exception) -> None:
        span = end - start + 1
        if span <= 1:
            raise RangeTooLarge(f"the node refuses eth_getLogs even for block {start} alone: {err}") from err
        self.range = max(1, span // 2)
        self._successes = 0
        log.info("eth_getLogs %d..%d refused (%s); range now %d blocks", start, end, err, self.range)


def block_hash(w3: Web3, number: int) -> bytes | None:
    """The hash of block ``number`` on the node's canonical chain (None if it has no such block)."""
    block = raw_block(w3, number)
    return None if block is None else bytes(HexBytes(block["hash"]))
