"""The worker does each piece of a job's work once: the spec is parsed once (cached by its digest for the
later steps), the inputs are checked once (before the claim; the runner checks its own copy again), and
one transaction of each kind is sent (the reveal, the last owed, settles the job: no finalize). Before, the
spec was parsed and hashed at the decision and again at the compute, and the inputs checked at both."""

from __future__ import annotations

import hashlib

import pytest

from offchain.compute.demo_models import mlp_infer_spec, mlp_input, mlp_weights
from offchain.ipfs import LocalBlockStore
from offchain.worker.ledger import JobState
from offchain.worker.service import Worker
from tests.support.market import post_job, publish_spec, worker_settings
from tests.worker.fakes import InProcessCompute

pytestmark = pytest.mark.anvil


def test_a_job_parses_its_spec_once_and_checks_its_inputs_once(market, operator, requester):
    store = LocalBlockStore(market.ipfs_dir)
    weights, batch = str(store.add_bytes(mlp_weights())), str(store.add_bytes(mlp_input()))
    cid, raw = publish_spec(
        market, mlp_infer_spec(weights_cid=weights, input_cid=batch).model_dump(mode="json")
    )
    job_id = post_job(market, requester, cid, hashlib.sha256(raw).digest())
    compute = InProcessCompute()
    worker = Worker(worker_settings(market, operator), compute=compute)
    worker.start()
    try:
        done = worker.wait_for(
            lambda: (j := worker.ledger.get_job(job_id)) and j.state == JobState.DONE, timeout_s=60
        )
    finally:
        worker.stop()
    keys = sorted(t.key for t in worker.store.txs())
    worker.close()
    assert done
    assert (compute.parses, compute.checks, compute.runs) == (1, 1, 1)
    assert keys == sorted(f"{k}:{job_id}" for k in ("claim", "commit", "reveal_and_finalize"))
