"""A worker claims a job only once the registry's stake-weighted selection admits it (`selected_at`), and
never sends a claim that would revert "not selected".

The market's operator holds 10,000 TSR of stake, a second operator the minimum (100 TSR): about 1 % of
the total (the second test gives it 500 TSR), so with the deploy default `selection_factor` 2 a 1-replica
job selects it with probability ~2 % at opening, widening 16x to ~32 % by the claim deadline; the big
operator is selected at once. Selection comes from the round's seed, so each test posts jobs (cancelling
the others) until one arranges the case it pins, reading `selected_at` from the contract, then runs real
in-process workers on it.
"""

from __future__ import annotations

import hashlib

import pytest
from eth_account.signers.local import LocalAccount

from offchain.chain.bindings import Phase
from offchain.worker.ledger import JobState
from offchain.worker.service import Worker
from tests.support.chain import TSR, dev_account, reverted_blocks, transact
from tests.support.market import MATMUL, Market, publish_spec, worker_settings
from tests.worker.fakes import InProcessCompute

pytestmark = pytest.mark.anvil

SMALL_STAKE = 100 * TSR  # TEST_PARAMS min_stake
EXTRA_STAKE = 9_000 * TSR  # on top of the market operator's 1,000
FEE = 10 * TSR
TRIES = 12


def _stake(m: Market, governance: LocalAccount, who: LocalAccount, amount: int, *, register: bool) -> None:
    c = m.contracts
    transact(m.w3, governance, c.token, "transfer", who.address, amount)
    transact(m.w3, who, c.token, "approve", c.staking.address, amount)
    if register:
        transact(m.w3, who, c.staking, "register", "bafkreioperatormetadata")
    transact(m.w3, who, c.staking, "stake", amount)


def _post(m: Market, requester: LocalAccount, windows: tuple[int, int, int]) -> int:
    c = m.contracts
    cid, raw = publish_spec(m, MATMUL)
    transact(m.w3, requester, c.token, "approve", c.registry.address, FEE)
    terms = (hashlib.sha256(raw).digest(), FEE, 1, 1, 10 * TSR, *windows)
    return c.job_id_from(transact(m.w3, requester, c.registry, "post_job", cid, *terms))


def _arrange(m: Market, requester: LocalAccount, windows, wanted) -> tuple[int, int]:
    """Post 1-replica jobs until ``wanted(selected_at of the small operator, opened, claim deadline)``
    holds for one; cancel the others. Returns (job id, the small operator's selected_at)."""
    c, small = m.contracts, dev_account(3)
    for _ in range(TRIES):
        job_id = _post(m, requester, windows)
        view = c.get_job(job_id)
        at = c.selected_at(job_id, small.address)
        opened = view.claim_deadline - windows[0]
        if wanted(at, opened, view.claim_deadline):
            return job_id, at
        transact(m.w3, requester, c.registry, "cancel", job_id)
    pytest.fail(f"no job in {TRIES} posts arranged the selection this test needs")


@pytest.fixture
def unequal(market: Market, governance, operator) -> Market:
    _stake(market, governance, operator, EXTRA_STAKE, register=False)
    _stake(market, governance, dev_account(3), SMALL_STAKE, register=True)
    return market


def test_an_unselected_worker_sends_no_claim_and_the_selected_one_claims(
    unequal: Market, operator, requester
):
    m, c, small = unequal, unequal.contracts, dev_account(3)
    job_id, at = _arrange(m, requester, (600, 600, 600), lambda at, opened, deadline: at >= deadline)
    assert c.selected_at(job_id, operator.address) == c.get_job(job_id).claim_deadline - 600  # at once
    first_block = m.w3.eth.block_number
    nonce = m.w3.eth.get_transaction_count(small.address)

    big = Worker(worker_settings(m, operator, "big"), compute=InProcessCompute())
    little = Worker(worker_settings(m, small, "small"), compute=InProcessCompute())
    for worker in (little, big):
        worker.setup()
        worker.start()
    try:
        skipped = little.wait_for(
            lambda: (j := little.ledger.get_job(job_id)) is not None and j.state == JobState.SKIPPED,
            timeout_s=30,
        )
        done = big.wait_for(
            lambda: (j := big.ledger.get_job(job_id)) is not None and j.state == JobState.DONE, timeout_s=60
        )
    finally:
        for worker in (big, little):
            worker.stop()
    job = little.ledger.get_job(job_id)
    assert skipped and job.error_code == "E_NOT_SELECTED", job
    assert job.error_message == f"not selected for job {job_id} round 0 before its claim deadline"
    assert little.metrics.skips.labels("E_NOT_SELECTED")._value.get() == 1
    assert done and c.get_job(job_id).phase == Phase.COMPLETED
    assert c.claimants(job_id) == [operator.address]
    assert m.w3.eth.get_transaction_count(small.address) == nonce  # no claim, not even a reverted one
    assert reverted_blocks(m.w3, {operator.address, small.address}, first_block) == []


def test_a_worker_selected_later_in_the_claim_window_claims_then_and_not_before(
    unequal: Market, governance, requester
):
    m, c, small = unequal, unequal.contracts, dev_account(3)
    # 500 of 10,500 TSR: ~10 % at opening, ~79 % of rounds select it only after 5 s, all by 50 s of 60
    _stake(m, governance, small, 400 * TSR, register=False)
    # selected a while after the round opens (at least 5 s), and early enough to leave time to compute
    job_id, at = _arrange(
        m, requester, (60, 600, 600), lambda at, opened, deadline: opened + 5 <= at < deadline - 10
    )
    first_block = m.w3.eth.block_number
    little = Worker(worker_settings(m, small, "small"), compute=InProcessCompute())
    little.setup()
    little.start()
    try:
        claimed = little.wait_for(lambda: c.worker_entry(job_id, small.address).claimed, timeout_s=90)
    finally:
        little.stop()
    assert claimed, little.ledger.get_job(job_id)
    logs = m.w3.eth.get_logs({"address": c.registry.address, "fromBlock": first_block, "toBlock": "latest"})
    claims = [e for e in (c.decode_log(lg) for lg in logs) if e is not None and e.name == "JobClaimed"]
    assert len(claims) == 1
    claimed_at = m.w3.eth.get_block(claims[0].block_number)["timestamp"]
    assert at <= claimed_at < at + 10  # at its selection time (a block a second, a 0.2 s poll), not before
    assert reverted_blocks(m.w3, {small.address}, first_block) == []
