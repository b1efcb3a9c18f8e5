"""A finalize estimated late in one epoch and mined in the next still succeeds.

Mined in a new epoch, finalize makes the emitter write fresh storage slots (the worker's points and the
epoch's totals) that no estimate taken in the old epoch saw: ~44k gas more than the estimate for one
worker. The worker's gas limit must cover that (`Call.headroom`); without it the transaction reverts
out of gas and the worker pays for a second finalize (seen in CI as `finalize:4` reverted).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from web3 import Web3

from offchain.chain.bindings import Tessera
from offchain.chain.manifest import load_manifest
from offchain.chain.store import ChainStore
from offchain.chain.txmanager import FeePolicy, TxManager, TxRecord, TxStatus
from offchain.devchain import running_chain
from tests.support.chain import TSR, rpc, transact
from tests.support.contracts import deploy_tessera

pytestmark = pytest.mark.anvil
GWEI = 10**9
FEE = 10 * TSR
COLLATERAL = 10 * TSR
STAKE = 1_000 * TSR


def _job_ready_to_finalize(w3: Web3, c: Tessera, operator, requester, n: int) -> int:
    """Post a 1-replica job and take it to Revealing-complete as ``operator``; returns its id."""
    transact(w3, requester, c.token, "approve", c.registry.address, FEE)
    digest = hashlib.sha256(f"spec {n}".encode()).digest()
    receipt = transact(
        w3, requester, c.registry, "post_job", f"bafkreispec{n}", digest, FEE, 1, 1, COLLATERAL, 600, 600, 600
    )
    job_id = c.job_id_from(receipt)
    result, salt = hashlib.sha256(b"result").digest(), hashlib.sha256(f"salt {n}".encode()).digest()
    transact(w3, operator, c.registry, "claim", job_id)
    sealed = c.commitment_for(job_id, operator.address, result, f"bafkreiresult{n}", salt)
    transact(w3, operator, c.registry, "commit", job_id, sealed)
    transact(w3, operator, c.registry, "reveal", job_id, result, f"bafkreiresult{n}", salt)
    return job_id


def _start_of_next_epoch(w3: Web3, c: Tessera) -> int:
    epoch = c.emitter.functions.current_epoch().call()
    return int(c.emitter.functions.epoch_start(epoch + 1).call())


def test_finalize_estimated_in_one_epoch_and_mined_in_the_next_succeeds(
    tmp_path, artifacts, governance, operator, requester
):
    with running_chain() as chain:
        w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
        c = Tessera(w3, load_manifest(deploy_tessera(w3, governance, artifacts, tmp_path / "deployments")))
        for who, amount in ((operator, STAKE), (requester, 100 * TSR)):
            transact(w3, governance, c.token, "transfer", who.address, amount)
        transact(w3, operator, c.token, "approve", c.staking.address, STAKE)
        transact(w3, operator, c.staking, "register", "bafkreioperatormetadata")
        transact(w3, operator, c.staking, "stake", STAKE)

        # start at the beginning of an epoch, so everything below up to the warp happens inside it
        rpc(w3, "evm_setNextBlockTimestamp", _start_of_next_epoch(w3, c))
        rpc(w3, "evm_mine")
        warm = _job_ready_to_finalize(w3, c, operator, requester, 1)
        transact(w3, requester, c.registry, "finalize", warm)  # this epoch's emitter slots now exist
        job_id = _job_ready_to_finalize(w3, c, operator, requester, 2)

        ledger = ChainStore(tmp_path / "ledger.sqlite3")
        try:
            txm = TxManager(
                w3,
                operator,
                ledger,
                chain_id=w3.eth.chain_id,
                fees=FeePolicy(
                    priority_fee_wei=GWEI, max_fee_wei=50 * GWEI, bump_percent=20, stuck_after_s=30
                ),
            )
            rpc(w3, "evm_setAutomine", False)
            with_headroom = _finalize_across_the_boundary(w3, c, txm, job_id, lambda call: call)
            # the same again without the headroom (this epoch's slots exist now, the next one's do not)
            rpc(w3, "evm_setAutomine", True)
            job_id = _job_ready_to_finalize(w3, c, operator, requester, 3)
            rpc(w3, "evm_setAutomine", False)
            # the control: the estimate alone (no margin, no headroom); the epoch's fresh slots exceed it
            bare = _finalize_across_the_boundary(
                w3, c, txm, job_id, lambda call: replace(call, headroom=0), exact_estimate=True
            )
        finally:
            ledger.close()

        assert with_headroom.status in (TxStatus.MINED, TxStatus.CONFIRMED), with_headroom.error
        # out of gas in the emitter's call (the caller keeps 1/64, so the receipt's gas is below the limit
        # and the TxManager names the revert by its replay on the parent block, which succeeds)
        assert bare.status == TxStatus.REVERTED, bare


def _finalize_across_the_boundary(
    w3: Web3, c: Tessera, txm: TxManager, job_id: int, adjust, *, exact_estimate: bool = False
) -> TxRecord:
    """Send finalize (estimated now), then mine it in the first block of the next epoch; its ledger row.
    ``exact_estimate``: a gas limit of the estimate itself (the TxManager's margin and pad left out)."""
    call = adjust(c.finalize(job_id, c.get_job(job_id).claims))
    gas = int(w3.eth.estimate_gas(call.as_tx(txm.address), "pending")) if exact_estimate else None
    txm.send(call, key=f"finalize:{job_id}", job_id=job_id, gas=gas)
    rpc(w3, "evm_setNextBlockTimestamp", _start_of_next_epoch(w3, c))
    rpc(w3, "evm_mine")
    txm.refresh()
    return txm.store.tx(f"finalize:{job_id}")
