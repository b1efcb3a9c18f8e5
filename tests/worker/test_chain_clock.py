"""The chain clock: the newest head's timestamp plus local ticks since it was first seen, never backwards."""

from __future__ import annotations

import pytest

from offchain.chain.clock import ChainClock, ChainTimeUnknown
from offchain.chain.logs import LogPoller
from offchain.chain.store import ChainStore
from tests.worker.fakes import RangeLimitedNode, stub_w3


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_chain_time_is_the_head_timestamp_plus_local_time_since_it_was_first_seen():
    ticks = Ticks()
    clock = ChainClock(ticks=ticks)
    clock.observe(10, 5_000)
    ticks.now += 3
    clock.observe(10, 5_000)  # the same head polled again: still counted from when it was first seen
    ticks.now += 2
    assert clock.now() == 5_005
    clock.observe(11, 5_030)  # a chain running ahead of this machine
    assert clock.now() == 5_030


def test_chain_time_never_goes_backwards_when_a_new_head_lags_the_estimate():
    ticks = Ticks()
    clock = ChainClock(ticks=ticks)
    clock.observe(10, 5_000)
    ticks.now += 12
    assert clock.now() == 5_012
    clock.observe(11, 5_010)  # built before it was seen
    assert clock.now() == 5_012
    ticks.now += 3
    assert clock.now() == 5_013


def test_chain_time_before_any_head_is_an_error_not_the_wall_clock():
    with pytest.raises(ChainTimeUnknown):
        ChainClock().now()


def test_the_log_poller_feeds_the_clock_from_the_head_it_reads_anyway(tmp_path):
    node = RangeLimitedNode(100, limit=1_000)
    clock = ChainClock(ticks=Ticks())
    store = ChainStore(tmp_path / "ledger.sqlite3")
    poller = LogPoller(stub_w3(node), store, addresses=[node.ADDRESS], start_block=1, clock=clock)
    poller.poll(lambda logs: None)
    assert (clock.head, clock.now()) == (100, 100)  # the stub's blocks have timestamp == number
    node.block_number = 130
    poller.poll(lambda logs: None)
    assert (clock.head, clock.now()) == (130, 130)
    store.close()
