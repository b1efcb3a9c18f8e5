"""Transactions from one key: simulate, sign, record, broadcast, watch, replace.

`TxManager.send(call, key=...)` is idempotent on ``key`` (e.g. ``commit:42``): a second call returns the
recorded transaction instead of sending another. For a new key it

1. simulates the call with `eth_call` at the pending block and raises `TxReverted` with the decoded revert
   reason (nothing is signed or recorded);
2. estimates gas, prices it EIP-1559 style (tip ``priority_fee``, cap ``max_fee``; `FeeAboveCap` when
   the base fee alone exceeds the cap);
3. takes the next nonce: ``max(local counter, chain pending count)``, so a transaction sent from the same
   key elsewhere is stepped over;
4. signs and writes the raw bytes, hash and nonce to the store *before* broadcasting them.

`refresh()` (called periodically) looks for receipts of every attempt, re-broadcasts recorded but unsent
bytes, and replaces a transaction still pending after ``stuck_after_s`` with one paying
``fee_bump_percent`` more (tip and cap, under the cap). `resume()` at start-up re-broadcasts the same bytes
of everything in flight. A node answering "already known" or "nonce too low" to a re-broadcast is treated
as probable success and settled by receipt lookup; a nonce taken by a transaction that is not ours marks
the row DROPPED, and the caller decides whether to send again under a new key. Reorgs: a MINED
transaction whose receipt vanishes is re-broadcast; a CONFIRMED one (buried under ``confirmations``
blocks, at once when that is 1) is no longer watched, but a later transaction stuck behind its nonce
finds it gone and re-broadcasts it before bumping itself.

Thread-safe: one lock serialises nonce use per manager (one manager per key).

``checkpoint``, when given, is called with ``<fn>_<stage>`` at three points of a transaction's life:
``signed`` (the bytes are in the store, not yet broadcast), ``sent`` (broadcast, no receipt looked for)
and ``mined`` (the receipt was found and recorded); ``<fn>`` is the contract function of the `Call`'s
label (``commit(7, 0x..)`` -> ``commit``). The worker's crash tests kill the process there.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import TxReceipt

from offchain.chain.bindings import Call
from offchain.chain.rpc import raw_block
from offchain.errors import RpcUnreachable, TesseraError, UnfundedAccount

log = logging.getLogger(__name__)

GWEI = 10**9
GAS_MARGIN = 1.25  # estimate * margin + GAS_PAD: state can change between estimate and inclusion
GAS_PAD = 10_000

_KNOWN = ("already known", "known transaction", "already imported", "alreadyknown", "already exists")
_NONCE_LOW = ("nonce too low", "nonce has already been used", "oldnonce", "invalid nonce")
_UNDERPRICED = ("underpriced", "replacement fee too low", "fee too low")
_NO_FUNDS = ("insufficient funds", "insufficient balance")


class TxStatus(StrEnum):
    """A transaction's life: signed (recorded, maybe not yet broadcast) -> sent -> mined -> confirmed."""

    SIGNED = "signed"
    SENT = "sent"
    MINED = "mined"  # receipt seen, not yet buried under `confirmations` blocks
    CONFIRMED = "confirmed"
    REVERTED = "reverted"  # mined with status 0
    DROPPED = "dropped"  # its nonce was used by another transaction
    FAILED = "failed"  # refused by the node for good (e.g. insufficient funds); never mined


OPEN_TX = (TxStatus.SIGNED, TxStatus.SENT, TxStatus.MINED)


@dataclass(frozen=True)
class TxRecord:
    key: str
    job_id: int | None
    label: str
    sender: str
    nonce: int
    to_address: str
    data: bytes
    value: int
    gas: int
    max_fee: int
    priority_fee: int
    raw: bytes
    hash: bytes
    status: TxStatus
    error: str | None
    mined_block: int | None
    mined_hash: bytes | None
    created_at: float
    sent_at: float | None


class TxReverted(TesseraError):
    """The call would revert (found by simulation) or did revert on chain."""

    code = "E_TX_REVERTED"
    default_hint = "the contract refused the call; the reason says why (often a deadline or a state check)"

    def __init__(self, label: str, reason: str, *, hint: str | None = None) -> None:
        self.label = label
        self.reason = reason
        super().__init__(f"{label} would revert: {reason}", hint=hint)


class FeeAboveCap(TesseraError):
    code = "E_FEE_ABOVE_CAP"
    default_hint = "wait for lower fees or raise TESSERA_MAX_FEE_GWEI"


class TxRejected(TesseraError):
    code = "E_TX_REJECTED"
    default_hint = "the node refused the transaction for good; see the message"


class TxStore(Protocol):
    """Where transactions are recorded (`offchain.chain.store.ChainStore` implements it)."""

    def tx(self, key: str) -> TxRecord | None: ...

    def insert_tx(self, record: TxRecord) -> None: ...

    def replace_tx(
        self,
        key: str,
        *,
        raw: bytes,
        tx_hash: bytes,
        max_fee: int,
        priority_fee: int,
        nonce: int | None = None,
        gas: int | None = None,
    ) -> None: ...

    def set_tx_status(self, key: str, status: TxStatus, **updates: Any) -> None: ...

    def tx_hashes(self, key: str) -> list[bytes]: ...

    def txs(self, statuses: Iterable[TxStatus] | None = None) -> list[TxRecord]: ...


@dataclass(frozen=True)
class FeePolicy:
    """EIP-1559 pricing: a fixed tip, a hard cap on maxFeePerGas, and how to bump stuck transactions."""

    priority_fee_wei: int
    max_fee_wei: int
    bump_percent: int = 20
    stuck_after_s: float = 30.0

    @classmethod
    def from_gwei(
        cls, priority_fee_gwei: float, max_fee_gwei: float, bump_percent: int, stuck_after_s: float
    ) -> FeePolicy:
        return cls(int(priority_fee_gwei * GWEI), int(max_fee_gwei * GWEI), bump_percent, stuck_after_s)


def revert_reason(err: ContractLogicError) -> str:
    """The revert message without web3's 'execution reverted: ' prefix."""
    message = str(getattr(err, "message", None) or err)
    for prefix in ("execution reverted: ", "execution reverted:", "execution reverted"):
        if message.startswith(prefix):
            message = message[len(prefix) :].strip()
            break
    return message or "reverted without a reason"


def _rpc_message(err: Exception) -> str:
    response = getattr(err, "rpc_response", None)
    if isinstance(response, dict) and isinstance(response.get("error"), dict):
        return str(response["error"].get("message", err)).lower()
    if err.args and isinstance(err.args[0], dict):
        return str(err.args[0].get("message", err)).lower()
    return str(err).lower()


class TxManager:
    """Sends and tracks the transactions of one account; see the module docstring."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        store: TxStore,
        *,
        chain_id: int,
        fees: FeePolicy,
        confirmations: int = 1,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        checkpoint: Callable[[str], None] | None = None,
    ) -> None:
        """``checkpoint``: see the module docstring (None: no calls)."""
        self.w3 = w3
        self.account = account
        self.address = account.address
        self.store = store
        self.chain_id = chain_id
        self.fees = fees
        self.confirmations = max(1, confirmations)
        self._clock = clock
        self._sleep = sleep
        self._checkpoint = checkpoint
        self._lock = threading.RLock()
        self._next: int | None = None

    # ------------------------------------------------------------------ public
    def simulate(self, call: Call, block: str | int = "pending") -> bytes:
        """`eth_call` the call from this account; `TxReverted` with the decoded reason if it would revert."""
        try:
            return bytes(self.w3.eth.call(call.as_tx(self.address), block))  # type: ignore[arg-type]
        except ContractLogicError as err:
            raise TxReverted(call.label, revert_reason(err)) from None

    def send(self, call: Call, *, key: str, job_id: int | None = None, gas: int | None = None) -> TxRecord:
        """Simulate, sign, record and broadcast ``call`` once per ``key``; returns the recorded transaction.

        Raises `TxReverted` (simulation failed: nothing recorded), `FeeAboveCap`, `UnfundedAccount`.
        Connection failures after recording are not raised: the bytes are re-broadcast by `refresh`.
        """
        with self._lock:
            existing = self.store.tx(key)
            if existing is not None:
                return existing
            if gas is None:  # the estimate simulates the call too: a revert fails it with the reason
                try:
                    estimate = self.w3.eth.estimate_gas(call.as_tx(self.address), "pending")  # type: ignore[arg-type]
                except ContractLogicError as err:
                    raise TxReverted(call.label, revert_reason(err)) from None
                gas = int(estimate * GAS_MARGIN) + GAS_PAD + call.headroom
            else:
                self.simulate(call)
            tip, cap = self._price()
            nonce = self._take_nonce()
            raw, tx_hash = self._sign(call, nonce=nonce, gas=gas, tip=tip, cap=cap)
            record = TxRecord(
                key=key,
                job_id=job_id,
                label=call.label,
                sender=self.address,
                nonce=nonce,
                to_address=call.to,
                data=call.data,
                value=call.value,
                gas=gas,
                max_fee=cap,
                priority_fee=tip,
                raw=raw,
                hash=tx_hash,
                status=TxStatus.SIGNED,
                error=None,
                mined_block=None,
                mined_hash=None,
                created_at=self._clock(),
                sent_at=None,
            )
            self.store.insert_tx(record)
            self._next = nonce + 1
            log.info(
                "tx %s signed",
                call.label,
                extra={"tx_hash": HexBytes(tx_hash).to_0x_hex(), "job_id": job_id, "nonce": nonce},
            )
            self._reached(call.label, "signed")
            self._broadcast(record, fresh=True)
            self._reached(call.label, "sent")
            return self.store.tx(key)  # type: ignore[return-value]

    def status(self, key: str) -> TxRecord | None:
        """The recorded transaction for ``key`` after checking the chain for its receipt."""
        with self._lock:
            record = self.store.tx(key)
            if record is None or record.status not in OPEN_TX:
                return record
            self._settle(record, self._head_lookup(), self._nonce_lookup(), now=self._clock())
            return self.store.tx(key)

    def wait(self, key: str, *, timeout_s: float = 60.0, poll_s: float = 0.2) -> TxRecord:
        """Block until ``key`` leaves SIGNED/SENT (mined, dropped, failed) or ``timeout_s`` passes."""
        deadline = self._clock() + timeout_s
        while True:
            record = self.status(key)
            if record is None:
                raise KeyError(f"no transaction recorded under {key!r}")
            if record.status not in (TxStatus.SIGNED, TxStatus.SENT) or self._clock() >= deadline:
                return record
            self._sleep(poll_s)

    def receipt(self, key: str) -> TxReceipt | None:
        """The receipt of whichever attempt for ``key`` was mined, if one was."""
        record = self.store.tx(key)
        if record is None or record.mined_hash is None:
            return None
        try:
            return self.w3.eth.get_transaction_receipt(record.mined_hash)
        except TransactionNotFound:
            return None

    def refresh(self) -> None:
        """Settle every open transaction: receipts, re-broadcasts, replacements of stuck ones."""
        with self._lock:
            open_txs = self.store.txs(OPEN_TX)
            if not open_txs:
                return
            head, latest_nonce, now = self._head_lookup(), self._nonce_lookup(), self._clock()
            for record in open_txs:
                self._settle(record, head, latest_nonce, now=now)

    def resume(self) -> None:
        """At start-up: resync the nonce and re-broadcast the recorded bytes of everything in flight."""
        with self._lock:
            self._next = None
            for record in self.store.txs((TxStatus.SIGNED, TxStatus.SENT)):
                if self._find_receipt(record) is None:
                    self._broadcast(record, fresh=False)
            self.refresh()

    def resync_nonce(self) -> int:
        """Forget the local counter; the next send starts from the chain's pending count."""
        with self._lock:
            self._next = None
            return self._take_nonce()

    # ------------------------------------------------------------------ internals
    def _reached(self, label: str, stage: str) -> None:
        """Tell ``checkpoint`` that the transaction labelled ``label`` reached ``stage``."""
        if self._checkpoint is not None:
            self._checkpoint(f"{label.split('(', 1)[0]}_{stage}")

    def _head_lookup(self) -> Callable[[], int]:
        """The head block number, asked at most once per settling pass and only if needed."""
        return functools.cache(lambda: int(self.w3.eth.block_number))

    def _nonce_lookup(self) -> Callable[[], int]:
        """The account's mined nonce, asked at most once per settling pass and only if needed."""
        return functools.cache(lambda: int(self.w3.eth.get_transaction_count(self.address, "latest")))

    def _take_nonce(self) -> int:
        chain = int(self.w3.eth.get_transaction_count(self.address, "pending"))
        local = self._next
        if local is None:
            in_flight = [
                r.nonce for r in self.store.txs((TxStatus.SIGNED, TxStatus.SENT)) if r.sender == self.address
            ]
            local = max(in_flight) + 1 if in_flight else chain
        return max(local, chain)

    def base_fee(self) -> int:
        """The base fee of the pending block (0 before EIP-1559)."""
        return int((raw_block(self.w3, "pending") or {}).get("baseFeePerGas") or "0x0", 16)

    def _price(self) -> tuple[int, int]:
        base = self.base_fee()
        cap = self.fees.max_fee_wei
        tip = min(self.fees.priority_fee_wei, cap)
        if base + tip > cap:
            raise FeeAboveCap(
                f"the base fee is {base / GWEI:.2f} gwei; with a {tip / GWEI:.2f} gwei tip that exceeds the "
                f"{cap / GWEI:.2f} gwei cap"
            )
        return tip, min(cap, 2 * base + tip)

    def _sign(self, call: Call, *, nonce: int, gas: int, tip: int, cap: int) -> tuple[bytes, bytes]:
        signed = self.account.sign_transaction(
            {
                "type": 2,
                "chainId": self.chain_id,
                "nonce": nonce,
                "to": call.to,
                "data": call.data,
                "value": call.value,
                "gas": gas,
                "maxFeePerGas": cap,
                "maxPriorityFeePerGas": tip,
            }
        )
        return bytes(signed.raw_transaction), bytes(signed.hash)

    def _call_of(self, record: TxRecord) -> Call:
        return Call(to=record.to_address, data=record.data, label=record.label, value=record.value)

    def _broadcast(self, record: TxRecord, *, fresh: bool) -> None:
        """Send the recorded bytes. ``fresh``: first broadcast of a newly signed transaction (a nonce
        conflict then means our counter was behind, and the call is re-signed with the next nonce)."""
        hash_hex = HexBytes(record.hash).to_0x_hex()
        try:
            self.w3.eth.send_raw_transaction(record.raw)
        except RpcUnreachable as err:
            log.warning(
                "broadcast of %s failed (%s); it will be retried",
                record.label,
                err,
                extra={"tx_hash": hash_hex, "job_id": record.job_id},
            )
            return
        except (Web3RPCError, ValueError) as err:
            message = _rpc_message(err)
            if any(p in message for p in _KNOWN):
                pass  # the node has it already: as good as sent
            elif any(p in message for p in _NONCE_LOW + _UNDERPRICED) and fresh:
                if self._find_receipt(record) is not None:
                    pass
                else:
                    self._resign_with_next_nonce(record, message)
                    return
            elif any(p in message for p in _NONCE_LOW):
                pass  # a re-broadcast: probably ours, mined; settled by receipt lookup
            elif any(p in message for p in _NO_FUNDS):
                self.store.set_tx_status(record.key, TxStatus.FAILED, error=message)
                self._next = None
                raise UnfundedAccount(f"{self.address} cannot pay for {record.label}: {message}") from None
            elif any(p in message for p in _UNDERPRICED):
                log.warning("replacement of %s refused as underpriced; will bump again", record.label)
                return
            else:
                self.store.set_tx_status(record.key, record.status, error=message)
                log.warning(
                    "broadcast of %s refused: %s; will retry",
                    record.label,
                    message,
                    extra={"tx_hash": hash_hex, "job_id": record.job_id},
                )
                return
        self.store.set_tx_status(record.key, TxStatus.SENT, sent_at=self._clock(), error=None)
        log.info("tx %s sent", record.label, extra={"tx_hash": hash_hex, "job_id": record.job_id})

    def _resign_with_next_nonce(self, record: TxRecord, reason: str) -> None:
        self._next = None
        nonce = self._take_nonce()
        if nonce == record.nonce:
            nonce += 1  # the pool holds a transaction at this nonce that the pending count does not show
        raw, tx_hash = self._sign(
            self._call_of(record), nonce=nonce, gas=record.gas, tip=record.priority_fee, cap=record.max_fee
        )
        log.info(
            "nonce %d of %s is taken (%s); re-signed with nonce %d", record.nonce, record.label, reason, nonce
        )
        self.store.replace_tx(
            record.key,
            raw=raw,
            tx_hash=tx_hash,
            max_fee=record.max_fee,
            priority_fee=record.priority_fee,
            nonce=nonce,
        )
        self._next = nonce + 1
        self._broadcast(self.store.tx(record.key), fresh=False)  # type: ignore[arg-type]

    def _find_receipt(self, record: TxRecord) -> tuple[bytes, TxReceipt] | None:
        for tx_hash in reversed(self.store.tx_hashes(record.key)):
            try:
                receipt = self.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                continue
            if receipt is not None and receipt.get("blockNumber") is not None:
                return tx_hash, receipt
        return None

    def _why_reverted(self, record: TxRecord, receipt: TxReceipt) -> str:
        """Best-effort reason of a mined revert: out of gas, or the reason replayed on the parent block
        (transactions earlier in the same block are not replayed, so the reason can differ)."""
        if int(receipt["gasUsed"]) >= record.gas:
            return f"out of gas (limit {record.gas})"
        parent = int(receipt["blockNumber"]) - 1
        try:
            self.simulate(self._call_of(record), block=parent)
        except TxReverted as err:
            return err.reason
        except Exception as err:  # noqa: BLE001 - a diagnosis only; the status is what matters
            return f"reason unavailable ({type(err).__name__})"
        return "reverted in its block (the call succeeds on the parent block: state changed in between)"

    def _settle(
        self, record: TxRecord, head: Callable[[], int], latest_nonce: Callable[[], int], *, now: float
    ) -> None:
        found = self._find_receipt(record)
        if found is None and record.status != TxStatus.MINED and latest_nonce() > record.nonce:
            found = self._find_receipt(record)  # mined between the receipt lookup and the nonce lookup?
        if found is not None:
            tx_hash, receipt = found
            block = int(receipt["blockNumber"])
            if int(receipt["status"]) == 0:
                status = TxStatus.REVERTED
            elif self.confirmations <= 1 or head() - block + 1 >= self.confirmations:
                status = TxStatus.CONFIRMED
            else:
                status = TxStatus.MINED
            if status != record.status or record.mined_hash != tx_hash:
                updates: dict[str, Any] = {"mined_block": block, "mined_hash": tx_hash}
                if status == TxStatus.REVERTED:
                    updates["error"] = self._why_reverted(record, receipt)
                self.store.set_tx_status(record.key, status, **updates)
                log.log(
                    logging.WARNING if status == TxStatus.REVERTED else logging.INFO,
                    "tx %s %s in block %d%s",
                    record.label,
                    status.value,
                    block,
                    f": {updates['error']}" if "error" in updates else "",
                    extra={"tx_hash": HexBytes(tx_hash).to_0x_hex(), "job_id": record.job_id},
                )
                self._reached(record.label, "mined")
            return
        if record.status == TxStatus.MINED:
            log.warning("receipt of %s vanished (reorg); re-broadcasting", record.label)
            self.store.set_tx_status(record.key, TxStatus.SENT, mined_block=None, mined_hash=None)
            self._broadcast(self.store.tx(record.key), fresh=False)  # type: ignore[arg-type]
            return
        if latest_nonce() > record.nonce:
            self.store.set_tx_status(
                record.key, TxStatus.DROPPED, error=f"nonce {record.nonce} was used by another transaction"
            )
            log.warning(
                "tx %s dropped: its nonce %d was used by another transaction",
                record.label,
                record.nonce,
                extra={"job_id": record.job_id},
            )
            return
        if record.status == TxStatus.SIGNED:
            self._broadcast(record, fresh=False)
            return
        if record.sent_at is not None and now - record.sent_at >= self.fees.stuck_after_s:
            if self._resend_vanished_below(record, latest_nonce()):
                return  # it was waiting behind a gap, not underpriced
            self._bump(record)

    def _resend_vanished_below(self, record: TxRecord, latest_nonce: int) -> bool:
        """Re-broadcast our transactions recorded as mined at nonces between the chain's nonce and
        ``record``'s that have no receipt any more: a reorg took them out after they left the watched
        states (with ``confirmations`` 1 a mined transaction is CONFIRMED at once and never looked at
        again), and ``record`` and everything after it would wait behind the gap forever. Asked only for
        a stuck transaction. Returns whether one was re-sent."""
        if latest_nonce >= record.nonce:
            return False
        resent = False
        for earlier in self.store.txs((TxStatus.CONFIRMED, TxStatus.MINED, TxStatus.REVERTED)):
            if earlier.sender != self.address or not latest_nonce <= earlier.nonce < record.nonce:
                continue
            if self._find_receipt(earlier) is not None:
                continue  # the node counting nonces lags the one that gave the receipt
            log.warning(
                "receipt of %s vanished (reorg): its nonce %d is unused on chain and holds up %s; "
                "re-broadcasting",
                earlier.label,
                earlier.nonce,
                record.label,
                extra={"tx_hash": HexBytes(earlier.hash).to_0x_hex(), "job_id": earlier.job_id},
            )
            self.store.set_tx_status(earlier.key, TxStatus.SENT, mined_block=None, mined_hash=None)
            self._broadcast(self.store.tx(earlier.key), fresh=False)  # type: ignore[arg-type]
            resent = True
        return resent

    def _bump(self, record: TxRecord) -> None:
        factor = 1 + self.fees.bump_percent / 100
        cap = self.fees.max_fee_wei
        if record.max_fee >= cap:
            log.warning(
                "tx %s is stuck at the fee cap (%.2f gwei); re-broadcasting as is", record.label, cap / GWEI
            )
            self._broadcast(record, fresh=False)
            return
        try:
            base = self.base_fee()
        except RpcUnreachable:
            return
        tip = min(cap, math.ceil(record.priority_fee * factor) or 1)
        new_cap = min(cap, max(math.ceil(record.max_fee * factor), 2 * base + tip))
        raw, tx_hash = self._sign(
            self._call_of(record), nonce=record.nonce, gas=record.gas, tip=tip, cap=new_cap
        )
        self.store.replace_tx(record.key, raw=raw, tx_hash=tx_hash, max_fee=new_cap, priority_fee=tip)
        log.info(
            "tx %s stuck; replaced at %.3f gwei cap / %.3f gwei tip",
            record.label,
            new_cap / GWEI,
            tip / GWEI,
            extra={"tx_hash": HexBytes(tx_hash).to_0x_hex(), "job_id": record.job_id},
        )
        self._broadcast(self.store.tx(record.key), fresh=False)  # type: ignore[arg-type]
