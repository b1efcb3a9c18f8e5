"""Every loop is bounded by a constant, and the worst case of each stays far below a block.

Reliability §2.7 / T8 (iExec audit 6.6: loops over contributors deadlocked tasks). Bounds in code:
`MAX_REPLICAS = 8` claimants per job over every round (5 posted at most, the rest escalation slots),
`MAX_LOCKS = 8` unbonding locks, `MAX_CLAIM_EPOCHS = 32` epochs per
emission claim. Gas is measured with titanoboa as each call would run in its own transaction: storage
and accounts start cold (EIP-2929), and 21,000 plus calldata gas is added. No refunds are subtracted, so
the figures are upper bounds. Budget: `BUDGET` per call, 5 % of a 30M-gas block (Ethereum's limit for
years, and what most L2s allow or exceed); the worst finalize measures about 0.6M.
"""

import contextlib

import boa
import pytest
from eth.db.backends.memory import MemoryDB
from eth.db.journal import JournalDB
from eth.exceptions import Revert
from eth_abi import encode
from eth_utils import keccak

from offchain.chain.protocol import MAX_POSTED_REPLICAS, MAX_REPLICAS, SlashReason
from tests.contracts.conftest import DEFAULTS, TSR, commit, digest_of, post_job, reveal, stake_operator

REASON_LIVENESS = SlashReason.LIVENESS

BLOCK_GAS = 30_000_000
BUDGET = BLOCK_GAS // 20


@contextlib.contextmanager
def own_transaction():
    """Run the block as if it were a fresh transaction: empty warm sets (boa keeps them across calls)."""
    db = boa.env.evm.vm.state._account_db
    kept = db._journal_accessed_state
    db._journal_accessed_state = JournalDB(MemoryDB())
    try:
        yield
    finally:
        db._journal_accessed_state = kept


def tx_gas(sender, fn, *args) -> int:
    """Gas of `fn(*args)` sent by `sender` as its own transaction, intrinsic cost included."""
    calldata = fn.prepare_calldata(*args)
    intrinsic = 21_000 + sum(16 if byte else 4 for byte in calldata)
    with own_transaction(), boa.env.prank(sender):
        before = boa.env.get_gas_used()
        fn(*args)
        return boa.env.get_gas_used() - before + intrinsic


@pytest.fixture
def workers(protocol):
    workers = [boa.env.generate_address(f"worker{i}") for i in range(MAX_REPLICAS)]
    for worker in workers:
        stake_operator(protocol, worker)
    return workers


def _play(protocol, job_id, workers, results) -> int:
    """`workers` claim the current round; commit/reveal `results` (None: silent); warps to the round's reveal
    deadline. Returns the gas of the costliest claim."""
    registry = protocol.registry
    claims = [tx_gas(w, registry.claim, job_id) for w in workers]
    for worker, result in zip(workers, results, strict=True):
        if result:
            commit(protocol, job_id, worker, digest_of(result))
    boa.env.time_travel(seconds=registry.get_job(job_id).commit_deadline - boa.env.timestamp)
    for worker, result in zip(workers, results, strict=True):
        if result:
            reveal(protocol, job_id, worker, digest_of(result))
    boa.env.time_travel(seconds=registry.get_job(job_id).reveal_deadline - boa.env.timestamp)
    return max(claims)


def _settle(protocol, requester, workers, results, quorum):
    """Post a job for len(workers) replicas; every worker claims; commit/reveal `results` (None: silent).
    Returns (gas of the costliest claim, gas of finalize)."""
    job_id = post_job(protocol, requester, replicas=len(workers), quorum=quorum)
    claim_gas = _play(protocol, job_id, workers, results)
    return claim_gas, tx_gas(requester, protocol.registry.finalize, job_id)


# MAX_REPLICAS (8) claimants need an escalation: 5 posted replicas, then min(5 + 2, 8 - 5) = 3 fresh ones.
@pytest.mark.parametrize(
    "round0,round1",
    [
        (["ok"] * 4 + ["bad"], ["ok"] * 3),  # seven payouts and work-point entries, one slash with bounty
        (["ok"] * 2 + ["bad"] * 3, ["ok"] * 3),  # round 0's majority outvoted: five payouts, three slashes
        (["ok"] * 2 + ["bad"] * 2 + [None], ["ok", "ok", None]),  # two liveness slashes among the rest
        (["a"] + [None] * 4, [None] * 3),  # seven liveness slashes; one unproven reveal completes
        (["a", "b", "c", "d", "e"], ["f", "g", "h"]),  # failed: eight disagreeing reveals
    ],
    ids=["all-agree", "five-three", "mixed", "all-silent", "all-disagree"],
)
def test_claim_escalate_and_finalize_at_max_replicas_stay_far_below_a_block(
    protocol, requester, workers, round0, round1
):
    registry = protocol.registry
    job_id = post_job(protocol, requester, replicas=5, quorum=3)
    claim_gas = _play(protocol, job_id, workers[:5], round0)
    escalate_gas = tx_gas(requester, registry.finalize, job_id)
    assert registry.get_job(job_id).round == 1
    claim_gas = max(claim_gas, _play(protocol, job_id, workers[5:], round1))
    assert registry.get_job(job_id).first_slot + registry.get_job(job_id).claims == MAX_REPLICAS
    finalize_gas = tx_gas(requester, registry.finalize, job_id)
    assert registry.get_job(job_id).phase >= 5  # COMPLETED or FAILED
    assert claim_gas < BUDGET, f"claim by the 8th worker: {claim_gas} gas"
    assert escalate_gas < BUDGET, f"escalating finalize: {escalate_gas} gas"
    assert finalize_gas < BUDGET, f"finalize: {finalize_gas} gas"
    assert finalize_gas < 100_000 + 80_000 * MAX_REPLICAS, f"finalize of 8 claimants: {finalize_gas} gas"


@pytest.mark.parametrize("replicas", [1, 2, 3, 4, 5])
def test_finalize_grows_linearly_with_replicas(protocol, requester, workers, replicas):
    _, finalize_gas = _settle(protocol, requester, workers[:replicas], ["ok"] * replicas, replicas // 2 + 1)
    assert finalize_gas < 100_000 + 80_000 * replicas, f"{replicas} replicas: {finalize_gas} gas"


def test_more_than_max_posted_replicas_is_refused_and_no_ninth_slot_exists(protocol, requester, workers):
    with boa.reverts("registry: replicas out of bounds"):
        post_job(protocol, requester, replicas=MAX_POSTED_REPLICAS + 1, quorum=MAX_POSTED_REPLICAS)
    registry = protocol.registry
    job_id = post_job(protocol, requester, replicas=5, quorum=3)
    _play(protocol, job_id, workers[:5], ["a", "a", "a", "b", "b"])
    registry.finalize(job_id)
    for worker in workers[5:]:
        with boa.env.prank(worker):
            registry.claim(job_id)
    ninth = boa.env.generate_address("ninth")
    stake_operator(protocol, ninth)
    with boa.env.prank(ninth), boa.reverts("registry: all replicas claimed"):
        registry.claim(job_id)


def test_claim_gas_does_not_grow_with_operators_or_jobs(protocol, requester, workers):
    """Selection reads the claimant's stake and the bonded total (Staking.stake_share): O(1) in the number
    of operators and of jobs. A first claim costs the same with 8 operators and 1 job as with 72 operators
    and 41 jobs (within the few hundred gas the threshold arithmetic may vary by)."""
    registry = protocol.registry
    # 2 replicas: 64 x 2 x 1/72 >= 1, so every equal operator is selected at the opening even among 72
    first = post_job(protocol, requester, replicas=2, quorum=2)
    small = tx_gas(workers[0], registry.claim, first)
    for i in range(64):
        stake_operator(protocol, boa.env.generate_address(f"crowd{i}"))
    for _ in range(40):
        post_job(protocol, requester, replicas=1, quorum=1)
    last = post_job(protocol, requester, replicas=2, quorum=2)
    assert registry.is_selected(last, workers[1])
    large = tx_gas(workers[1], registry.claim, last)
    assert abs(large - small) < 300, (small, large)


def test_emission_claim_of_max_epochs_stays_far_below_a_block(protocol, requester, workers):
    emitter = protocol.emitter
    worker = workers[0]
    epochs = list(range(emitter.MAX_CLAIM_EPOCHS()))
    for epoch in epochs:
        boa.env.time_travel(seconds=emitter.epoch_start(epoch) - boa.env.timestamp)
        _settle(protocol, requester, [worker], ["ok"], quorum=1)
    boa.env.time_travel(seconds=emitter.epoch_start(len(epochs) + 1) - boa.env.timestamp)
    assert all(emitter.points_of(worker, e) for e in epochs)
    assert tx_gas(worker, emitter.claim, epochs) < BUDGET

    # one epoch more than the bound does not even decode
    calldata = keccak(text="claim(uint256[])")[:4] + encode(["uint256[]"], [[*epochs, len(epochs)]])
    with boa.env.prank(worker), pytest.raises(Revert):
        boa.env.raw_call(emitter.address, data=calldata)


def test_unbonding_and_slashing_across_max_locks_stay_far_below_a_block(
    token_deployer, staking_deployer, governance, operator
):
    """A Staking whose job registry is a test account, to slash through all eight locks and collateral."""
    slasher = boa.env.generate_address("slasher")
    with boa.env.prank(governance):
        token = token_deployer.deploy(governance, DEFAULTS["genesis_supply"])
        staking = staking_deployer.deploy(
            token.address,
            DEFAULTS["min_stake"],
            DEFAULTS["unbonding_period"],
            DEFAULTS["jail_period"],
            DEFAULTS["slash_reward_bps"],
        )
        staking.set_job_registry(slasher)
        token.transfer(operator, 10_000 * TSR)
    with boa.env.prank(operator):
        token.approve(staking.address, 10_000 * TSR)
        staking.register("bafkreioperator")
        staking.stake(10_000 * TSR)
    with boa.env.prank(slasher):
        staking.lock_collateral(operator, 1_000 * TSR)
    gas = [tx_gas(operator, staking.request_unstake, 1_000 * TSR) for _ in range(staking.MAX_LOCKS())]
    assert max(gas) < BUDGET
    with boa.env.prank(operator), boa.reverts("staking: too many unbonding locks"):
        staking.request_unstake(TSR)

    slash_gas = tx_gas(slasher, staking.slash, operator, 10_000 * TSR, 1, REASON_LIVENESS, slasher)
    assert slash_gas < BUDGET
    assert staking.bonded(operator) == staking.total_unbonding() == 0
