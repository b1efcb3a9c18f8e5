"""T22: the worker killed with SIGKILL at each checkpoint of a job, then restarted, still finishes the job
with exactly one commit and one reveal on chain, the same salt, no wasted nonce, and the reveal in time.

The worker is the real program (`python -m offchain.worker`) in a subprocess; the kill comes from the
test-only fault hook `offchain.worker.faults` (env ``TESSERA_FAULT_CHECKPOINT``). One anvil and one
deployment serve every case; each case posts its own job and runs its worker from a fresh data folder.
"""

from __future__ import annotations

import signal

import pytest

from offchain.chain.bindings import Phase
from offchain.worker.faults import CHECKPOINTS, ENV
from tests.faults.conftest import (
    assert_no_extra_transactions,
    job_settled,
    ledger_rows,
    new_job,
    start_worker,
    stop_worker,
    wait_until,
    worker_env,
)
from tests.support.chain import dev_account

pytestmark = pytest.mark.anvil


def _salt(data_dir, job_id):
    rows = ledger_rows(data_dir, "SELECT salt FROM jobs WHERE job_id=?", (job_id,))
    return bytes(rows[0][0]) if rows and rows[0][0] is not None else None


@pytest.mark.parametrize("where", CHECKPOINTS)
def test_a_worker_killed_at_a_checkpoint_finishes_the_job_exactly_once(shared_market, tmp_path, where):
    market, operator = shared_market, dev_account(1)
    w3, c = market.w3, market.contracts
    first_block = w3.eth.block_number + 1
    nonce_before = w3.eth.get_transaction_count(operator.address)
    data_dir = tmp_path / "data"
    env = worker_env(market, operator, data_dir)
    job_id = new_job(market)

    crashing = start_worker({**env, ENV: where}, tmp_path)
    try:
        crashing.wait(timeout=90)
    finally:
        stop_worker(crashing)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert crashing.returncode == -signal.SIGKILL, f"not killed at {where}:\n{log[-3000:]}"
    salt_at_crash = _salt(data_dir, job_id)
    if where.startswith(("commit", "reveal")):
        assert salt_at_crash is not None  # stored before the commitment was signed

    worker = start_worker(env, tmp_path)
    try:
        done = wait_until(lambda: job_settled(data_dir, job_id), timeout_s=90)
    finally:
        code = stop_worker(worker)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert done, f"job {job_id} not done after a crash at {where}:\n{log[-4000:]}"
    assert code == 0
    assert c.get_job(job_id).phase == Phase.COMPLETED

    last_block = w3.eth.block_number
    mine = {"job_id": job_id, "worker": operator.address}
    commits = c.registry.events.ResultCommitted.get_logs(
        from_block=first_block, to_block=last_block, argument_filters=mine
    )
    reveals = c.registry.events.ResultRevealed.get_logs(
        from_block=first_block, to_block=last_block, argument_filters=mine
    )
    assert len(commits) == 1 and len(reveals) == 1

    salt = _salt(data_dir, job_id)
    assert salt is not None and (salt_at_crash is None or salt == salt_at_crash)

    # no wasted nonce: the nonces used are exactly the transactions the ledger recorded and saw mined
    # (claim, commit, reveal_and_finalize for this job; an emission claim if an epoch ended meanwhile)
    assert_no_extra_transactions(
        w3, data_dir, operator.address, job_id, nonce_before, first_block, last_block
    )

    revealed_at = w3.eth.get_block(reveals[0]["blockNumber"])["timestamp"]
    assert revealed_at <= c.get_job(job_id).reveal_deadline
