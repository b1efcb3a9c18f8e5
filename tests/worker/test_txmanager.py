"""The transaction manager on a real anvil: simulation, nonce resync, replacement, restart re-broadcast."""

from __future__ import annotations

import pytest
from hexbytes import HexBytes

from offchain.chain.bindings import Call
from offchain.chain.store import ChainStore
from offchain.chain.txmanager import FeeAboveCap, FeePolicy, TxManager, TxReverted, TxStatus
from tests.support.chain import rpc, send_raw

pytestmark = pytest.mark.anvil
GWEI = 10**9


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ledger(tmp_path):
    led = ChainStore(tmp_path / "ledger.sqlite3")
    yield led
    led.close()


@pytest.fixture
def clock():
    return FakeClock()


def manager(w3, operator, ledger, clock, **fees) -> TxManager:
    policy = FeePolicy(
        **{
            "priority_fee_wei": GWEI,
            "max_fee_wei": 50 * GWEI,
            "bump_percent": 20,
            "stuck_after_s": 30.0,
            **fees,
        }
    )
    return TxManager(
        w3, operator, ledger, chain_id=w3.eth.chain_id, fees=policy, clock=clock, sleep=lambda s: None
    )


def ping(pinger, n: int) -> Call:
    return Call(
        to=pinger.address, data=bytes(HexBytes(pinger.encode_abi("ping", args=[n]))), label=f"ping({n})"
    )


def test_a_call_is_sent_once_per_key(w3, operator, pinger, ledger, clock):
    txm = manager(w3, operator, ledger, clock)
    first = txm.send(ping(pinger, 1), key="ping:1")
    again = txm.send(ping(pinger, 1), key="ping:1")
    assert again.hash == first.hash
    record = txm.wait("ping:1")
    assert record.status == TxStatus.CONFIRMED
    assert w3.eth.get_transaction_count(operator.address) == 1


def test_simulation_catches_a_revert_and_sends_nothing(w3, operator, pinger, ledger, clock):
    txm = manager(w3, operator, ledger, clock)
    with pytest.raises(TxReverted, match="pinger: unlucky") as caught:
        txm.send(ping(pinger, 13), key="ping:13")
    assert caught.value.code == "E_TX_REVERTED"
    assert ledger.tx("ping:13") is None
    assert w3.eth.get_transaction_count(operator.address, "pending") == 0


def test_a_base_fee_above_the_cap_sends_nothing(w3, operator, pinger, ledger, clock):
    txm = manager(w3, operator, ledger, clock, max_fee_wei=GWEI // 100)
    with pytest.raises(FeeAboveCap):
        txm.send(ping(pinger, 1), key="ping:1")
    assert ledger.tx("ping:1") is None


def test_the_nonce_resyncs_after_a_transaction_sent_elsewhere_with_the_same_key(
    w3, operator, pinger, ledger, clock
):
    txm = manager(w3, operator, ledger, clock)
    txm.send(ping(pinger, 1), key="ping:1")
    assert txm.wait("ping:1").nonce == 0
    external = send_raw(w3, operator, {"to": pinger.address, "data": pinger.encode_abi("ping", args=[99])})
    w3.eth.wait_for_transaction_receipt(external)
    second = txm.send(ping(pinger, 2), key="ping:2")
    assert second.nonce == 2
    assert txm.wait("ping:2").status == TxStatus.CONFIRMED


def test_a_lagging_pending_count_is_repaired_by_resigning(w3, operator, pinger, ledger, clock, monkeypatch):
    """A load-balanced RPC whose pending count lags: the first signature reuses a mined nonce."""
    txm = manager(w3, operator, ledger, clock)
    txm.send(ping(pinger, 1), key="ping:1")
    txm.wait("ping:1")
    real = w3.eth.get_transaction_count
    stale = [1]  # one stale answer, then the truth

    def lagging(address, block="latest"):
        if block == "pending" and stale[0]:
            stale[0] -= 1
            return 0
        return real(address, block)

    txm._next = None  # forget the local counter, as after a restart
    monkeypatch.setattr(w3.eth, "get_transaction_count", lagging)
    record = txm.send(ping(pinger, 2), key="ping:2")
    assert record.nonce == 1  # re-signed after "nonce too low"
    assert len(ledger.tx_hashes("ping:2")) == 2
    assert txm.wait("ping:2").status == TxStatus.CONFIRMED


def test_a_stuck_transaction_is_replaced_with_a_higher_fee(w3, operator, pinger, ledger, clock):
    rpc(w3, "evm_setAutomine", False)
    txm = manager(w3, operator, ledger, clock)
    sent = txm.send(ping(pinger, 1), key="ping:1")
    assert sent.status == TxStatus.SENT
    txm.refresh()
    assert len(ledger.tx_hashes("ping:1")) == 1  # not stuck yet

    clock.now += 31
    txm.refresh()
    bumped = ledger.tx("ping:1")
    assert bumped.hash != sent.hash and bumped.nonce == sent.nonce
    assert bumped.priority_fee >= sent.priority_fee * 1.2
    assert bumped.max_fee >= sent.max_fee * 1.2
    assert ledger.tx_hashes("ping:1") == [sent.hash, bumped.hash]

    rpc(w3, "evm_mine")
    txm.refresh()
    mined = ledger.tx("ping:1")
    assert mined.status == TxStatus.CONFIRMED
    assert mined.mined_hash == bumped.hash
    assert w3.eth.get_transaction_count(operator.address) == 1


def test_replacement_stops_at_the_fee_cap(w3, operator, pinger, ledger, clock):
    rpc(w3, "evm_setAutomine", False)
    txm = manager(w3, operator, ledger, clock, max_fee_wei=3 * GWEI)
    sent = txm.send(ping(pinger, 1), key="ping:1")
    for _ in range(5):
        clock.now += 31
        txm.refresh()
    assert ledger.tx("ping:1").max_fee <= 3 * GWEI
    assert sent.max_fee <= 3 * GWEI


def test_bytes_recorded_before_a_crash_are_broadcast_after_restart(
    w3, operator, pinger, ledger, clock, monkeypatch
):
    txm = manager(w3, operator, ledger, clock)
    seen_at_broadcast = []

    def crash(raw):
        seen_at_broadcast.append(ledger.tx("ping:1"))
        raise KeyboardInterrupt  # the process dies inside the broadcast

    monkeypatch.setattr(w3.eth, "send_raw_transaction", crash)
    with pytest.raises(KeyboardInterrupt):
        txm.send(ping(pinger, 1), key="ping:1")
    monkeypatch.undo()
    recorded = seen_at_broadcast[0]
    assert recorded is not None and recorded.status == TxStatus.SIGNED and recorded.raw
    assert w3.eth.get_transaction_count(operator.address, "pending") == 0

    restarted = manager(w3, operator, ledger, clock)
    restarted.resume()
    record = restarted.wait("ping:1")
    assert record.status == TxStatus.CONFIRMED
    assert record.mined_hash == recorded.hash  # the very bytes written before the crash


def test_a_rebroadcast_of_a_mined_transaction_counts_as_success(w3, operator, pinger, ledger, clock):
    txm = manager(w3, operator, ledger, clock)
    txm.send(ping(pinger, 1), key="ping:1")
    ledger.set_tx_status("ping:1", TxStatus.SENT)  # as if the receipt had not been seen before a restart
    manager(w3, operator, ledger, clock).resume()  # finds the receipt instead of sending again
    assert ledger.tx("ping:1").status == TxStatus.CONFIRMED


def test_a_nonce_taken_by_another_transaction_drops_the_row(w3, operator, pinger, ledger, clock):
    rpc(w3, "evm_setAutomine", False)
    txm = manager(w3, operator, ledger, clock, priority_fee_wei=GWEI)
    sent = txm.send(ping(pinger, 1), key="ping:1")
    # the same key replaces it from elsewhere with a much higher fee
    send_raw(
        w3,
        operator,
        {
            "nonce": sent.nonce,
            "to": operator.address,
            "maxFeePerGas": 40 * GWEI,
            "maxPriorityFeePerGas": 20 * GWEI,
            "gas": 21_000,
        },
    )
    rpc(w3, "evm_mine")
    txm.refresh()
    assert ledger.tx("ping:1").status == TxStatus.DROPPED


def test_a_transaction_mined_between_the_receipt_and_nonce_lookups_is_mined_not_dropped(
    w3, operator, pinger, ledger, clock, monkeypatch
):
    """The receipt is asked first (missing), then the nonce (used, because the block came in between):
    the nonce alone would say "taken by another transaction"; the receipt is asked again."""
    rpc(w3, "evm_setAutomine", False)
    txm = manager(w3, operator, ledger, clock)
    sent = txm.send(ping(pinger, 1), key="ping:1")
    real = w3.eth.get_transaction_count

    def block_arrives_first(address, block="latest"):
        if block == "latest":
            rpc(w3, "evm_mine")
        return real(address, block)

    monkeypatch.setattr(w3.eth, "get_transaction_count", block_arrives_first)
    settled = txm.status("ping:1")
    assert settled.status == TxStatus.CONFIRMED and settled.mined_hash == sent.hash
