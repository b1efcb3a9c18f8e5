"""An optimistic job (`post_job_optimistic`: one replica, the reveal window is a challenge window) is
computed, committed and revealed as any job, but its reveal does not settle it: the registry settles it
only once the challenge window has closed unchallenged. The worker waits the window out without
trying a finalize that would revert, then settles the job itself and is paid.
"""

from __future__ import annotations

import hashlib
import time

import pytest

from offchain.chain.bindings import Phase
from offchain.worker.ledger import JobState
from offchain.worker.service import Worker
from tests.support.chain import TSR, reverted_blocks, transact
from tests.support.market import MATMUL, Market, publish_spec, worker_settings
from tests.worker.fakes import InProcessCompute

pytestmark = pytest.mark.anvil

FEE, COLLATERAL = 10 * TSR, 10 * TSR
CHALLENGE_WINDOW_S = 120  # the reveal deadline is claim + commit + this after posting: not waited for


def _post_optimistic(m: Market, requester) -> int:
    c = m.contracts
    cid, raw = publish_spec(m, MATMUL)
    transact(m.w3, requester, c.token, "approve", c.registry.address, FEE)
    terms = (hashlib.sha256(raw).digest(), FEE, COLLATERAL, 600, 600, CHALLENGE_WINDOW_S)
    return c.job_id_from(transact(m.w3, requester, c.registry, "post_job_optimistic", cid, *terms))


def test_the_worker_settles_an_optimistic_job_once_its_challenge_window_closes(market, operator, requester):
    first_block = market.w3.eth.block_number
    job_id = _post_optimistic(market, requester)
    assert market.contracts.is_optimistic(job_id)
    worker = Worker(worker_settings(market, operator), compute=InProcessCompute())
    worker.setup()
    tried: list[str] = []  # every send the pipeline tries (a refused one leaves no record in the store)
    send = worker.txm.send

    def recording_send(call, *, key, **kwargs):
        tried.append(key)
        return send(call, key=key, **kwargs)

    worker.txm.send = recording_send  # type: ignore[method-assign]
    state = lambda: worker.ledger.get_job(job_id).state if worker.ledger.get_job(job_id) else None  # noqa: E731
    worker.start()
    try:
        revealed = worker.wait_for(lambda: state() == JobState.REVEALED, timeout_s=90)
        held = [state() for _ in range(10) if not time.sleep(0.3)]  # 3 s of duty ticks
        phase_in_window = market.contracts.get_job(job_id).phase
        finalize_tried_in_window = [key for key in tried if key.startswith("finalize")]
        # the window closes: chain time moves past the reveal deadline and a block shows it
        deadline = market.contracts.get_job(job_id).reveal_deadline
        market.w3.provider.make_request("evm_mine", [deadline + 1])
        done = worker.wait_for(lambda: state() == JobState.DONE, timeout_s=60)
        final = worker.ledger.get_job(job_id)
        settled_by_worker = worker.txm.store.tx(f"finalize:{job_id}") is not None
    finally:
        worker.stop()
    worker.close()

    assert revealed, state()
    assert held == [JobState.REVEALED] * 10, held  # revealed and waiting: not failed, not finalizing
    assert phase_in_window == Phase.REVEALING  # the reveal alone did not settle it
    assert finalize_tried_in_window == []
    assert done, final
    assert final.error_code is None and market.contracts.get_job(job_id).phase == Phase.COMPLETED
    assert settled_by_worker
    assert reverted_blocks(market.w3, {operator.address}, first_block) == []
