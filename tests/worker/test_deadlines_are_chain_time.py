"""Deadlines are block timestamps: the worker judges them on chain time, not on the machine's wall clock.

On Hardhat, chain time ran 28-29 s ahead of the wall clock after a burst of blocks; a dev chain moved by
`evm_increaseTime` runs hours ahead. A worker reading `time.time()` then claims jobs it can no longer
finish (and the reverse: with the chain behind, it skips jobs it could do).
"""

from __future__ import annotations

import hashlib
import time

import pytest

from offchain.chain.bindings import Phase
from offchain.worker.ledger import JobState
from offchain.worker.service import Worker
from tests.support.chain import rpc, transact
from tests.support.market import FEE, MATMUL, Market, post_job, publish_spec, worker_settings
from tests.worker.fakes import InProcessCompute

pytestmark = pytest.mark.anvil


def post_with_windows(market: Market, requester, cid: str, digest: bytes, claim_s: int, commit_s: int) -> int:
    c = market.contracts
    transact(market.w3, requester, c.token, "approve", c.registry.address, FEE)
    receipt = transact(
        market.w3, requester, c.registry, "post_job", cid, digest, FEE, 1, 1, 10**19, claim_s, commit_s, 600
    )
    return c.job_id_from(receipt)


def settle(worker: Worker, job_id: int, states: set[JobState], timeout_s: float) -> JobState | None:
    worker.start()
    try:
        worker.wait_for(
            lambda: (j := worker.ledger.get_job(job_id)) is not None and j.state in states,
            timeout_s=timeout_s,
        )
    finally:
        worker.stop()
    job = worker.ledger.get_job(job_id)
    return None if job is None else job.state


def test_a_chain_ahead_of_the_wall_clock_leaves_too_little_time_so_no_claim(market, operator, requester):
    cid, raw = publish_spec(market, MATMUL)  # max_runtime_s 60 + the 30 s claim margin: 90 s needed
    job_id = post_with_windows(market, requester, cid, hashlib.sha256(raw).digest(), claim_s=600, commit_s=30)
    view = market.contracts.get_job(job_id)
    # chain time moves 570 s ahead: the claim window is still open 30 s, the commit deadline 60 s away;
    # by the wall clock the commit deadline is still some 630 s away
    rpc(market.w3, "evm_increaseTime", 570)
    rpc(market.w3, "evm_mine")
    assert view.commit_deadline - time.time() > 500
    nonce = market.w3.eth.get_transaction_count(operator.address)

    worker = Worker(worker_settings(market, operator), compute=InProcessCompute())
    state = settle(worker, job_id, {JobState.SKIPPED, JobState.CLAIMING, JobState.CLAIMED}, timeout_s=30)
    job = worker.ledger.get_job(job_id)
    worker.close()
    assert state == JobState.SKIPPED, job
    assert job.error_code == "E_DEADLINE_TOO_CLOSE"
    assert market.w3.eth.get_transaction_count(operator.address) == nonce  # no claim sent


def test_a_chain_behind_the_wall_clock_still_has_its_job_claimed_and_done(market, operator, requester):
    cid, raw = publish_spec(market, MATMUL)
    job_id = post_job(market, requester, cid, hashlib.sha256(raw).digest())  # 600 s windows
    # the machine's wall clock runs an hour ahead of the chain (equivalently, the chain is an hour behind):
    # by the wall clock every window of the job has closed, by chain time it is all ahead
    worker = Worker(
        worker_settings(market, operator), compute=InProcessCompute(), clock=lambda: time.time() + 3_600
    )
    state = settle(worker, job_id, {JobState.SKIPPED, JobState.FAILED, JobState.DONE}, timeout_s=60)
    job = worker.ledger.get_job(job_id)
    worker.close()
    assert state == JobState.DONE, job
    assert market.contracts.get_job(job_id).phase == Phase.COMPLETED
