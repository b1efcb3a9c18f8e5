"""When the worker decides against the clock: at the moment of the claim (after a slow spec fetch), and,
once a job is claimed, as long as a commit can still land (giving up loses collateral for sure).

The worker's local clock (the monotonic ticks its chain-time estimate adds to the newest block's
timestamp) skips forward at a chosen moment, as a stalled machine's would; the chain's own time does not
move, so the contracts still accept what the worker sends: only the worker's decision is under test.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

import pytest

from offchain.chain.bindings import Phase
from offchain.ipfs import LocalBlockStore
from offchain.worker.ledger import JobState
from offchain.worker.service import Worker
from tests.support.market import MATMUL, post_job, publish_spec, worker_settings
from tests.worker.fakes import InProcessCompute

pytestmark = pytest.mark.anvil


class SkewedClock:
    """Monotonic ticks plus an offset that tests move forward; ``reads`` is the estimate they feed (the
    worker's chain clock), so a jump lands that estimate on a chosen chain time."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.reads: Callable[[], float] = time.time
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return time.monotonic() + self.offset

    def jump_to(self, when: float) -> None:
        ahead = max(0.0, when - self.reads())
        with self._lock:
            self.offset += ahead


class SlowSpecStore(LocalBlockStore):
    """The local store, but reading ``cid`` takes (on the worker's clock) until ``until()``."""

    def __init__(self, root, cid: str, clock: SkewedClock, until: Callable[[], float]) -> None:
        super().__init__(root)
        self._slow_cid, self._clock, self._until = cid, clock, until

    def cat(self, cid, *, max_bytes: int, timeout_s: float) -> bytes:
        data = super().cat(cid, max_bytes=max_bytes, timeout_s=timeout_s)
        if str(cid) == self._slow_cid:
            self._clock.jump_to(self._until())
        return data


def in_state(worker: Worker, job_id: int, state: JobState) -> bool:
    job = worker.ledger.get_job(job_id)
    return job is not None and job.state == state


def test_a_spec_fetch_that_eats_the_time_left_means_no_claim(market, operator, requester):
    cid, raw = publish_spec(market, MATMUL)  # max_runtime_s 60; the claim margin is 30 s
    job_id = post_job(market, requester, cid, hashlib.sha256(raw).digest())
    commit_deadline = market.contracts.get_job(job_id).commit_deadline
    nonce = market.w3.eth.get_transaction_count(operator.address)
    clock = SkewedClock()
    # when the decision starts there are 20 minutes; when the spec arrives, 60 s: less than 60 + 30
    store = SlowSpecStore(market.ipfs_dir, cid, clock, until=lambda: commit_deadline - 60)
    worker = Worker(worker_settings(market, operator), ipfs=store, compute=InProcessCompute(), ticks=clock)
    clock.reads = worker.chain_clock.now
    worker.start()
    try:
        decided = worker.wait_for(
            lambda: in_state(worker, job_id, JobState.SKIPPED),
            timeout_s=30,
        )
    finally:
        worker.stop()
    job = worker.ledger.get_job(job_id)
    worker.close()
    assert decided, job
    assert job.error_code == "E_DEADLINE_TOO_CLOSE"
    assert market.w3.eth.get_transaction_count(operator.address) == nonce  # no claim sent


def test_a_claimed_job_is_still_computed_and_committed_with_little_time_left(market, operator, requester):
    cid, raw = publish_spec(market, MATMUL)
    job_id = post_job(market, requester, cid, hashlib.sha256(raw).digest())
    commit_deadline = market.contracts.get_job(job_id).commit_deadline
    clock = SkewedClock()
    worker = Worker(worker_settings(market, operator), compute=InProcessCompute(), ticks=clock)
    clock.reads = worker.chain_clock.now
    worker.setup()
    send = worker.txm.send

    def send_then_lose_time(call, *, key, **kwargs):
        record = send(call, key=key, **kwargs)
        if key.startswith("claim:"):
            # the claim is out; now the machine stalls until 20 s before the commit deadline:
            # under the claim margin (30 s), over the commit reserve (10 s)
            clock.jump_to(commit_deadline - 20)
        return record

    worker.txm.send = send_then_lose_time  # type: ignore[method-assign]
    worker.start()
    try:
        done = worker.wait_for(
            lambda: in_state(worker, job_id, JobState.DONE),
            timeout_s=60,
        )
    finally:
        worker.stop()
    job = worker.ledger.get_job(job_id)
    worker.close()
    assert done, job
    assert job.error_code is None and market.contracts.get_job(job_id).phase == Phase.COMPLETED


def test_no_new_claim_while_claimed_jobs_wait_for_compute(market, operator, requester):
    cid, raw = publish_spec(market, MATMUL)
    ids = [post_job(market, requester, cid, hashlib.sha256(raw).digest()) for _ in range(3)]
    gate = threading.Event()  # compute blocks until the gate opens
    compute = InProcessCompute(gate=gate)
    worker = Worker(worker_settings(market, operator, max_claimed_uncomputed=2), compute=compute)
    worker.start()
    try:
        states = lambda: [worker.ledger.get_job(i).state if worker.ledger.get_job(i) else None for i in ids]  # noqa: E731
        # generous timeouts: each wait ends as soon as its state holds (CI shares 2 cores with a demo)
        two = worker.wait_for(lambda: states().count(JobState.CLAIMED) == 2, timeout_s=90)
        at_two = states()
        held = [states() for _ in range(10) if not time.sleep(0.3)]  # 3 s of duty ticks at 0.2 s
        gate.set()
        done = worker.wait_for(lambda: all(s == JobState.DONE for s in states()), timeout_s=90)
        final = states()
    finally:
        gate.set()
        worker.stop()
    worker.close()
    assert two, at_two
    assert all(s.count(JobState.SEEN) == 1 and JobState.CLAIMING not in s for s in held), held
    assert done, final
