"""An operator's reliability record (`offchain.chain.reliability`) read from a real anvil market: a job whose
round 0 disagrees (a liar, a withheld reveal), escalates, and completes in round 1 (fresh agreeing
operators, one that never commits), a failed job with a withheld reveal and a claimant that never
committed, and a claim still open. Every count must match what the contracts did; round-0 claims of the
escalated job stay open until its final settlement."""

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


def _reveal(m: Market, op: LocalAccount, job_id: int, opened: tuple[bytes, str, bytes]) -> None:
    transact(m.w3, op, m.contracts.registry, "reveal", job_id, *opened)


def _records(m: Market, ops: list[LocalAccount]) -> dict[str, tuple[int, int, int, int]]:
    records = read_records(m.contracts)
    return {op.address: _counts(records[op.address]) for op in ops}


def _counts(r: ReliabilityRecord) -> tuple[int, int, int, int]:
    return (r.claims, r.settled, r.agreed, r.misses)


def _pass(m: Market, seconds: int) -> None:
    rpc(m.w3, "evm_increaseTime", seconds)
    rpc(m.w3, "evm_mine")


@pytest.mark.slow
def test_record_counts_agreed_claims_slashes_by_reason_and_misses_across_an_escalation(
    market: Market, governance, operator, requester
):
    m, c = market, market.contracts
    withholder, liar, absentee = dev_account(5), dev_account(6), dev_account(7)
    fresh = [dev_account(4), dev_account(8), dev_account(9)]
    for op in (withholder, liar, absentee, *fresh):
        _stake(m, governance, op)
    # every equal operator selected when a round opens: this test pins the record, not selection
    transact(m.w3, governance, c.registry, "set_selection_factor", 64)
    cid, raw = publish_spec(m, MATMUL)
    spec_digest = hashlib.sha256(raw).digest()
    everyone = [operator, withholder, liar, absentee, *fresh]

    # 1. escalated, then completed. Round 0: the operator reveals the agreed result, the liar another, the
    # withholder commits and withholds: the round disagrees and escalates at its reveal deadline.
    escalated = post_job(m, requester, cid, spec_digest, replicas=3, quorum=2)
    for op in (operator, liar, withholder):
        transact(m.w3, op, c.registry, "claim", escalated)
    # 2. (claimed before any settlement jails these two) failed: nobody reveals; the withholder commits
    # and withholds, the absentee never commits
    failed = post_job(m, requester, cid, spec_digest, replicas=3, quorum=2)
    for op in (withholder, absentee):
        transact(m.w3, op, c.registry, "claim", failed)
    _commit(m, withholder, failed, GOOD)
    opened = {op: _commit(m, op, escalated, result) for op, result in ((operator, GOOD), (liar, BAD))}
    _commit(m, withholder, escalated, GOOD)
    _pass(m, 1_300)  # past the commit deadline: reveals open
    for op, sealed in opened.items():
        _reveal(m, op, escalated, sealed)
    _pass(m, 700)  # past the reveal deadline
    receipt = transact(m.w3, governance, c.registry, "finalize", escalated)
    assert [e.name for e in c.events_in(receipt)] == ["JobEscalated"]
    # the round-0 claims stay open until the job's final settlement: nothing settled, nothing missed yet
    assert _records(m, [operator, liar, withholder]) == {
        operator.address: (1, 0, 0, 0),
        liar.address: (1, 0, 0, 0),
        withholder.address: (2, 0, 0, 0),  # and its claim of job 2, not settled yet either
    }
    # Round 1 (5 replicas, quorum 3): three fresh operators reveal the agreed result, the absentee claims
    # and never commits; the round agrees and settles the whole job.
    for op in (*fresh, absentee):
        transact(m.w3, op, c.registry, "claim", escalated)
    round_one = {op: _commit(m, op, escalated, GOOD) for op in fresh}
    _pass(m, 1_300)  # past round 1's commit deadline: reveals open
    for op, sealed in round_one.items():
        _reveal(m, op, escalated, sealed)
    transact(m.w3, governance, c.registry, "finalize", escalated)

    transact(m.w3, governance, c.registry, "finalize", failed)  # 2. (its reveal deadline passed)

    # 3. still open: one claim that has not settled
    open_job = post_job(m, requester, cid, spec_digest, fee=TSR, replicas=1, quorum=1)
    transact(m.w3, operator, c.registry, "claim", open_job)
    assert [_phase(m, j) for j in (escalated, failed)] == [Phase.COMPLETED, Phase.FAILED]

    records = read_records(c)
    got = {op.address: records[op.address] for op in everyone}
    reasons = {op: {r: n for r, n in rec.slashes.items() if n} for op, rec in got.items()}
    assert {op: _counts(r) for op, r in got.items()} == {
        operator.address: (2, 1, 1, 0),
        withholder.address: (2, 2, 0, 2),
        liar.address: (1, 1, 0, 0),
        absentee.address: (2, 2, 0, 2),
        **{op.address: (1, 1, 1, 0) for op in fresh},
    }
    assert reasons == {
        operator.address: {},
        withholder.address: {SlashReason.WITHHELD: 2},
        liar.address: {SlashReason.WRONG_RESULT: 1},
        absentee.address: {SlashReason.LIVENESS: 2},
        **{op.address: {} for op in fresh},
    }
    lost = {
        op.address: STAKE - c.staking.functions.bonded(op.address).call()
        for op in (withholder, liar, absentee)
    }
    assert {op: got[op].slashed_amount for op in lost} == lost
    assert got[operator.address].agreed_bps == 10_000
    assert got[liar.address].agreed_bps == 0
    assert got[liar.address].as_json()["slashes"] == {"wrong_result": 1, "liveness": 0, "withheld": 0}


def test_a_record_before_any_settled_claim_has_no_agreed_share():
    record = ReliabilityRecord("0x0000000000000000000000000000000000000001", claims=1)
    assert record.agreed_bps is None
    assert record.as_json()["agreed_bps"] is None
