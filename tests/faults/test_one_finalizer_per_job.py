"""Defect 4, the finalize race: every worker of a job sent `finalize` the moment it could, and all but one
reverted on chain (gas burnt for nothing). Now one worker per job, first in `finalize_order`, sends it at
once; the others wait ``TESSERA_FINALIZE_FALLBACK_S`` per rank and send it only if the job is still not
settled. Three real worker processes (`python -m offchain.worker`) on one anvil, as operators run them.

The workers reach anvil through a proxy that simulates at "latest" what they ask at "pending" (hosted
RPCs do; so does any node that is not the one another worker sent to): anvil's own pending state would
show the first finalize to the others' simulations and hide the race that Hardhat and real networks show.
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
from tests.support.chain import dev_account
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


def finalize_txs(w3: Web3, market: Market, first_block: int, last_block: int) -> dict[int, list[dict]]:
    """Every finalize transaction mined in first..last (reverted ones too), by job id."""
    registry = market.contracts.registry.address.lower()
    selector = market.contracts.finalize(0).data[:4]
    found: dict[int, list[dict]] = {}
    for n in range(first_block, last_block + 1):
        block = w3.eth.get_block(n, full_transactions=True)
        for tx in block["transactions"]:
            data = bytes(tx["input"])
            if (tx["to"] or "").lower() == registry and data[:4] == selector:
                receipt = w3.eth.get_transaction_receipt(tx["hash"])
                job_id = int.from_bytes(data[4:36], "big")
                entry = {"from": tx["from"], "status": receipt["status"], "time": block["timestamp"]}
                found.setdefault(job_id, []).append(entry)
    return found


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


def test_three_workers_send_exactly_one_finalize_per_job(market, rpc_url, tmp_path):
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
    sent = finalize_txs(w3, market, first_block, w3.eth.block_number)
    assert {j: len(sent.get(j, [])) for j in jobs} == {j: 1 for j in jobs}, sent
    assert all(tx["status"] == 1 for j in jobs for tx in sent[j]), sent
    # the one that sent it is the job's first in the order every worker computes
    everyone = [dev_account(n).address for n in OPERATORS]
    assert [sent[j][0]["from"] for j in jobs] == [finalize_order(j, everyone)[0] for j in jobs]


def test_with_the_chosen_finalizer_down_the_next_one_finalizes_after_the_fallback(market, rpc_url, tmp_path):
    w3, c = market.w3, market.contracts
    first_block = w3.eth.block_number + 1
    job_id = post_triple_job(market)
    by_address = {dev_account(n).address: n for n in OPERATORS}
    order = finalize_order(job_id, list(by_address))
    chosen, next_one = by_address[order[0]], order[1]
    # the chosen finalizer dies right after broadcasting its reveal (SIGKILL, as a power cut would)
    procs = start_workers(market, rpc_url, tmp_path, extra={chosen: {ENV: "reveal_sent"}})
    try:
        killed = wait_until(lambda: procs[chosen].poll() is not None, timeout_s=180)
        done = wait_until(lambda: c.get_job(job_id).phase.terminal, timeout_s=120)
        alive = [n for n in OPERATORS if n != chosen]
        settled = wait_until(
            lambda: all(job_settled(tmp_path / f"w{n}" / "data", job_id) for n in alive), timeout_s=60
        )
    finally:
        codes = {n: stop_worker(p) for n, p in procs.items()}
    assert killed and codes[chosen] == -signal.SIGKILL, logs_of(tmp_path)
    assert done and settled, logs_of(tmp_path)
    assert c.get_job(job_id).phase == Phase.COMPLETED
    assert c.worker_entry(job_id, order[0]).revealed  # the dead one had revealed: finalize was its to send
    sent = finalize_txs(w3, market, first_block, w3.eth.block_number)
    assert len(sent.get(job_id, [])) == 1, sent
    (tx,) = sent[job_id]
    assert tx["from"] == next_one and tx["status"] == 1
    reveals = c.registry.events.ResultRevealed.get_logs(
        from_block=first_block, to_block=w3.eth.block_number, argument_filters={"job_id": job_id}
    )
    last_reveal = max(w3.eth.get_block(r["blockNumber"])["timestamp"] for r in reveals)
    assert tx["time"] - last_reveal >= 3  # the 4 s fallback, give or take a block's rounding
