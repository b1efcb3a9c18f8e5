"""JobRegistry escalation: a round whose reveals disagree (or reach no quorum) escalates at its reveal
deadline to replicas + 2 fresh claimants with a majority quorum, new windows and a new seed; the last round's
majority decides across rounds. Round-0 revealers who agreed with it are paid, those who did not are slashed
WRONG_RESULT and jailed, and half of those slashes (slash_reward_bps) pays the escalation rounds' agreeing
workers. Ladder: MAX_ROUND 2, and an escalation needs MIN_ESCALATION_REPLICAS (3) free slots of 8."""

import boa
from eth_utils import keccak

from tests.contracts.conftest import DEFAULTS, commit, digest_of, escalate, play_round, post_job, reveal
from tests.contracts.registry.conftest import (
    BPS,
    COMPLETED,
    FAILED,
    MAX_REPLICAS,
    MAX_ROUND,
    MIN_ESCALATION_REPLICAS,
    REVEALING,
    TSR,
    WINDOW,
    claim,
    events,
    warp_to,
)
from tests.contracts.registry.selection import prevrandao, seed_of, set_prevrandao

A, B, C = digest_of("a"), digest_of("b"), digest_of("c")
FEE = COLLATERAL = 10 * TSR
PROTOCOL_FEE = FEE * DEFAULTS["protocol_fee_bps"] // BPS
POOL = FEE - PROTOCOL_FEE
WRONG = COLLATERAL * DEFAULTS["wrong_result_slash_bps"] // BPS
LIVENESS = COLLATERAL * DEFAULTS["liveness_slash_bps"] // BPS
REWARD = WRONG * DEFAULTS["slash_reward_bps"] // BPS
WRONG_RESULT, LIVENESS_REASON, WITHHELD = 1, 2, 3


def disputed(protocol, requester, workers, results, **kw):
    kw.setdefault("replicas", len(workers))
    kw.setdefault("quorum", kw["replicas"] // 2 + 1)
    job_id = post_job(protocol, requester, fee=FEE, collateral=COLLATERAL, **kw)
    play_round(protocol, job_id, workers, results)
    return job_id


def test_a_disputed_round_escalates_at_its_reveal_deadline(protocol, registry, requester, staked_operators):
    set_prevrandao(keccak(b"round 0"))
    job_id = disputed(protocol, requester, staked_operators[:3], [A, A, B])
    assert registry.get_job(job_id).phase == REVEALING
    with boa.reverts("registry: reveals disagree; the round escalates at its reveal deadline"):
        registry.finalize(job_id)
    warp_to(registry.get_job(job_id).reveal_deadline - 1)
    with boa.reverts("registry: reveals disagree; the round escalates at its reveal deadline"):
        registry.finalize(job_id)
    set_prevrandao(keccak(b"round 1"))
    escalated = escalate(protocol, job_id)
    now = boa.env.timestamp
    assert (escalated.job_id, escalated.round, escalated.replicas, escalated.quorum) == (job_id, 1, 5, 3)
    assert (escalated.claim_deadline, escalated.commit_deadline, escalated.reveal_deadline) == (
        now + WINDOW,
        now + 2 * WINDOW,
        now + 3 * WINDOW,
    )
    assert events(registry, "OperatorSlashed", source=protocol.staking) == []
    assert events(registry, "JobCompleted") == [] and events(registry, "JobFailed") == []
    # the new round's seed is drawn at escalation: round 1's tickets under this block's prevrandao
    assert seed_of(prevrandao(), job_id, 1) != seed_of(keccak(b"round 0"), job_id, 0)
    opened = escalated.claim_deadline - WINDOW
    assert opened == now
    assert all(registry.selected_at(job_id, op) == opened for op in staked_operators[3:])  # factor 64


def test_earlier_claimants_cannot_claim_commit_or_reveal_again(
    protocol, registry, requester, staked_operators
):
    workers = staked_operators[:3]
    job_id = disputed(protocol, requester, workers, [A, A, B])
    escalate(protocol, job_id)
    for w in workers:
        with boa.env.prank(w), boa.reverts("registry: already claimed"):
            registry.claim(job_id)
    with boa.env.prank(workers[0]), boa.reverts("registry: claimed in an earlier round"):
        registry.commit(job_id, b"\x01" * 32)
    claim(protocol, job_id, *staked_operators[3:6])
    for w in staked_operators[3:6]:
        commit(protocol, job_id, w, A)
    warp_to(registry.get_job(job_id).claim_deadline)
    assert registry.get_job(job_id).phase == REVEALING
    with boa.env.prank(workers[2]), boa.reverts("registry: claimed in an earlier round"):
        registry.reveal(job_id, A, "bafyresult", b"\x00" * 32)
    # their collateral stays locked until the job settles
    assert all(protocol.staking.locked(w) == COLLATERAL for w in workers)


def test_the_escalation_majority_decides_across_rounds_with_exact_amounts(
    protocol, registry, staking, token, requester, staked_operators
):
    """Round 0: A, B, B (B has round 0's quorum, A dissents). Round 1 (5 slots, 4 claimed): A, A, A, B. A
    wins: the round-0 minority (A) is paid, the round-0 majority (B) is slashed and jailed, as is round 1's
    B; half of the three slashes pays round 1's three A workers. Every token is accounted for."""
    round0, round1 = staked_operators[:3], staked_operators[3:7]
    job_id = disputed(protocol, requester, round0, [A, B, B])
    escalate(protocol, job_id)
    play_round(protocol, job_id, round1, [A, A, A, B])
    everyone = round0 + round1
    wallets, bonded = [token.balanceOf(w) for w in everyone], [staking.bonded(w) for w in everyone]
    supply, escrow = token.totalSupply(), token.balanceOf(registry.address)
    assert escrow == FEE
    registry.finalize(job_id)

    slashed = events(registry, "OperatorSlashed", source=staking)
    jailed = [e.operator for e in events(registry, "OperatorJailed", source=staking)]
    paid = {e.worker: e.amount for e in events(registry, "WorkerPaid")}
    (completed,) = events(registry, "JobCompleted")
    losers = [round0[1], round0[2], round1[3]]
    assert [(e.operator, e.reason, e.amount, e.reward, e.beneficiary) for e in slashed] == [
        (w, WRONG_RESULT, WRONG, REWARD, registry.address) for w in losers
    ]
    assert jailed == losers
    assert (completed.result_digest, completed.agreeing, completed.paid) == (A, 4, POOL)
    share, bounty_total = POOL // 4, 3 * REWARD
    bounty = bounty_total // 3
    assert paid == {
        round0[0]: share + POOL - 4 * share,
        round1[0]: share + bounty + bounty_total - 3 * bounty,
        round1[1]: share + bounty,
        round1[2]: share + bounty,
    }
    gains = [token.balanceOf(w) - before for w, before in zip(everyone, wallets, strict=True)]
    assert gains == [paid.get(w, 0) for w in everyone]
    assert [bonded[i] - staking.bonded(w) for i, w in enumerate(everyone)] == [
        WRONG if w in losers else 0 for w in everyone
    ]
    # conservation: paid + burned (protocol fee + slashes' burned part) + refunded == fee + slashed
    burned = supply - token.totalSupply()
    assert sum(paid.values()) + burned + 0 == FEE + 3 * WRONG
    assert burned == PROTOCOL_FEE + sum(e.burned for e in slashed)
    assert token.balanceOf(registry.address) == 0
    assert registry.get_job(job_id).phase == COMPLETED
    assert all(staking.locked(w) == 0 for w in everyone)


def test_a_final_round_without_quorum_fails_and_slashes_no_revealer(
    protocol, registry, staking, token, requester, staked_operators
):
    """Round 1 (the last: 8 - 6 claims < 3) splits A, B, C: no quorum, no strict majority over all rounds
    (A 2, B 2, C 2): Failed, the whole fee refunded, nobody who revealed is slashed."""
    job_id = disputed(protocol, requester, staked_operators[:3], [A, B, C])
    escalate(protocol, job_id)
    play_round(protocol, job_id, staked_operators[3:6], [A, B, C])
    before, supply = token.balanceOf(requester), token.totalSupply()
    registry.finalize(job_id)
    assert [(e.job_id, e.refunded) for e in events(registry, "JobFailed")] == [(job_id, FEE)]
    assert events(registry, "OperatorSlashed", source=staking) == []
    assert token.balanceOf(requester) == before + FEE
    assert token.totalSupply() == supply
    assert registry.get_job(job_id).phase == FAILED


def test_a_round_with_reveals_short_of_quorum_escalates(protocol, registry, requester, staked_operators):
    """One reveal, two withheld (3 replicas, quorum 2): the reveals agree but fall short, so it escalates;
    the withheld are slashed only when the job settles."""
    job_id = disputed(protocol, requester, staked_operators[:3], [A, (A,), (A,)])
    escalated = escalate(protocol, job_id)
    assert (escalated.round, escalated.replicas) == (1, 5)
    assert events(registry, "OperatorSlashed", source=protocol.staking) == []
    play_round(protocol, job_id, staked_operators[3:6], [A, A, A])
    registry.finalize(job_id)
    slashed = events(registry, "OperatorSlashed", source=protocol.staking)
    assert [(e.operator, e.reason, e.amount, e.reward) for e in slashed] == [
        (staked_operators[1], WITHHELD, WRONG, REWARD),
        (staked_operators[2], WITHHELD, WRONG, REWARD),
    ]
    assert registry.get_job(job_id).phase == COMPLETED


def test_a_round_with_no_reveals_does_not_escalate(protocol, registry, requester, staked_operators):
    job_id = disputed(protocol, requester, staked_operators[:3], [(A,), (A,), None])
    warp_to(registry.get_job(job_id).reveal_deadline)
    registry.finalize(job_id)
    reasons = [e.reason for e in events(registry, "OperatorSlashed", source=protocol.staking)]
    assert events(registry, "JobEscalated") == []
    assert reasons == [WITHHELD, WITHHELD, LIVENESS_REASON]
    assert registry.get_job(job_id).phase == FAILED


def test_the_ladder_stops_at_max_round_or_when_fewer_than_three_slots_remain(
    protocol, registry, requester, staked_operators
):
    """A three-round ladder: round 0 (2 replicas, one claims and reveals alone: no quorum) escalates with 1
    slot used to 4 replicas; round 1 (3 claim, split) escalates with 4 used to min(4 + 2, 8 - 4) = 4; round 2
    is MAX_ROUND, so its split settles at once. And 2 full replicas that split leave 6 used: 8 - 6 < 3, so
    round 1 is then the last (test_a_final_round_without_quorum_fails_and_slashes_no_revealer)."""
    assert (MAX_ROUND, MIN_ESCALATION_REPLICAS, MAX_REPLICAS) == (2, 3, 8)
    # 2 replicas, one claimant reveals alone (no quorum of 2): escalates with 1 slot used
    job_id = post_job(protocol, requester, fee=FEE, collateral=COLLATERAL, replicas=2, quorum=2)
    claim(protocol, job_id, staked_operators[0])
    commit(protocol, job_id, staked_operators[0], A)
    warp_to(registry.get_job(job_id).commit_deadline)
    reveal(protocol, job_id, staked_operators[0], A)
    first = escalate(protocol, job_id)
    assert (first.round, first.replicas, first.quorum) == (1, 4, 3)
    # round 1: three claim (slots 1..3) and split: 4 slots left >= 3, so it escalates again
    play_round(protocol, job_id, staked_operators[1:4], [A, B, C])
    second = escalate(protocol, job_id)
    assert (second.round, second.replicas, second.quorum) == (2, 4, 3)  # min(4 + 2, 8 - 4)
    assert registry.get_job(job_id).first_slot == 4
    # round 2 (MAX_ROUND) splits too: it is the last whatever the slots; settles at once, no escalation
    play_round(protocol, job_id, staked_operators[4:7], [B, C, A])
    registry.finalize(job_id)
    assert events(registry, "JobEscalated") == []
    # every round together: A 3 of 7 reveals, no strict majority -> Failed
    assert registry.get_job(job_id).phase == FAILED
    assert registry.get_job(job_id).round == MAX_ROUND
