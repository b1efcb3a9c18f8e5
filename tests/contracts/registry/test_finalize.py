"""JobRegistry.finalize: settles a job once every committer revealed or the reveal deadline passed.
Completed: the agreeing workers share fee - protocol fee exactly (T2) and earn work points; wrong and
withheld results are slashed at the wrong-result rate and jailed, never-committed claimants at the liveness
rate. Failed: the fee goes back and only silent claimants are slashed. A job settled in round 0 burns every
slash (T30); a wrong result exists only after an escalation (a disputed round escalates at its reveal
deadline, see test_escalation.py), whose agreeing workers get half of it. A late second finalize is a no-op
that logs JobAlreadySettled."""

from fractions import Fraction

import boa
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.conftest import (
    DEFAULTS,
    commit,
    digest_of,
    escalate,
    play_round,
    post_job,
    reveal,
    run_job,
)
from tests.contracts.registry.conftest import (
    BPS,
    COMPLETED,
    FAILED,
    MAX_AMOUNT,
    MAX_POSTED_REPLICAS,
    MAX_PROTOCOL_FEE_BPS,
    REVEALING,
    STAKE,
    TSR,
    ZERO,
    capped,
    claimed_job,
    events,
    warp_to,
)

A, B = digest_of("a"), digest_of("b")
FEE = 10 * TSR
COLLATERAL = 10 * TSR
PROTOCOL_FEE = FEE * DEFAULTS["protocol_fee_bps"] // BPS
POOL = FEE - PROTOCOL_FEE
LIVENESS = COLLATERAL * DEFAULTS["liveness_slash_bps"] // BPS
WRONG = COLLATERAL * DEFAULTS["wrong_result_slash_bps"] // BPS


def play(protocol, requester, workers, results, **post_kwargs):
    """Post; `workers` claim; each commits and reveals its result: None stays silent, (r,) commits r only."""
    job_id = claimed_job(protocol, requester, workers, **post_kwargs)
    for w, r in zip(workers, results, strict=True):
        if r is not None:
            commit(protocol, job_id, w, r[0] if isinstance(r, tuple) else r)
    for w, r in zip(workers, results, strict=True):
        if r is not None and not isinstance(r, tuple):
            if protocol.registry.get_job(job_id).phase != REVEALING:
                warp_to(protocol.registry.get_job(job_id).commit_deadline)
            reveal(protocol, job_id, w, r)
    return job_id


def balances(token, accounts):
    return [token.balanceOf(a) for a in accounts]


# ---------------------------------------------------------------- completed


def test_agreeing_workers_share_the_fee_exactly(
    protocol, registry, token, emitter, requester, staked_operators
):
    workers = staked_operators[:3]
    job_id = play(protocol, requester, workers, [A, A, A], fee=FEE)
    before, supply = balances(token, workers), token.totalSupply()
    registry.finalize(job_id)
    paid = [(e.job_id, e.worker, e.amount) for e in events(registry, "WorkerPaid")]
    (completed,) = events(registry, "JobCompleted")
    unlocked = events(registry, "CollateralUnlocked", source=protocol.staking)
    share = POOL // 3
    assert paid == [(job_id, workers[0], share + POOL - 3 * share)] + [
        (job_id, w, share) for w in workers[1:]
    ]
    assert (completed.job_id, completed.result_digest, completed.agreeing) == (job_id, A, 3)
    assert (completed.paid, completed.protocol_fee) == (POOL, PROTOCOL_FEE)
    assert completed.paid + completed.protocol_fee == FEE
    assert [(e.operator, e.amount) for e in unlocked] == [(w, COLLATERAL) for w in workers]
    assert [b - a for a, b in zip(before, balances(token, workers), strict=True)] == [a for _, _, a in paid]
    assert token.totalSupply() == supply - PROTOCOL_FEE
    assert token.balanceOf(registry.address) == 0
    assert registry.get_job(job_id).phase == COMPLETED
    assert [protocol.staking.locked(w) for w in workers] == [0, 0, 0]
    epoch = emitter.current_epoch()
    point_share = PROTOCOL_FEE // 3
    first = point_share + PROTOCOL_FEE - 3 * point_share
    assert [emitter.points_of(w, epoch) for w in workers] == [first, point_share, point_share]
    assert emitter.epoch_burned(epoch) == PROTOCOL_FEE
    assert emitter.epoch_points(epoch) == PROTOCOL_FEE


def test_wrong_result_is_slashed_and_jailed_once_the_escalation_round_agrees(
    protocol, registry, staking, token, requester, staked_operators
):
    """Round 0 disagrees (A, B, A): no slash then; it escalates at its reveal deadline, and when round 1's
    majority agrees with A the round-0 B revealer is slashed at the wrong-result rate and jailed; half the
    slash (slash_reward_bps) pays round 1's agreeing workers, the rest is burned. (Before escalation
    existed the round-0 majority alone slashed it, all burned.)"""
    workers, fresh = staked_operators[:3], staked_operators[3:6]
    job_id = play(protocol, requester, workers, [A, B, A], fee=FEE)
    escalate(protocol, job_id)
    assert events(registry, "OperatorSlashed", source=staking) == []
    play_round(protocol, job_id, fresh, [A, A, A])
    everyone = workers + fresh
    before, supply = balances(token, everyone), token.totalSupply()
    registry.finalize(job_id)
    (slashed,) = events(registry, "OperatorSlashed", source=staking)
    (jailed,) = events(registry, "OperatorJailed", source=staking)
    (completed,) = events(registry, "JobCompleted")
    reward = WRONG * DEFAULTS["slash_reward_bps"] // BPS
    assert (slashed.operator, slashed.job_id, slashed.reason) == (workers[1], job_id, 1)
    assert (slashed.amount, slashed.reward, slashed.burned) == (WRONG, reward, WRONG - reward)
    assert slashed.beneficiary == registry.address
    assert jailed.operator == workers[1]
    assert completed.agreeing == 5
    gains = [b - a for a, b in zip(before, balances(token, everyone), strict=True)]
    share, bounty = POOL // 5, reward // 3
    assert gains == [
        share + POOL - 5 * share,
        0,
        share,
        share + bounty + reward - 3 * bounty,
        share + bounty,
        share + bounty,
    ]
    assert sum(gains) == POOL + reward
    assert token.totalSupply() == supply - PROTOCOL_FEE - (WRONG - reward)
    assert staking.bonded(workers[1]) == STAKE - WRONG
    assert not staking.is_eligible(workers[1])
    assert token.balanceOf(registry.address) == 0


def test_withheld_reveal_is_slashed_like_a_wrong_one_and_a_missed_commit_for_liveness(
    protocol, registry, staking, token, requester, staked_operators
):
    # replicas 5, quorum 3: three agree, one commits without revealing, one never commits
    workers = staked_operators[:5]
    job_id = play(protocol, requester, workers, [A, A, A, (A,), None], fee=FEE)
    warp_to(registry.get_job(job_id).reveal_deadline)
    registry.finalize(job_id)
    slashed = events(registry, "OperatorSlashed", source=staking)
    assert [(e.operator, e.reason, e.amount, e.reward) for e in slashed] == [
        (workers[3], 3, WRONG, 0),
        (workers[4], 2, LIVENESS, 0),
    ]
    assert [e.operator for e in events(registry, "OperatorJailed", source=staking)] == [workers[3]]
    assert not staking.is_eligible(workers[3])
    assert staking.is_eligible(workers[4])
    assert registry.get_job(job_id).phase == COMPLETED
    assert token.balanceOf(registry.address) == 0


def test_first_agreeing_worker_takes_the_rounding_remainder(
    protocol, registry, governance, requester, staked_operators
):
    """The first claimant withholds (a disagreeing reveal would escalate the round), so the first agreeing
    worker is the second claimant: it takes the remainder."""
    with boa.env.prank(governance):
        registry.set_min_fee(1)
        registry.set_min_collateral(0)
        registry.set_protocol_fee_bps(0)
    workers = staked_operators[:3]
    job_id = play(protocol, requester, workers, [(B,), A, A], fee=5, collateral=500)
    warp_to(registry.get_job(job_id).reveal_deadline)
    registry.finalize(job_id)
    assert [(e.worker, e.amount) for e in events(registry, "WorkerPaid")] == [
        (workers[1], 3),
        (workers[2], 2),
    ]


# ---------------------------------------------------------------- failed


def test_no_quorum_in_the_final_round_fails_and_refunds_the_fee(
    protocol, registry, staking, token, requester, staked_operators
):
    """Round 0 (2 replicas, quorum 2) disagrees and escalates to 4 replicas, quorum 3; they split 2-2 and
    with 6 of 8 slots taken no round is left: Failed, the whole fee back, no revealer slashed (a split
    without a final quorum cannot tell who is wrong). (Before escalation existed round 0 failed at once.)"""
    workers, fresh = staked_operators[:2], staked_operators[2:6]
    job_id = play(protocol, requester, workers, [A, B], fee=FEE, replicas=2, quorum=2)
    escalated = escalate(protocol, job_id)
    assert (escalated.round, escalated.replicas, escalated.quorum) == (1, 4, 3)
    play_round(protocol, job_id, fresh, [A, B, A, B])
    before, supply = token.balanceOf(requester), token.totalSupply()
    registry.finalize(job_id)  # every committer revealed and no round is left: settles before the deadline
    (failed,) = events(registry, "JobFailed")
    assert (failed.job_id, failed.refunded) == (job_id, FEE)
    assert events(registry, "OperatorSlashed", source=staking) == []  # disagreement alone is not a fault
    assert events(registry, "WorkerPaid") == []
    assert token.balanceOf(requester) == before + FEE
    assert token.totalSupply() == supply
    assert registry.get_job(job_id).phase == FAILED
    assert [staking.locked(w) for w in workers + fresh] == [0] * 6
    assert token.balanceOf(registry.address) == 0


def test_failed_job_slashes_silent_claimants_and_burns_it_all(
    protocol, registry, staking, token, requester, staked_operators
):
    """No reveal at all: the round is not disputed (nothing to escalate on); it fails and the two who
    withheld and the one who never committed are slashed, all burned."""
    workers = staked_operators[:3]
    job_id = play(protocol, requester, workers, [(A,), (A,), None], fee=FEE)
    warp_to(registry.get_job(job_id).reveal_deadline)
    before, supply = token.balanceOf(requester), token.totalSupply()
    registry.finalize(job_id)
    slashed = events(registry, "OperatorSlashed", source=staking)
    assert [(e.operator, e.reason, e.amount, e.reward, e.beneficiary) for e in slashed] == [
        (workers[0], 3, WRONG, 0, ZERO),
        (workers[1], 3, WRONG, 0, ZERO),
        (workers[2], 2, LIVENESS, 0, ZERO),
    ]
    assert events(registry, "JobEscalated") == []
    assert token.balanceOf(requester) == before + FEE  # its fee back, never more (T31)
    assert token.totalSupply() == supply - 2 * WRONG - LIVENESS
    assert registry.get_job(job_id).phase == FAILED


def test_nobody_committed_fails_at_the_commit_deadline(protocol, registry, requester, staked_operators):
    job_id = claimed_job(protocol, requester, staked_operators[:2], replicas=2, quorum=2)
    warp_to(registry.get_job(job_id).commit_deadline - 1)
    with boa.reverts("registry: reveal not open"):
        registry.finalize(job_id)
    boa.env.time_travel(seconds=1)
    registry.finalize(job_id)
    assert registry.get_job(job_id).phase == FAILED


# ---------------------------------------------------------------- timing and state


def test_finalize_opens_early_once_every_committer_revealed(protocol, registry, requester, staked_operators):
    job_id = play(protocol, requester, staked_operators[:3], [A, A, A])
    assert boa.env.timestamp < registry.get_job(job_id).claim_deadline
    registry.finalize(job_id)
    assert registry.get_job(job_id).phase == COMPLETED


def test_pending_reveal_blocks_until_the_reveal_deadline(protocol, registry, requester, staked_operators):
    job_id = play(protocol, requester, staked_operators[:3], [A, A, (A,)])
    warp_to(registry.get_job(job_id).reveal_deadline - 1)
    with boa.reverts("registry: reveals pending"):
        registry.finalize(job_id)
    boa.env.time_travel(seconds=1)
    registry.finalize(job_id)
    assert registry.get_job(job_id).phase == COMPLETED


def test_finalize_one_second_after_the_reveal_deadline_succeeds(
    protocol, registry, requester, staked_operators
):
    job_id = play(protocol, requester, staked_operators[:3], [A, A, (A,)])
    warp_to(registry.get_job(job_id).reveal_deadline + 1)
    registry.finalize(job_id)


def test_finalize_before_reveals_open_reverts(protocol, registry, requester, staked_operators):
    job_id = claimed_job(protocol, requester, staked_operators[:3])
    commit(protocol, job_id, staked_operators[0], A)
    with boa.reverts("registry: reveal not open"):
        registry.finalize(job_id)


def test_a_late_second_finalize_is_a_no_op_that_logs(protocol, registry, token, requester, staked_operators):
    job_id = run_job(protocol, requester, staked_operators[:1], [A])
    supply = token.totalSupply()
    registry.finalize(job_id)
    (skipped,) = events(registry, "JobAlreadySettled")
    assert (skipped.job_id, skipped.phase) == (job_id, COMPLETED)
    assert events(registry, "WorkerPaid") == []
    assert token.totalSupply() == supply
    failed = play(protocol, requester, staked_operators[:2], [(A,), (B,)], replicas=2, quorum=2)
    warp_to(registry.get_job(failed).reveal_deadline)
    registry.finalize(failed)
    registry.finalize(failed)
    (skipped,) = events(registry, "JobAlreadySettled")
    assert (skipped.job_id, skipped.phase) == (failed, FAILED)


def test_finalize_of_an_open_or_unknown_job_reverts(protocol, registry, requester, staked_operators):
    job_id = post_job(protocol, requester)
    warp_to(registry.get_job(job_id).reveal_deadline)
    for target in (job_id, 99):
        with boa.reverts("registry: job not in progress"):
            registry.finalize(target)


def test_anyone_may_finalize_even_while_paused(
    protocol, registry, governance, stranger, requester, staked_operators
):
    job_id = play(protocol, requester, staked_operators[:3], [A, A, A])
    with boa.env.prank(governance):
        registry.pause()
    with boa.env.prank(stranger):
        registry.finalize(job_id)
    assert registry.get_job(job_id).phase == COMPLETED


# ---------------------------------------------------------------- T2: fee split exactness


@capped
@given(
    fee=st.one_of(st.integers(1, 10_000), st.integers(1, MAX_AMOUNT)),
    protocol_fee_bps=st.one_of(
        st.just(0), st.just(MAX_PROTOCOL_FEE_BPS), st.integers(0, MAX_PROTOCOL_FEE_BPS)
    ),
    replicas=st.integers(1, MAX_POSTED_REPLICAS),
    data=st.data(),
)
def test_paid_plus_protocol_fee_equals_the_fee_exactly(
    protocol,
    registry,
    token,
    emitter,
    governance,
    requester,
    staked_operators,
    fee,
    protocol_fee_bps,
    replicas,
    data,
):
    quorum = replicas // 2 + 1
    agreeing = data.draw(st.integers(quorum, replicas), label="agreeing")
    with boa.env.prank(governance):
        registry.set_min_fee(1)
        registry.set_min_collateral(0)
        registry.set_protocol_fee_bps(protocol_fee_bps)
    workers = staked_operators[:replicas]
    # the others withhold: a disagreeing reveal would escalate the round (test_escalation.py)
    results = [A] * agreeing + [(B,)] * (replicas - agreeing)
    collateral = min(COLLATERAL, fee * registry.MAX_COLLATERAL_PER_FEE())
    terms = {"fee": fee, "collateral": collateral, "replicas": replicas, "quorum": quorum}
    job_id = play(protocol, requester, workers, results, **terms)
    warp_to(registry.get_job(job_id).reveal_deadline)
    registry.finalize(job_id)

    (completed,) = events(registry, "JobCompleted")
    paid = [e.amount for e in events(registry, "WorkerPaid")]
    burned_by_slashes = sum(e.burned for e in events(registry, "OperatorSlashed", source=protocol.staking))
    expected_protocol_fee = int(Fraction(fee * protocol_fee_bps, BPS))  # floor
    pool = fee - expected_protocol_fee
    assert completed.agreeing == agreeing == len(paid)
    assert completed.protocol_fee == expected_protocol_fee
    assert sum(paid) == completed.paid == pool
    assert sum(paid) + completed.protocol_fee == fee
    assert paid[1:] == [pool // agreeing] * (agreeing - 1)
    assert paid[0] - pool // agreeing < agreeing
    assert token.balanceOf(registry.address) == 0
    assert emitter.epoch_burned(emitter.current_epoch()) == expected_protocol_fee
    assert token.totalSupply() == DEFAULTS["genesis_supply"] - expected_protocol_fee - burned_by_slashes
    assert registry.get_job(job_id).phase == COMPLETED


@capped
@given(
    collateral=st.integers(0, STAKE),
    wrong_bps=st.integers(1_000, BPS),
    liveness_bps=st.integers(500, 5_000),
    silent=st.booleans(),
)
def test_every_slash_is_burned_and_the_agreeing_get_only_the_pool(
    protocol,
    registry,
    staking,
    token,
    governance,
    requester,
    staked_operators,
    collateral,
    wrong_bps,
    liveness_bps,
    silent,
):
    with boa.env.prank(governance):
        registry.set_min_collateral(0)
        registry.set_wrong_result_slash_bps(wrong_bps)
        registry.set_liveness_slash_bps(liveness_bps)
    # a job settled in round 0: its faults are withheld reveals and missed commits (a disagreeing reveal
    # escalates; test_escalation.py pins the escalated job's slashes)
    workers = staked_operators[:5]
    results = [A, A, A, (B,), None if silent else (B,)]
    job_id = play(protocol, requester, workers, results, collateral=collateral, fee=FEE)
    warp_to(registry.get_job(job_id).reveal_deadline)
    before = balances(token, workers)
    registry.finalize(job_id)
    slashed = events(registry, "OperatorSlashed", source=staking)
    paid = [e.amount for e in events(registry, "WorkerPaid")]
    assert all(e.reward == 0 and e.burned == e.amount for e in slashed)
    gains = [b - a for a, b in zip(before, balances(token, workers), strict=True)]
    assert gains == [*paid, 0, 0]
    assert token.balanceOf(registry.address) == 0
