"""The log poller: bounded ranges that halve when refused, confirmations, dedup, and reorg rewind on anvil."""

from __future__ import annotations

import pytest

from offchain.chain.logs import LogPoller, RangeTooLarge
from offchain.chain.store import ChainStore
from tests.support.chain import rpc, transact
from tests.worker.fakes import RangeLimitedNode, stub_w3


@pytest.fixture
def ledger(tmp_path):
    led = ChainStore(tmp_path / "ledger.sqlite3")
    yield led
    led.close()


def asked_for(asked: list[int], params: list) -> None:
    """Note a block asked by number (the head, asked as "latest" on every poll, is not counted)."""
    if params[0] != "latest":
        asked.append(int(params[0], 16))


def test_refused_ranges_are_halved_and_every_log_arrives_once(ledger):
    node = RangeLimitedNode(1_000, limit=64)
    poller = LogPoller(
        stub_w3(node), ledger, addresses=[node.ADDRESS], start_block=1, confirmations=5, max_range=1_000
    )
    got: list[int] = []
    result = poller.poll(lambda logs: got.extend(lg["blockNumber"] for lg in logs))
    assert got == list(range(10, 996, 10))  # blocks past head - confirmations wait
    assert result.scanned_to == 995
    refused = [q for q in node.queries if q[1] - q[0] + 1 > 64]
    assert 4 <= len(refused) <= 8  # 1000 -> 500 -> 250 -> 125 -> 62, then an occasional regrowth probe
    assert all(end - start + 1 <= 1_000 for start, end in node.queries)
    # nothing again; the next poll starts where this one stopped
    node.block_number = 1_010
    got.clear()
    poller.poll(lambda logs: got.extend(lg["blockNumber"] for lg in logs))
    assert got == [1_000]


def test_the_range_never_grows_past_its_cap(ledger):
    node = RangeLimitedNode(500, limit=10_000)
    poller = LogPoller(
        stub_w3(node),
        ledger,
        addresses=[node.ADDRESS],
        start_block=0,
        confirmations=0,
        max_range=100,
        grow_after=1,
    )
    poller.poll(lambda logs: None)
    assert max(end - start + 1 for start, end in node.queries) == 100


def test_a_single_block_refused_is_an_error(ledger):
    node = RangeLimitedNode(10, limit=0)
    poller = LogPoller(
        stub_w3(node), ledger, addresses=[node.ADDRESS], start_block=1, confirmations=0, max_range=8
    )
    with pytest.raises(RangeTooLarge):
        poller.poll(lambda logs: None)
    assert ledger.cursor("tessera") is None  # nothing handled, nothing skipped


def test_a_failing_handler_leaves_the_cursor_so_logs_come_again(ledger):
    node = RangeLimitedNode(100, limit=1_000)
    poller = LogPoller(
        stub_w3(node), ledger, addresses=[node.ADDRESS], start_block=1, confirmations=0, max_range=1_000
    )

    def crash(logs):
        raise RuntimeError("handler died")

    with pytest.raises(RuntimeError):
        poller.poll(crash)
    got: list[int] = []
    poller.poll(lambda logs: got.extend(lg["blockNumber"] for lg in logs))
    assert got == list(range(10, 101, 10))


# ---------------------------------------------------------------- a real chain that reorganises
def ping_numbers(logs) -> list[int]:
    return [int.from_bytes(bytes(lg["topics"][1]), "big") for lg in logs]


@pytest.mark.anvil
def test_a_rollback_rewinds_to_the_common_ancestor(w3, governance, pinger, ledger):
    poller = LogPoller(w3, ledger, addresses=[pinger.address], start_block=0, confirmations=0, max_range=50)
    transact(w3, governance, pinger, "ping", 1)
    transact(w3, governance, pinger, "ping", 2)
    got: list[int] = []
    poller.poll(lambda logs: got.extend(ping_numbers(logs)))
    assert got == [1, 2]
    ancestor = w3.eth.block_number - 1

    rpc(w3, "anvil_rollback", 1)  # the block holding ping(2) is gone
    transact(w3, governance, pinger, "ping", 3)  # a different block at the same height
    reorgs = []
    result = poller.poll(lambda logs: got.extend(ping_numbers(logs)), on_reorg=reorgs.append)
    assert [(r.old_cursor, r.ancestor) for r in reorgs] == [(ancestor + 1, ancestor)]
    assert result.reorg is not None
    assert got == [1, 2, 3]  # ping(1) is not delivered twice; ping(3) is new
    assert poller.cursor == w3.eth.block_number


@pytest.mark.anvil
def test_an_anvil_reorg_redelivers_a_reincluded_log_once(w3, governance, pinger, ledger):
    poller = LogPoller(w3, ledger, addresses=[pinger.address], start_block=0, confirmations=0, max_range=50)
    transact(w3, governance, pinger, "ping", 7)
    rpc(w3, "evm_mine")
    rpc(w3, "evm_mine")
    got: list[int] = []
    poller.poll(lambda logs: got.extend(ping_numbers(logs)))
    assert got == [7]
    head = w3.eth.block_number

    # replace the last 3 blocks (ping(7) among them) with a fork that holds ping(8) instead
    data = pinger.encode_abi("ping", args=[8])
    rpc(w3, "anvil_reorg", 3, [[{"from": governance.address, "to": pinger.address, "data": data}, 1]])
    assert w3.eth.block_number == head
    reorgs = []
    poller.poll(lambda logs: got.extend(ping_numbers(logs)), on_reorg=reorgs.append)
    assert len(reorgs) == 1 and reorgs[0].ancestor < head - 2
    assert got == [7, 8]
    # polling again delivers nothing: the new fork's log is remembered by (block hash, log index)
    poller.poll(lambda logs: got.extend(ping_numbers(logs)))
    assert got == [7, 8]


@pytest.mark.anvil
def test_logs_wait_for_confirmations(w3, governance, pinger, ledger):
    poller = LogPoller(w3, ledger, addresses=[pinger.address], start_block=0, confirmations=2, max_range=50)
    transact(w3, governance, pinger, "ping", 1)
    got: list[int] = []
    poller.poll(lambda logs: got.extend(ping_numbers(logs)))
    assert got == []
    rpc(w3, "evm_mine")
    rpc(w3, "evm_mine")
    poller.poll(lambda logs: got.extend(ping_numbers(logs)))
    assert got == [1]


def test_a_poll_with_no_new_block_after_an_empty_one_asks_only_the_head(ledger):
    node = RangeLimitedNode(100, limit=1_000, every=1_000)  # no logs at all
    w3 = stub_w3(node)
    asked: list[int] = []
    ask = w3.provider.make_request
    w3.provider.make_request = lambda method, params: asked_for(asked, params) or ask(method, params)
    poller = LogPoller(w3, ledger, addresses=[node.ADDRESS], start_block=1, confirmations=0, max_range=1_000)
    poller.poll(lambda logs: None)
    before = (len(node.queries), len(asked))
    poller.poll(lambda logs: None)  # same head: nothing to do
    assert (len(node.queries), len(asked)) == before
    node.block_number = 101  # a new block: checked and scanned again
    poller.poll(lambda logs: None)
    assert node.queries[-1] == (101, 101) and len(asked) > before[1]


def test_one_new_block_is_read_by_its_hash_in_two_requests(ledger):
    node = RangeLimitedNode(100, limit=1_000, every=1)
    w3 = stub_w3(node)
    poller = LogPoller(w3, ledger, addresses=[node.ADDRESS], start_block=1, confirmations=0, max_range=1_000)
    poller.poll(lambda logs: None)
    asked: list[int] = []
    ask = w3.provider.make_request
    w3.provider.make_request = lambda method, params: asked_for(asked, params) or ask(method, params)
    node.block_number = 101
    got: list = []
    poller.poll(got.extend)
    assert [int(lg["blockNumber"]) for lg in got] == [101] and node.by_hash == 1
    assert asked == [100, 101]  # the cursor's hash (reorg check) and the new block's: no re-check after
