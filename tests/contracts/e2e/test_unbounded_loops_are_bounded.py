"""Every loop is bounded by a constant, and the worst case of each stays far below a block.

Reliability §2.7 / T8 (iExec audit 6.6: loops over contributors deadlocked tasks). Bounds in code:
`MAX_REPLICAS = 8` claimants per job, `MAX_LOCKS = 8` unbonding locks, `MAX_CLAIM_EPOCHS = 32` epochs per
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

from offchain.chain.protocol import MAX_REPLICAS, SlashReason
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


def _settle(protocol, requester, workers, results, quorum):
    """Post a job for len(workers) replicas; every worker claims; commit/reveal `results` (None: silent).
    Returns (gas of the last claim, gas of finalize)."""
    registry = protocol.registry
    job_id = post_job(protocol, requester, replicas=len(workers), quorum=quorum)
    claims = [tx_gas(w, registry.claim, job_id) for w in workers]
    for worker, result in zip(workers, results, strict=True):
        if result:
            commit(protocol, job_id, worker, digest_of(result))
    boa.env.time_travel(seconds=registry.get_job(job_id).commit_deadline - boa.env.timestamp)
    for worker, result in zip(workers, results, strict=True):
        if result:
            reveal(protocol, job_id, worker, digest_of(result))
    boa.env.time_travel(seconds=registry.get_job(job_id).reveal_deadline - boa.env.timestamp)
    return max(claims), tx_gas(requester, registry.finalize, job_id)


@pytest.mark.parametrize(
    "results",
    [
        ["ok"] * 8,  # eight payouts and eight work-point entries
        ["ok"] * 5 + ["bad"] * 3,  # five payouts, three wrong-result slashes and jails, bounty shared by five
        ["ok"] * 5 + ["bad"] * 2 + [None],
        [None] * 8,  # failed: eight liveness slashes
        ["a", "b", "c", "d", "e", "f", "g", "h"],  # failed: eight disagreeing reveals
    ],
    ids=["all-agree", "five-three", "mixed", "all-silent", "all-disagree"],
)
def test_claim_and_finalize_at_max_replicas_stay_far_below_a_block(protocol, requester, workers, results):
    claim_gas, finalize_gas = _settle(protocol, requester, workers, results, quorum=5)
    assert claim_gas < BUDGET, f"claim by the 8th worker: {claim_gas} gas"
    assert finalize_gas < BUDGET, f"finalize: {finalize_gas} gas"


@pytest.mark.parametrize("replicas", [1, 2, 4, 8])
def test_finalize_grows_linearly_with_replicas(protocol, requester, workers, replicas):
    _, finalize_gas = _settle(protocol, requester, workers[:replicas], ["ok"] * replicas, replicas // 2 + 1)
    assert finalize_gas < 100_000 + 80_000 * replicas, f"{replicas} replicas: {finalize_gas} gas"


def test_more_than_max_replicas_is_refused(protocol, requester):
    with boa.reverts("registry: replicas out of bounds"):
        post_job(protocol, requester, replicas=MAX_REPLICAS + 1, quorum=MAX_REPLICAS)


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
