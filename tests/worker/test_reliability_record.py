"""An operator's reliability record (`offchain.chain.reliability`) read from a real anvil market: a completed
job with a slashed liar, a failed job with a withheld reveal and a claimant that never committed, and a
claim still open. Every count must match what the contracts did."""

from __future__ import annotations

import hashlib
import secrets

import pytest
from eth_account.signers.local import LocalAccount

from offchain.chain.bindings import commitment
from offchain.chain.protocol import Phase, SlashReason
from offchain.chain.reliability import ReliabilityRecord, read_records
from tests.support.chain import TSR, dev_account, rpc, transact
from tests.support.market import MATMUL, STAKE, Market, post_job, publish_spec

pytestmark = pytest.mark.anvil

GOOD, BAD = b"the agreed result bytes", b"a wrong result"


def _stake(m: Market, governance: LocalAccount, operator: LocalAccount) -> None:
    c = m.contracts
    transact(m.w3, governance, c.token, "transfer", operator.address, STAKE)
    transact(m.w3, operator, c.token, "approve", c.staking.address, STAKE)
    transact(m.w3, operator, c.staking, "register", "bafkreioperatormetadata")
    transact(m.w3, operator, c.staking, "stake", STAKE)


def _commit(m: Market, operator: LocalAccount, job_id: int, result: bytes) -> tuple[bytes, str, bytes]:
    digest, cid, salt = (
        hashlib.sha256(result).digest(),
        f"bafkrei{result.hex()[:40]}",
        secrets.token_bytes(32),
    )
    c = m.contracts
    seal = commitment(c.chain_id, c.registry.address, job_id, operator.address, digest, cid, salt)
    transact(m.w3, operator, c.registry, "commit", job_id, seal)
    return digest, cid, salt


def _phase(m: Market, job_id: int) -> Phase:
    return m.contracts.get_job(job_id).phase


def test_record_counts_agreed_claims_slashes_by_reason_and_misses(
    market: Market, governance, operator, requester
):
    m, c = market, market.contracts
    withholder, liar, absentee = dev_account(5), dev_account(6), dev_account(7)
    for op in (withholder, liar, absentee):
        _stake(m, governance, op)
    cid, raw = publish_spec(m, MATMUL)
    spec_digest = hashlib.sha256(raw).digest()

    # 1. completed: the operator and the withholder agree, the liar is slashed (wrong result) and jailed
    completed = post_job(m, requester, cid, spec_digest, replicas=3, quorum=2)
    answers = {operator: GOOD, withholder: GOOD, liar: BAD}
    for op in answers:
        transact(m.w3, op, c.registry, "claim", completed)
    seals = {op: _commit(m, op, completed, result) for op, result in answers.items()}
    for op, (digest, result_cid, salt) in seals.items():
        transact(m.w3, op, c.registry, "reveal", completed, digest, result_cid, salt)
    transact(m.w3, governance, c.registry, "finalize", completed)

    # 2. failed: the operator reveals alone, the withholder commits and withholds, the absentee never commits
    failed = post_job(m, requester, cid, spec_digest, replicas=3, quorum=2)
    for op in (operator, withholder, absentee):
        transact(m.w3, op, c.registry, "claim", failed)
    digest, result_cid, salt = _commit(m, operator, failed, GOOD)
    _commit(m, withholder, failed, GOOD)
    rpc(m.w3, "evm_increaseTime", 1_300)  # past the commit deadline (claim + commit windows): reveals open
    rpc(m.w3, "evm_mine")
    transact(m.w3, operator, c.registry, "reveal", failed, digest, result_cid, salt)
    rpc(m.w3, "evm_increaseTime", 700)  # past the reveal deadline
    rpc(m.w3, "evm_mine")
    transact(m.w3, governance, c.registry, "finalize", failed)

    # 3. still open: one claim that has not settled
    open_job = post_job(m, requester, cid, spec_digest, fee=TSR, replicas=1, quorum=1)
    transact(m.w3, operator, c.registry, "claim", open_job)
    assert [_phase(m, j) for j in (completed, failed)] == [Phase.COMPLETED, Phase.FAILED]

    records = read_records(c)
    got = {op.address: records[op.address] for op in (operator, withholder, liar, absentee)}
    reasons = {op: {r: n for r, n in rec.slashes.items() if n} for op, rec in got.items()}
    assert {op: (r.claims, r.settled, r.agreed, r.misses) for op, r in got.items()} == {
        operator.address: (3, 2, 1, 0),
        withholder.address: (2, 2, 1, 1),
        liar.address: (1, 1, 0, 0),
        absentee.address: (1, 1, 0, 1),
    }
    assert reasons == {
        operator.address: {},
        withholder.address: {SlashReason.WITHHELD: 1},
        liar.address: {SlashReason.WRONG_RESULT: 1},
        absentee.address: {SlashReason.LIVENESS: 1},
    }
    lost = {
        op.address: STAKE - c.staking.functions.bonded(op.address).call()
        for op in (withholder, liar, absentee)
    }
    assert {op: got[op].slashed_amount for op in lost} == lost
    assert got[operator.address].agreed_bps == 5_000
    assert got[liar.address].as_json()["slashes"] == {"wrong_result": 1, "liveness": 0, "withheld": 0}


def test_a_record_before_any_settled_claim_has_no_agreed_share():
    record = ReliabilityRecord("0x0000000000000000000000000000000000000001", claims=1)
    assert record.agreed_bps is None
    assert record.as_json()["agreed_bps"] is None
