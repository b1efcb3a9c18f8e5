"""T17/T18/T20/T21: the real worker (`python -m offchain.worker`) against chain-side faults on anvil.

* T17 reorgs: a job's JobPosted reorged away after the worker claimed it (and, xfail until the pipeline
  handles it, replaced by another job under the same id); the worker's own commit reorged out after it
  was mined, at 2 confirmations (still watched) and at 1 (the default: found through the nonce gap).
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
import time
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
    worker_env,
)
from tests.faults.rpc_proxy import Fault, RpcProxy
from tests.support.chain import dev_account, rpc, send_raw
from tests.support.market import COLLATERAL, FEE, Market, publish_spec

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


def post_job_now(market: Market, spec: dict = SMALL_MATMUL, *, approve: bool = True) -> tuple[int, int]:
    """Post a job (its approval and post in one block, mined at once); returns (job id, block)."""
    w3, c, requester = market.w3, market.contracts, dev_account(2)
    cid, raw = publish_spec(market, spec)
    if approve:
        send_raw(
            w3,
            requester,
            {"to": c.token.address, "data": c.token.encode_abi("approve", [c.registry.address, FEE])},
        )
    args = [cid, hashlib.sha256(raw).digest(), FEE, 1, 1, COLLATERAL, 600, 600, 600]
    tx = send_raw(w3, requester, {"to": c.registry.address, "data": c.registry.encode_abi("post_job", args)})
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


def cursor(data_dir: Path) -> int:
    rows = ledger_rows(data_dir, "SELECT block FROM cursors")
    return int(rows[0][0]) if rows else -1


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

    def until(
        self, what: str, predicate: Callable[[], bool], timeout_s: float = WAIT_S, *, mining: bool = False
    ) -> None:
        """Wait for ``predicate``; with ``mining``, mine a block every quarter second meanwhile (besides
        the interval miner: the job's remaining transactions land without waiting a second each; anvil
        keeps block timestamps on the wall clock)."""
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}\n--- worker log:\n{self.log[-5000:]}")
            if mining:
                mine(self.w3)
            time.sleep(0.25 if mining else 0.1)

    def until_tx(self, key: str, *statuses: str, mining: bool = False) -> dict:
        self.until(
            f"{key} in {statuses}",
            lambda: (tx_row(self.data_dir, key) or {}).get("status") in statuses,
            mining=mining,
        )
        return tx_row(self.data_dir, key)  # type: ignore[return-value]

    def until_done(self, job_id: int) -> None:
        """The job is done and no transaction is left in flight (the pipeline moves on as soon as the
        chain shows the effect; the transaction's own row is settled by the next refresh)."""
        self.until(f"job {job_id} done", lambda: job_state(self.data_dir, job_id) == "done", mining=True)
        self.until("every transaction settled", lambda: not self.in_flight(), mining=True)

    def in_flight(self) -> list[tuple]:
        return ledger_rows(self.data_dir, "SELECT key, status FROM txs WHERE status IN ('signed', 'sent')")

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
    r = run(TESSERA_STUCK_AFTER_S="3", TESSERA_FEE_BUMP_PERCENT="20")
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
    r.assert_one_tx_each(job_id, "claim", "commit", "reveal_and_finalize")
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
            r.until_tx(f"claim:{job_id}", "mined", "confirmed", mining=True)
            assert primary.raw_txs and not fallback.raw_txs  # everything went to the first endpoint so far
            primary.fault = Fault("drop")  # open connections are cut...
            primary.stop()  # ...and new ones refused
        r.until_done(job_id)
        assert r.stop() == 0
        broadcast = {bytes(h) for h in primary.raw_txs + fallback.raw_txs}
    assert fallback.raw_txs, "nothing was sent through the fallback"
    r.assert_completed_once(job_id)
    r.assert_one_tx_each(job_id, "claim", "commit", "reveal_and_finalize")
    r.assert_ledger_matches_chain()
    recorded = {bytes(h[0]) for h in ledger_rows(r.data_dir, "SELECT hash FROM tx_hashes")}
    assert broadcast <= recorded  # nothing was signed and sent that the ledger does not know
    assert "failed on" in r.log  # the provider said which endpoint failed


def test_transactions_sent_with_the_worker_key_by_someone_else_are_stepped_over_and_nothing_is_lost(run):
    """While the worker runs, the same key is used elsewhere: A takes the nonce the worker would use
    next (the worker steps over it), B replaces the worker's pending commit in the pool (the worker sees
    its nonce used by a transaction that is not its own, marks the commit dropped and sends it again
    under a new nonce). One claim, commit and reveal_and_finalize of the worker land; A and B land."""
    r = run(TESSERA_STUCK_AFTER_S="60")  # recovery must come from the nonce check, not from a fee bump
    w3, operator = r.w3, r.operator
    to_self = {"to": operator.address, "value": 0, "gas": 21_000}
    with manual_mining(w3):
        r.start()
        job_id, _ = post_job_now(r.market)
        mine(w3)
        claim = r.until_tx(f"claim:{job_id}", "sent")
        a = send_raw(w3, operator, to_self)  # the next nonce, taken behind the worker's back
        assert w3.eth.get_transaction(a)["nonce"] == claim["nonce"] + 1
        mine(w3)
        commit = r.until_tx(f"commit:{job_id}", "sent")
        assert commit["nonce"] == claim["nonce"] + 2  # stepped over A
        b = send_raw(  # same nonce as the pending commit, paying enough to replace it
            w3,
            operator,
            {
                **to_self,
                "nonce": commit["nonce"],
                "maxFeePerGas": 2 * commit["max_fee"],
                "maxPriorityFeePerGas": 2 * commit["priority_fee"],
            },
        )
        assert in_pool(w3, b) and not in_pool(w3, commit["hash"])
        mine(w3)
        r.until_tx(f"commit:{job_id}", "dropped")
    r.until_done(job_id)
    assert r.stop() == 0
    r.assert_completed_once(job_id)
    again = tx_row(r.data_dir, f"commit:{job_id}#2")
    assert again is not None and again["status"] in ("mined", "confirmed")
    assert again["nonce"] == commit["nonce"] + 1
    assert "was used by another transaction" in r.log
    r.assert_one_tx_each(job_id, "claim", "commit", "reveal_and_finalize")
    r.assert_ledger_matches_chain(external=[a, b])


# ---------------------------------------------------------------------------------------------- T17
@pytest.mark.parametrize(
    ("confirmations", "stuck_after_s"),
    [("2", "60"), ("1", "2")],
    ids=["2-confirmations:receipt-vanished", "1-confirmation:nonce-gap"],
)
def test_a_commit_reorged_out_after_it_was_mined_is_sent_again_and_lands_once(
    run, confirmations, stuck_after_s
):
    """The worker's commit is mined, then a one-block reorg replaces its block with an empty one (anvil
    does not put the transaction back in its pool), while the reveal waits in the pool behind it.
    With TESSERA_CONFIRMATIONS=2 the commit is still MINED (watched): the worker sees its receipt vanish
    and re-sends the same signed bytes at once (no fee bump: TESSERA_STUCK_AFTER_S is 60 s). With 1 it is
    CONFIRMED (no longer watched): once the reveal is stuck the worker finds the commit's nonce unused and
    re-sends the commit before bumping anything. Either way the job completes with one commit."""
    r = run(TESSERA_CONFIRMATIONS=confirmations, TESSERA_STUCK_AFTER_S=stuck_after_s)
    w3 = r.w3
    with manual_mining(w3):
        r.start()
        job_id, _ = post_job_now(r.market)
        mine(w3, int(confirmations))  # buried deep enough: the worker acts on the job
        r.until_tx(f"claim:{job_id}", "sent")
        mine(w3)
        commit = r.until_tx(f"commit:{job_id}", "sent")
        mine(w3)
        mined = r.until_tx(f"commit:{job_id}", "mined" if confirmations == "2" else "confirmed")
        r.until_tx(f"reveal_and_finalize:{job_id}", "sent")  # the reveal is pending behind the commit
        rpc(w3, "anvil_reorg", 1, [])
        assert w3.eth.block_number == mined["mined_block"]  # same height, another block
        with pytest.raises(TransactionNotFound):
            w3.eth.get_transaction_receipt(commit["hash"])
        assert not r.c.worker_entry(job_id, r.address).committed
        r.until_tx(f"commit:{job_id}", "sent")
        assert in_pool(w3, commit["hash"])  # the same bytes, back in the pool
    r.until_done(job_id)
    assert r.stop() == 0
    r.assert_completed_once(job_id)
    landed = r.events("ResultCommitted", job_id)[0]
    assert bytes(landed["transactionHash"]) == bytes(commit["hash"])
    assert landed["blockHash"] != mined["mined_hash"]
    assert "vanished (reorg)" in r.log
    r.assert_one_tx_each(job_id, "claim", "commit", "reveal_and_finalize")
    r.assert_ledger_matches_chain()


def test_a_job_reorged_away_after_the_claim_gets_no_commit_and_the_ledger_follows_the_chain(run):
    """The worker sees JobPosted (two confirmations) and sends its claim; before the claim is mined a
    reorg deeper than the confirmations replaces the job's block and the two above it with empty blocks:
    the job no longer exists. The claim lands and reverts; the worker gives the job up without a commit,
    its log cursor rewinds past the reorg, and every block hash it keeps is the final chain's."""
    r = run(TESSERA_CONFIRMATIONS="2", TESSERA_STUCK_AFTER_S="60")
    w3 = r.w3
    with manual_mining(w3):
        r.start()
        job_id, posted_at = post_job_now(r.market)
        head = mine(w3, 2)
        r.until_tx(f"claim:{job_id}", "sent")
        r.until("the cursor at the job's block", lambda: cursor(r.data_dir) >= posted_at)
        rpc(w3, "anvil_reorg", head - posted_at + 1, [])
        assert r.c.get_job(job_id).phase == Phase.UNKNOWN
    r.until("the job given up", lambda: job_state(r.data_dir, job_id) in ("skipped", "failed"), mining=True)
    r.until("the cursor past the reorg", lambda: cursor(r.data_dir) > head, mining=True)
    assert r.stop() == 0
    assert r.c.get_job(job_id).phase == Phase.UNKNOWN
    keys = [k for (k,) in ledger_rows(r.data_dir, "SELECT key FROM txs WHERE job_id=?", (job_id,))]
    assert keys and all(k.startswith("claim:") for k in keys), keys  # no commit, reveal or finalize
    assert not r.events("ResultCommitted", job_id)
    kept = ledger_rows(r.data_dir, "SELECT number, hash FROM block_hashes")
    assert kept and all(bytes(w3.eth.get_block(n)["hash"]) == bytes(h) for n, h in kept), kept
    assert "chain reorganised" in r.log
    r.assert_ledger_matches_chain()


# ---------------------------------------------------------------------------------------------- T21
CAP_GWEI, TIP_GWEI = 1.0, 0.1
CAP = int(CAP_GWEI * GWEI)
SPIKE = 100 * CAP


def fall_below(r: Run, fee: int) -> int:
    """Mine empty blocks (the base fee falls 12.5% a block) until the pending base fee is at most ``fee``;
    returns how many were mined."""
    n = 0
    while pending_base_fee(r.w3) > fee:
        assert n < 100, pending_base_fee(r.w3)
        mine(r.w3)
        n += 1
    return n


def assert_never_above_cap(r: Run, cap: int) -> None:
    """No transaction the worker signed (every attempt in its ledger) or sent (on chain) tops the cap."""
    raws = [bytes(x) for (x,) in ledger_rows(r.data_dir, "SELECT raw FROM tx_hashes")]
    assert raws and all(signed_fees(x)[0] <= cap for x in raws), [signed_fees(x) for x in raws]
    assert all(int(f) <= cap for (f,) in ledger_rows(r.data_dir, "SELECT max_fee FROM txs"))
    sent = operator_txs(r.w3, r.address, r.first_block, int(r.w3.eth.block_number))
    assert sent and all(r.w3.eth.get_transaction(h)["maxFeePerGas"] <= cap for h in sent)


def test_a_fee_spike_above_the_cap_makes_the_worker_abstain_then_commit_when_the_fee_falls(run):
    """Right after the claim lands the base fee jumps to 100x TESSERA_MAX_FEE_GWEI: the worker signs
    nothing and says why (E_FEE_ABOVE_CAP, a warning per retry); once empty blocks bring the base fee back
    under the cap it commits, reveals and finalizes well before the deadlines."""
    r = run(TESSERA_MAX_FEE_GWEI=str(CAP_GWEI), TESSERA_PRIORITY_FEE_GWEI=str(TIP_GWEI))
    w3 = r.w3
    with manual_mining(w3):
        r.start()
        job_id, _ = post_job_now(r.market)
        mine(w3)
        r.until_tx(f"claim:{job_id}", "sent")
        mine(w3)  # the claim lands...
        rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(SPIKE))
        mine(w3)  # ...and the next block's base fee is 100x the cap
        assert pending_base_fee(w3) > CAP
        r.until(
            "three fee-cap warnings (or a commit)",
            lambda: r.log.count("E_FEE_ABOVE_CAP") >= 3 or tx_row(r.data_dir, f"commit:{job_id}") is not None,
        )
        signed = tx_row(r.data_dir, f"commit:{job_id}")
        assert signed is None, f"a commit signed at {signed} while the base fee was above the cap"
        fall_below(r, CAP - int(TIP_GWEI * GWEI))
    r.until_done(job_id)
    assert r.stop() == 0
    warning = next(line for line in r.log.splitlines() if "E_FEE_ABOVE_CAP" in line)
    assert "WARNING" in warning and f"job {job_id}" in warning and "cap" in warning, warning
    r.assert_completed_once(job_id)
    assert_never_above_cap(r, CAP)
    r.assert_one_tx_each(job_id, "claim", "commit", "reveal_and_finalize")
    r.assert_ledger_matches_chain()


def test_a_pending_commit_caught_by_a_fee_spike_is_bumped_up_to_the_cap_never_above(run):
    """The commit is in the pool when the base fee jumps to 100x the cap (anvil drops it as
    underpriced). After TESSERA_STUCK_AFTER_S the worker replaces it, at most at the cap, keeps offering
    it while the node refuses it, and it lands once the base fee falls under the cap."""
    r = run(
        TESSERA_MAX_FEE_GWEI=str(CAP_GWEI), TESSERA_PRIORITY_FEE_GWEI=str(TIP_GWEI), TESSERA_STUCK_AFTER_S="2"
    )
    w3 = r.w3
    with manual_mining(w3):
        r.start()
        job_id, _ = post_job_now(r.market)
        mine(w3)
        r.until_tx(f"claim:{job_id}", "sent")
        mine(w3)
        first = r.until_tx(f"commit:{job_id}", "sent")
        assert first["max_fee"] < CAP
        rpc(w3, "anvil_setNextBlockBaseFeePerGas", hex(SPIKE))
        mine(w3)
        r.until("the commit bumped", lambda: tx_row(r.data_dir, f"commit:{job_id}")["max_fee"] >= CAP)
        assert_never_above_cap(r, CAP)  # the replacements so far (the first attempt is on chain: no)
        assert not r.c.worker_entry(job_id, r.address).committed
        fall_below(r, CAP // 2)
    r.until_done(job_id)
    assert r.stop() == 0
    assert "stuck; replaced" in r.log
    r.assert_completed_once(job_id)
    assert_never_above_cap(r, CAP)
    assert len(attempts(r.data_dir, f"commit:{job_id}")) >= 2
    landed = w3.eth.get_transaction(r.events("ResultCommitted", job_id)[0]["transactionHash"])
    assert landed["maxFeePerGas"] == CAP
    r.assert_one_tx_each(job_id, "claim", "commit", "reveal_and_finalize")
    r.assert_ledger_matches_chain()


def test_a_job_id_taken_over_by_another_job_in_a_reorg_is_not_served_with_the_old_spec(run):
    """As above, but the blocks that replace the job's block hold another post from the same requester:
    the job id now names a job with another spec. The worker's claim (signed for the id) lands on the new
    job; it must work on the new spec (or give the job up), never commit the old spec's result."""
    r = run(TESSERA_CONFIRMATIONS="2", TESSERA_STUCK_AFTER_S="60")
    w3, c, requester = r.w3, r.c, dev_account(2)
    with manual_mining(w3):
        r.start()
        send_raw(
            w3,
            requester,
            {"to": c.token.address, "data": c.token.encode_abi("approve", [c.registry.address, 2 * FEE])},
        )
        mine(w3)
        job_id, posted_at = post_job_now(r.market, approve=False)
        head = mine(w3, 2)
        r.until_tx(f"claim:{job_id}", "sent")
        other_spec = {**SMALL_MATMUL, "workload": {**SMALL_MATMUL["workload"], "seed": 12}}
        cid, raw = publish_spec(r.market, other_spec)
        other_digest = hashlib.sha256(raw).digest()
        original = w3.eth.get_block(posted_at, full_transactions=True)["transactions"]
        nonce = next(tx["nonce"] for tx in original if tx["from"] == requester.address)
        args = [cid, other_digest, FEE, 1, 1, COLLATERAL, 600, 600, 600]
        replacement = requester.sign_transaction(
            {
                "type": 2, "chainId": w3.eth.chain_id, "nonce": nonce, "to": c.registry.address,
                "data": c.registry.encode_abi("post_job", args), "value": 0, "gas": 1_000_000,
                "maxFeePerGas": 10 * GWEI, "maxPriorityFeePerGas": GWEI,
            }
        )  # fmt: skip
        rpc(w3, "anvil_reorg", head - posted_at + 1, [[replacement.raw_transaction.to_0x_hex(), 0]])
        view = c.get_job(job_id)
        assert view.phase == Phase.OPEN, view  # the id is taken again, by the other job
    r.until(
        "the job settled",
        lambda: job_state(r.data_dir, job_id) in ("done", "failed", "skipped"),
        mining=True,
    )
    r.until("every transaction settled", lambda: not r.in_flight(), mining=True)
    assert r.stop() == 0
    r.assert_ledger_matches_chain()
    if r.events("ResultCommitted", job_id):  # it served the job: it must have been the new spec
        (digest,) = ledger_rows(r.data_dir, "SELECT spec_digest FROM jobs WHERE job_id=?", (job_id,))[0]
        used = (r.data_dir / "jobs" / str(job_id) / "spec.json").read_bytes()
        assert bytes(digest) == other_digest, "the ledger still holds the reorged-away job's spec digest"
        assert hashlib.sha256(used).digest() == other_digest, "committed a result of the reorged-away spec"
