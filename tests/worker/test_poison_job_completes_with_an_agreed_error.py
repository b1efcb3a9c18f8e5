"""A poison job fails for the requester, not for the worker: a claimed job whose own inputs make the
workload fail (an ``mlp-infer`` batch of the wrong width: valid safetensors, so it passes the checks
before the claim, refused by the workload in its child process as E_INPUT_INVALID) completes with the
canonical error result as its agreed result. The worker commits and reveals that result, is paid, and
its collateral is not slashed; before, it abandoned the job and lost collateral to the liveness slash."""

from __future__ import annotations

import hashlib

import pytest

from offchain.chain.bindings import Phase
from offchain.compute.demo_models import DEMO_SIZES, mlp_infer_spec, mlp_input, mlp_weights
from offchain.ipfs import LocalBlockStore
from offchain.worker.error_result import error_code_of, error_result_bytes
from offchain.worker.ledger import JobState
from offchain.worker.service import Worker
from tests.support.market import FEE, STAKE, post_job, publish_spec, worker_settings

pytestmark = pytest.mark.anvil


def test_a_job_whose_workload_refuses_its_inputs_completes_with_the_agreed_error(market, operator, requester):
    store = LocalBlockStore(market.ipfs_dir)
    weights = str(store.add_bytes(mlp_weights()))
    wrong_width = str(store.add_bytes(mlp_input(features=DEMO_SIZES[0] + 1)))
    spec = mlp_infer_spec(weights_cid=weights, input_cid=wrong_width)
    cid, raw = publish_spec(market, spec.model_dump(mode="json"))
    job_id = post_job(market, requester, cid, hashlib.sha256(raw).digest())
    c = market.contracts
    before = c.balance_of(operator.address)

    worker = Worker(worker_settings(market, operator))  # the real runner: the workload in a child process
    worker.start()
    try:
        done = worker.wait_for(
            lambda: (
                (j := worker.ledger.get_job(job_id)) is not None
                and (j.state == JobState.FAILED or (j.state == JobState.DONE and j.paid))
            ),
            timeout_s=90,
        )
    finally:
        worker.stop()
    job = worker.ledger.get_job(job_id)
    worker.close()
    assert done, f"job stuck in {job.state if job else None}"
    assert job.state == JobState.DONE, f"{job.state}: {job.error_code} {job.error_message}"

    expected = error_result_bytes("E_INPUT_INVALID")
    assert c.get_job(job_id).phase == Phase.COMPLETED
    assert job.result_digest == hashlib.sha256(expected).digest()
    assert c.worker_entry(job_id, operator.address).seal == job.result_digest  # revealed on chain
    uploaded = store.cat(job.result_cid, max_bytes=1 << 20, timeout_s=5)
    assert uploaded == expected and error_code_of(uploaded) == "E_INPUT_INVALID"
    # paid the pool, no slash: the whole stake is free again
    assert c.balance_of(operator.address) - before == FEE * (10_000 - 500) // 10_000 == job.paid
    assert c.free_stake(operator.address) == STAKE
