"""Defect 4, the finalize race: every worker of a job sent `finalize` the moment it could, and all but one
reverted on chain (gas burnt for nothing). Now the reveal is `reveal_and_finalize`: when every committer
reveals, the last reveal settles the job and no worker sends finalize at all. Only when a committer never
reveals does finalize remain: one worker per job, first in `finalize_order`, sends it once the reveal
deadline has passed; the others wait ``TESSERA_FINALIZE_FALLBACK_S`` per rank and send it only if the job
is still not settled. Three real worker processes (`python -m offchain.worker`) on one anvil, as
operators run them.

The workers reach anvil through a proxy that simulates at "latest" what they ask at "pending" (hosted
RPCs do; so does any node that is not the one another worker sent to): anvil's own pending state would
show the first settlement to the others' simulations and hide the race that Hardhat and real networks show.
"""

from __future__ import annotations

import hashlib
import signal
from pathlib import Path

import pytest
from web3 import Web3

from offchain.chain.bindings import Phase
from offchain.worker.faults import ENV
from offchain.worker.finalizer import finalize_order
from tests.faults.conftest import (
    SMALL_MATMUL,
    job_settled,
    stake_operator,
    start_worker,
    stop_worker,
    wait_until,
    worker_env,
)
from tests.faults.rpc_proxy import RpcProxy
from tests.support.chain import dev_account, rpc
from tests.support.market import STAKE, Market, post_job, publish_spec

pytestmark = pytest.mark.anvil
OPERATORS = (1, 3, 4)  # dev accounts: 1 is staked by the shared market, 3 and 4 here; 2 posts jobs


@pytest.fixture(scope="module")
def market(shared_market: Market) -> Market:
    for n in OPERATORS[1:]:
        stake_operator(shared_market, dev_account(0), dev_account(n), STAKE)
    return shared_market


@pytest.fixture(scope="module")
def rpc_url(market: Market):
    with RpcProxy(market.rpc_url) as proxy:
        proxy.pending_as_latest = True
        yield proxy.url


def post_triple_job(market: Market) -> int:
    cid, raw = publish_spec(market, SMALL_MATMUL)
    return post_job(market, dev_account(2), cid, hashlib.sha256(raw).digest(), replicas=3, quorum=2)


def registry_txs(
    w3: Web3, market: Market, first_block: int, last_block: int, selector: bytes
) -> dict[int, list[dict]]:
    """Every registry transaction calling ``selector`` mined in first..last (reverted ones too), by job id."""
    registry = market.contracts.registry.address.lower()
    found: dict[int, list[dict]] = {}
    for n in range(first_block, last_block + 1):
        block = w3.eth.get_block(n, full_transactions=True)
        for tx in block["transactions"]:
            data = bytes(tx["input"])
            if (tx["to"] or "").lower() == registry and data[:4] == selector:
                receipt = w3.eth.get_transaction_receipt(tx["hash"])
                job_id = int.from_bytes(data[4:36], "big")
                events = [e.name for e in market.contracts.events_in(receipt)]
                entry = {"from": tx["from"], "status": receipt["status"], "time": block["timestamp"]}
                found.setdefault(job_id, []).append({**entry, "events": events})
    return found


def finalize_txs(w3: Web3, market: Market, first_block: int, last_block: int) -> dict[int, list[dict]]:
    """Every finalize transaction mined in first..last (reverted ones too), by job id."""
    return registry_txs(w3, market, first_block, last_block, market.contracts.finalize(0).data[:4])


def reveal_txs(w3: Web3, market: Market, first_block: int, last_block: int) -> dict[int, list[dict]]:
    """Every reveal_and_finalize transaction mined in first..last, by job id."""
    selector = market.contracts.reveal_and_finalize(0, b"\0" * 32, "", b"\0" * 32).data[:4]
    return registry_txs(w3, market, first_block, last_block, selector)


def start_workers(
    market: Market, rpc_url: str, tmp_path: Path, extra: dict[int, dict[str, str]] | None = None
):
    procs = {}
    for n in OPERATORS:
        data_dir = tmp_path / f"w{n}" / "data"
        env = worker_env(market, dev_account(n), data_dir, rpc_url=rpc_url, TESSERA_FINALIZE_FALLBACK_S="4")
        procs[n] = start_worker({**env, **(extra or {}).get(n, {})}, tmp_path / f"w{n}")
    return procs


def logs_of(tmp_path: Path) -> str:
    return "\n".join(
        f"--- worker {n}\n" + (tmp_path / f"w{n}" / "worker.log").read_text(errors="replace")[-2500:]
        for n in OPERATORS
    )


def test_three_honest_workers_settle_each_job_in_the_last_reveal_without_a_finalize(
    market, rpc_url, tmp_path
):
    w3, c = market.w3, market.contracts
    first_block = w3.eth.block_number + 1
    procs = start_workers(market, rpc_url, tmp_path)
    try:
        jobs = [post_triple_job(market) for _ in range(2)]
        settled = wait_until(
            lambda: all(job_settled(tmp_path / f"w{n}" / "data", j) for n in OPERATORS for j in jobs),
            timeout_s=240,
        )
    finally:
        codes = [stop_worker(p) for p in procs.values()]
    assert settled, logs_of(tmp_path)
    assert codes == [0, 0, 0]
    assert all(c.get_job(j).phase == Phase.COMPLETED for j in jobs)
    last_block = w3.eth.block_number
    assert finalize_txs(w3, market, first_block, last_block) == {}  # not one, not even a no-op
    reveals = reveal_txs(w3, market, first_block, last_block)
    everyone = {dev_account(n).address for n in OPERATORS}
    for j in jobs:
        assert {tx["from"] for tx in reveals[j]} == everyone and len(reveals[j]) == 3, reveals[j]
        assert all(tx["status"] == 1 for tx in reveals[j]), reveals[j]
        # exactly one reveal settled the job: the one mined last (JobCompleted in its receipt)
        settling = [tx for tx in reveals[j] if "JobCompleted" in tx["events"]]
        assert len(settling) == 1, reveals[j]
        assert settling[0]["time"] == max(tx["time"] for tx in reveals[j])


def test_with_a_silent_committer_and_the_chosen_finalizer_down_the_next_one_finalizes_after_the_fallback(
    market, rpc_url, tmp_path
):
    """One worker commits and dies (its reveal never comes), so no reveal settles the job; the revealer
    first in the order dies right after broadcasting its reveal. The last one alive finalizes once the
    reveal deadline has passed and its one fallback period after that."""
    w3, c = market.w3, market.contracts
    first_block = w3.eth.block_number + 1
    job_id = post_triple_job(market)
    by_address = {dev_account(n).address: n for n in OPERATORS}
    order = finalize_order(job_id, list(by_address))
    silent, chosen, next_one = by_address[order[0]], by_address[order[1]], order[2]
    # finalize_order ranks revealers first: with ``silent`` not revealing, ``chosen`` is first, then next_one
    extra = {silent: {ENV: "commit_sent"}, chosen: {ENV: "reveal_and_finalize_sent"}}
    procs = start_workers(market, rpc_url, tmp_path, extra=extra)
    try:
        killed = wait_until(lambda: all(procs[n].poll() is not None for n in (silent, chosen)), timeout_s=180)
        revealed = wait_until(lambda: c.get_job(job_id).reveals == 2, timeout_s=60)
        deadline = c.get_job(job_id).reveal_deadline
        rpc(w3, "evm_setNextBlockTimestamp", deadline + 1)  # the silent one's reveal is overdue
        rpc(w3, "evm_mine")
        done = wait_until(lambda: c.get_job(job_id).phase.terminal, timeout_s=120)
        settled = wait_until(lambda: job_settled(tmp_path / f"w{by_address[next_one]}" / "data", job_id), 60)
    finally:
        codes = {n: stop_worker(p) for n, p in procs.items()}
    assert killed and codes[silent] == codes[chosen] == -signal.SIGKILL, logs_of(tmp_path)
    assert revealed and done and settled, logs_of(tmp_path)
    assert c.get_job(job_id).phase == Phase.COMPLETED
    assert not c.worker_entry(job_id, order[0]).revealed and c.worker_entry(job_id, order[1]).revealed
    sent = finalize_txs(w3, market, first_block, w3.eth.block_number)
    assert len(sent.get(job_id, [])) == 1, sent
    (tx,) = sent[job_id]
    assert tx["from"] == next_one and tx["status"] == 1 and "JobCompleted" in tx["events"]
    assert tx["time"] > deadline
    # it waited its turn: rank 1 behind the dead revealer (the time jump makes block times no measure)
    log = (tmp_path / f"w{by_address[next_one]}" / "worker.log").read_text(errors="replace")
    assert f"finalize is {order[1]}'s to send; this worker (rank 1) sends it in 4 s" in log, log[-3000:]
