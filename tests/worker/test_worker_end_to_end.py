"""The worker as an operator runs it: a real anvil mining a block a second, contracts deployed from a
manifest, a job whose spec lives in the local IPFS store, and the `Worker` service running in-process."""

from __future__ import annotations

import hashlib
import threading

import pytest

from offchain.chain.bindings import Phase
from offchain.compute.demo_models import mlp_infer_spec, mlp_input, mlp_weights
from offchain.ipfs import LocalBlockStore
from offchain.worker.ledger import JobState
from offchain.worker.service import Worker
from tests.support.chain import TSR, rpc
from tests.support.market import (
    FEE,
    MATMUL,
    STAKE,
    post_job,
    publish_spec,
    worker_settings,
)
from tests.worker.fakes import InProcessCompute

pytestmark = pytest.mark.anvil


def test_a_staked_worker_completes_a_matmul_job_is_paid_and_claims_emission(market, operator, requester):
    cid, raw = publish_spec(market, MATMUL)
    job_id = post_job(market, requester, cid, hashlib.sha256(raw).digest())
    c = market.contracts
    before = c.balance_of(operator.address)

    worker = Worker(worker_settings(market, operator))  # the real runner: a child process per job
    report = worker.setup()
    assert report.free_stake == STAKE
    worker.start()
    try:
        done = worker.wait_for(
            lambda: (j := worker.ledger.get_job(job_id)) is not None and j.state == JobState.DONE and j.paid,
            timeout_s=90,
        )
    finally:
        worker.stop()
    job = worker.ledger.get_job(job_id)
    assert done, f"job stuck in {job.state if job else None} ({job.error_code if job else ''})"

    assert c.get_job(job_id).phase == Phase.COMPLETED
    pool = FEE * (10_000 - 500) // 10_000
    assert c.balance_of(operator.address) - before == pool == job.paid
    assert job.outcome == "completed"
    entry = c.worker_entry(job_id, operator.address)
    assert entry.revealed and entry.seal == job.result_digest
    result = LocalBlockStore(market.ipfs_dir).cat(job.result_cid, max_bytes=1 << 20, timeout_s=5)
    assert hashlib.sha256(result).digest() == job.result_digest
    assert c.free_stake(operator.address) == STAKE  # collateral unlocked
    # exactly one claim, commit and reveal_and_finalize were sent: the one reveal owed settled the job
    assert market.w3.eth.get_transaction_count(operator.address) == 3 + 3
    assert sorted(t.key for t in worker.store.txs() if t.job_id == job_id) == [
        f"claim:{job_id}",
        f"commit:{job_id}",
        f"reveal_and_finalize:{job_id}",
    ]

    # once the epoch has ended, the emission duty mints the burned protocol fee back to the only worker
    assert worker.pipeline.claim_emission() == 0  # the epoch is still running
    rpc(market.w3, "evm_increaseTime", 61)
    rpc(market.w3, "evm_mine")
    assert worker.pipeline.claim_emission() == 1
    key = f"emission:{job.epoch}"
    assert worker.txm.wait(key, timeout_s=10).status.value in ("mined", "confirmed")
    assert c.balance_of(operator.address) - before == pool + FEE * 500 // 10_000
    assert worker.pipeline.claim_emission() == 0  # nothing left; the job is marked claimed
    assert worker.ledger.get_job(job_id).emission_claimed
    worker.close()


def test_a_spec_that_does_not_match_its_digest_is_skipped_without_a_transaction(market, operator, requester):
    cid, _ = publish_spec(market, MATMUL)
    job_id = post_job(market, requester, cid, hashlib.sha256(b"another spec").digest())
    nonce = market.w3.eth.get_transaction_count(operator.address)

    worker = Worker(worker_settings(market, operator), compute=InProcessCompute())
    worker.start()
    try:
        settled = worker.wait_for(
            lambda: (j := worker.ledger.get_job(job_id)) is not None and j.state == JobState.SKIPPED,
            timeout_s=30,
        )
    finally:
        worker.stop()
    job = worker.ledger.get_job(job_id)
    worker.close()
    assert settled
    assert job.error_code == "E_SPEC_DIGEST_MISMATCH"
    assert market.w3.eth.get_transaction_count(operator.address) == nonce
    assert market.contracts.get_job(job_id).phase == Phase.OPEN


def test_a_restarted_worker_resumes_and_never_commits_twice(market, operator, requester):
    store = LocalBlockStore(market.ipfs_dir)
    weights, batch = str(store.add_bytes(mlp_weights())), str(store.add_bytes(mlp_input()))
    spec = mlp_infer_spec(weights_cid=weights, input_cid=batch)
    cid, raw = publish_spec(market, spec.model_dump(mode="json"))
    job_id = post_job(market, requester, cid, hashlib.sha256(raw).digest())
    settings = worker_settings(market, operator)

    gate = threading.Event()  # the first worker stops while its workload "runs"
    first = Worker(settings, compute=InProcessCompute(gate))
    first.start()
    claimed = first.wait_for(
        lambda: (j := first.ledger.get_job(job_id)) is not None and j.state == JobState.CLAIMED, timeout_s=30
    )
    first.request_stop()
    gate.set()
    first.stop()
    first.close()
    assert claimed

    second = Worker(settings, compute=InProcessCompute())
    second.start()
    try:
        done = second.wait_for(lambda: second.ledger.get_job(job_id).state == JobState.DONE, timeout_s=90)
    finally:
        second.stop()
    keys = [t.key for t in second.store.txs()]
    inputs = sorted(p.name for p in (settings.data_dir / "jobs" / str(job_id) / "inputs").iterdir())
    second.close()
    assert inputs == sorted([weights, batch])  # fetched by CID (and verified against it)
    assert done
    assert keys.count(f"commit:{job_id}") == 1 and keys.count(f"claim:{job_id}") == 1
    assert market.contracts.get_job(job_id).phase == Phase.COMPLETED
    assert market.w3.eth.get_transaction_count(operator.address) == 3 + 3  # no finalize: the reveal settled


def test_the_claim_policy_declines_what_it_cannot_finish_or_afford_without_a_transaction(
    market, operator, requester
):
    slow = {**MATMUL, "resources": {"max_runtime_s": 5_000}}  # past the 1200 s commit deadline
    slow_cid, slow_raw = publish_spec(market, slow)
    cid, raw = publish_spec(market, MATMUL)
    digest = hashlib.sha256(raw).digest()
    too_slow = post_job(market, requester, slow_cid, hashlib.sha256(slow_raw).digest())
    too_cheap = post_job(market, requester, cid, digest, fee=TSR // 10)
    # more collateral than the operator's whole stake (the registry caps collateral at 100 x the fee)
    too_risky = post_job(market, requester, cid, digest, fee=2 * STAKE // 100, collateral=2 * STAKE)
    nonce = market.w3.eth.get_transaction_count(operator.address)

    # 0.095 TSR of fee share against ~600k gas at ~1 gwei is a ratio near 160: ask for 1000
    worker = Worker(worker_settings(market, operator, min_fee_to_gas_ratio=1_000), compute=InProcessCompute())
    worker.start()
    ids = (too_slow, too_cheap, too_risky)
    try:
        settled = worker.wait_for(
            lambda: all(
                (j := worker.ledger.get_job(i)) is not None and j.state == JobState.SKIPPED for i in ids
            ),
            timeout_s=30,
        )
    finally:
        worker.stop()
    codes = [worker.ledger.get_job(i).error_code for i in ids]
    worker.close()
    assert settled, codes
    assert codes == ["E_DEADLINE_TOO_CLOSE", "E_FEE_TOO_LOW", "E_STAKE_TOO_LOW"]
    assert market.w3.eth.get_transaction_count(operator.address) == nonce
