"""T17/T18/T20/T21: the real worker (`python -m offchain.worker`) against chain-side faults on anvil.

* T17 reorgs: a job's JobPosted reorged away after the worker claimed it; the worker's own commit reorged
  out after it was mined.
* T20 stuck transactions: a commit dropped from the pool; transactions sent with the worker's own key
  by someone else while it runs (one taking the next nonce, one replacing its pending commit).
* T21 gas spikes: the base fee jumps to 100x the worker's cap before a commit is signed, and while a
  commit is pending.
* T18 failover: the first RPC endpoint is dead, or dies in the middle of a job.

The chain is the module's `shared_market` (interval mining, a block a second). Tests that need exact
control over which block holds which transaction switch to manual mining (`manual_mining`) and mine
block by block; every test gives interval mining back, whatever happens. Each test posts its own job,
runs its own worker from a fresh data folder, and checks the ledger against the chain at the end:
every transaction the worker recorded as mined is on chain at the recorded block with the recorded
status, every transaction the worker's address sent is in the ledger (or is the test's own external
transaction), and the nonce moved by exactly that many.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound

from offchain.chain.bindings import Phase
from offchain.devchain import free_port
from tests.faults.conftest import (
    SMALL_MATMUL,
    ledger_rows,
    operator_txs,
    start_worker,
    stop_worker,
    wait_until,
    worker_env,
)
from tests.faults.rpc_proxy import Fault, RpcProxy
from tests.worker.conftest import dev_account, rpc, send_raw
from tests.worker.test_worker_end_to_end import COLLATERAL, FEE, Market, publish_spec

pytestmark = pytest.mark.anvil

GWEI = 10**9
WAIT_S = 90  # generous: CI runs the suite two at a time on two cores


# ---------------------------------------------------------------------------------------------- chain
@contextmanager
def manual_mining(w3: Web3) -> Iterator[None]:
    """No block is mined but by `mine`; interval mining (a block a second) comes back on exit."""
    rpc(w3, "evm_setIntervalMining", 0)
    rpc(w3, "evm_setAutomine", False)
    try:
        yield
    finally:
        rpc(w3, "evm_setIntervalMining", 1)


def mine(w3: Web3, blocks: int = 1) -> int:
    for _ in range(blocks):
        rpc(w3, "evm_mine")
    return int(w3.eth.block_number)


def post_job_now(market: Market, spec: dict = SMALL_MATMUL, *, mine_it: bool = True) -> tuple[int, int]:
    """Post a job (its approval and post in one block, mined at once); returns (job id, block)."""
    w3, c, requester = market.w3, market.contracts, dev_account(2)
    cid, raw = publish_spec(market, spec)
    send_raw(
        w3,
        requester,
        {"to": c.token.address, "data": c.token.encode_abi("approve", [c.registry.address, FEE])},
    )
    args = [cid, hashlib.sha256(raw).digest(), FEE, 1, 1, COLLATERAL, 600, 600, 600]
    tx = send_raw(w3, requester, {"to": c.registry.address, "data": c.registry.encode_abi("post_job", args)})
    if mine_it:
        mine(w3)
    receipt = w3.eth.wait_for_transaction_receipt(tx, timeout=60)
    assert receipt["status"] == 1
    return c.job_id_from(receipt), int(receipt["blockNumber"])


def in_pool(w3: Web3, tx_hash: bytes) -> bool:
    """Whether the node knows the transaction but has not mined it."""
    try:
        tx = w3.eth.get_transaction(tx_hash)
    except TransactionNotFound:
        return False
    return tx is not None and tx.get("blockNumber") is None


def pending_base_fee(w3: Web3) -> int:
    return int(w3.eth.get_block("pending")["baseFeePerGas"])


# ---------------------------------------------------------------------------------------------- ledger
def tx_row(data_dir: Path, key: str) -> dict | None:
    rows = ledger_rows(
        data_dir,
        "SELECT key, status, nonce, hash, max_fee, priority_fee, mined_block, mined_hash"
        " FROM txs WHERE key=?",
        (key,),
    )
    if not rows:
        return None
    names = ("key", "status", "nonce", "hash", "max_fee", "priority_fee", "mined_block", "mined_hash")
    row = dict(zip(names, rows[0], strict=True))
    row["max_fee"], row["priority_fee"] = int(row["max_fee"]), int(row["priority_fee"])
    return row


def job_state(data_dir: Path, job_id: int) -> str | None:
    rows = ledger_rows(data_dir, "SELECT state FROM jobs WHERE job_id=?", (job_id,))
    return rows[0][0] if rows else None


def attempts(data_dir: Path, key: str) -> list[bytes]:
    """Every signed attempt (raw bytes) recorded under ``key``: the first one and each replacement."""
    rows = ledger_rows(data_dir, "SELECT raw FROM tx_hashes WHERE key=? ORDER BY rowid", (key,))
    return [bytes(r[0]) for r in rows]


def signed_fees(raw: bytes) -> tuple[int, int]:
    """(maxFeePerGas, maxPriorityFeePerGas) of a signed EIP-1559 transaction."""
    tx = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
    return int(tx["maxFeePerGas"]), int(tx["maxPriorityFeePerGas"])


class Run:
    """One worker subprocess and what a test asserts about it."""

    def __init__(self, market: Market, tmp_path: Path, **env: str) -> None:
        self.market, self.w3, self.c = market, market.w3, market.contracts
        self.operator = dev_account(1)
        self.address = self.operator.address
        self.data_dir = tmp_path / "data"
        self.tmp = tmp_path
        self.first_block = int(self.w3.eth.block_number) + 1
        self.nonce_before = int(self.w3.eth.get_transaction_count(self.address))
        self.env = worker_env(market, self.operator, self.data_dir, **env)
        self.proc = None

    @property
    def log(self) -> str:
        path = self.tmp / "worker.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> Run:
        self.proc = start_worker(self.env, self.tmp)
        return self

    def stop(self) -> int:
        assert self.proc is not None
        return stop_worker(self.proc)

    def until(self, what: str, predicate: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
        if not wait_until(predicate, timeout_s, poll_s=0.1):
            raise AssertionError(f"timed out waiting for {what}\n--- worker log:\n{self.log[-5000:]}")

    def until_tx(self, key: str, *statuses: str) -> dict:
        self.until(
            f"{key} in {statuses}", lambda: (tx_row(self.data_dir, key) or {}).get("status") in statuses
        )
        return tx_row(self.data_dir, key)  # type: ignore[return-value]

    def until_done(self, job_id: int) -> None:
        self.until(f"job {job_id} done", lambda: job_state(self.data_dir, job_id) == "done")

    # ---- checks on the final chain
    def events(self, name: str, job_id: int) -> list:
        event = getattr(self.c.registry.events, name)
        return event.get_logs(
            from_block=self.first_block,
            to_block=self.w3.eth.block_number,
            argument_filters={"job_id": job_id, "worker": self.address},
        )

    def assert_completed_once(self, job_id: int) -> None:
        """The job completed, with exactly one commit and one reveal of ours, the reveal in time."""
        view = self.c.get_job(job_id)
        assert view.phase == Phase.COMPLETED, view
        commits, reveals = self.events("ResultCommitted", job_id), self.events("ResultRevealed", job_id)
        assert len(commits) == 1 and len(reveals) == 1, (commits, reveals)
        revealed_at = self.w3.eth.get_block(reveals[0]["blockNumber"])["timestamp"]
        assert revealed_at < view.reveal_deadline

    def assert_ledger_matches_chain(self, external: Sequence[bytes] = ()) -> None:
        """Every recorded transaction's status is what the chain says; the address sent nothing else
        (but the test's ``external`` transactions); the nonce moved by exactly what was mined."""
        w3 = self.w3
        rows = ledger_rows(self.data_dir, "SELECT key, status, mined_block, mined_hash FROM txs")
        mined: dict[bytes, str] = {}
        for key, status, mined_block, mined_hash in rows:
            hashes = [
                HexBytes(r[0])
                for r in ledger_rows(self.data_dir, "SELECT hash FROM tx_hashes WHERE key=?", (key,))
            ]
            if status in ("mined", "confirmed", "reverted"):
                receipt = w3.eth.get_transaction_receipt(bytes(mined_hash))
                assert int(receipt["blockNumber"]) == mined_block, (key, receipt)
                assert int(receipt["status"]) == (0 if status == "reverted" else 1), (key, status)
                mined[bytes(mined_hash)] = key
                others = [h for h in hashes if h != HexBytes(mined_hash)]
            else:
                assert status == "dropped", (key, status)  # nothing may be left in flight at the end
                others = hashes
            for h in others:  # no other attempt of the same key is on chain
                with pytest.raises(TransactionNotFound):
                    w3.eth.get_transaction_receipt(h)
        sent = operator_txs(w3, self.address, self.first_block, int(w3.eth.block_number))
        assert len(sent) == len(set(sent))
        assert set(sent) == set(mined) | {bytes(h) for h in external}, (sent, mined, external)
        assert int(w3.eth.get_transaction_count(self.address)) - self.nonce_before == len(sent)

    def assert_one_tx_each(self, job_id: int, *labels: str) -> None:
        """For the job, exactly one mined attempt of each of ``labels`` (claim, commit...)."""
        rows = ledger_rows(
            self.data_dir,
            "SELECT key, status FROM txs WHERE job_id=? AND status IN ('mined', 'confirmed')",
            (job_id,),
        )
        landed = sorted(key.split("#")[0].split(":")[0] for key, _ in rows)
        assert landed == sorted(labels), ledger_rows(
            self.data_dir, "SELECT key, status, error, nonce, hash, mined_hash FROM txs"
        )


@pytest.fixture
def run(shared_market, tmp_path) -> Iterator[Callable[..., Run]]:
    """Make a `Run`; its worker is stopped at the end of the test whatever happens."""
    made: list[Run] = []

    def make(**env: str) -> Run:
        made.append(Run(shared_market, tmp_path, **env))
        return made[-1]

    yield make
    for r in made:
        if r.proc is not None:
            r.stop()
    rpc(shared_market.w3, "evm_setIntervalMining", 1)  # whatever a failed test left behind


# ---------------------------------------------------------------------------------------------- T20
def test_a_commit_dropped_from_the_pool_is_replaced_with_a_fee_bump_and_the_job_completes(run):
    """anvil_dropTransaction takes the worker's commit out of the pool; after TESSERA_STUCK_AFTER_S the
    worker signs a replacement paying at least TESSERA_FEE_BUMP_PERCENT more (tip and cap)."""
    r = run(TESSERA_STUCK_AFTER_S="2", TESSERA_FEE_BUMP_PERCENT="20")
    w3 = r.w3
    with manual_mining(w3):
        r.start()
        job_id, _ = post_job_now(r.market)
        mine(w3)  # one confirmation: the worker sees the job and claims it
        r.until_tx(f"claim:{job_id}", "sent")
        mine(w3)
        first = r.until_tx(f"commit:{job_id}", "sent")
        assert in_pool(w3, first["hash"])
        rpc(w3, "anvil_dropTransaction", HexBytes(first["hash"]).to_0x_hex())
        assert not in_pool(w3, first["hash"])
    r.until_done(job_id)
    assert r.stop() == 0
    r.assert_completed_once(job_id)
    commit = r.events("ResultCommitted", job_id)[0]
    landed = w3.eth.get_transaction(commit["transactionHash"])
    assert bytes(landed["hash"]) != bytes(first["hash"])  # a replacement, not the dropped bytes
    assert landed["nonce"] == first["nonce"]
    assert landed["maxFeePerGas"] >= first["max_fee"] * 1.2
    assert landed["maxPriorityFeePerGas"] >= first["priority_fee"] * 1.2
    assert len(attempts(r.data_dir, f"commit:{job_id}")) >= 2
    assert "stuck; replaced" in r.log
    r.assert_one_tx_each(job_id, "claim", "commit", "reveal", "finalize")
    r.assert_ledger_matches_chain()


# ---------------------------------------------------------------------------------------------- T18
@pytest.mark.parametrize("when", ["dead-from-the-start", "dies-after-the-claim"])
def test_a_dead_first_rpc_endpoint_fails_over_to_the_fallback_without_a_duplicate(run, shared_market, when):
    """TESSERA_RPC_URL is a closed port (or a proxy that starts refusing everything once the claim has
    landed); TESSERA_RPC_FALLBACK_URLS names a working endpoint. The job completes, each transaction once."""
    with RpcProxy(shared_market.rpc_url) as fallback, RpcProxy(shared_market.rpc_url) as primary:
        first_url = primary.url if when == "dies-after-the-claim" else f"http://127.0.0.1:{free_port()}"
        r = run(TESSERA_RPC_URL=first_url, TESSERA_RPC_FALLBACK_URLS=json.dumps([fallback.url]))
        job_id, _ = post_job_now(r.market)
        r.start()
        if when == "dies-after-the-claim":
            r.until_tx(f"claim:{job_id}", "mined", "confirmed")
            assert primary.raw_txs and not fallback.raw_txs  # everything went to the first endpoint so far
            primary.fault = Fault("drop")  # open connections are cut...
            primary.stop()  # ...and new ones refused
        r.until_done(job_id)
        assert r.stop() == 0
        broadcast = {bytes(h) for h in primary.raw_txs + fallback.raw_txs}
    assert fallback.raw_txs, "nothing was sent through the fallback"
    r.assert_completed_once(job_id)
    r.assert_one_tx_each(job_id, "claim", "commit", "reveal", "finalize")
    r.assert_ledger_matches_chain()
    recorded = {bytes(h[0]) for h in ledger_rows(r.data_dir, "SELECT hash FROM tx_hashes")}
    assert broadcast <= recorded  # nothing was signed and sent that the ledger does not know
    assert "failed on" in r.log  # the provider said which endpoint failed
