"""Attacks on the market's incentives, each played against the contracts under the default parameters.

Every test is an attacker's strategy next to the honest one: the attack must cost at least as much as
playing straight, or gain nothing. Threat ids are defined in docs/THREATS.md (T29-T38).
"""

import boa
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from offchain.chain.protocol import BPS, Phase
from tests.contracts.conftest import (
    DEFAULTS,
    RESULT_CID,
    TSR,
    commit,
    digest_of,
    post_job,
    reveal,
    run_job,
    salt_of,
    warp_to,
)

TRUE, GARBAGE = digest_of("the true result"), digest_of("garbage")
FEE, COLLATERAL = 20 * TSR, 50 * TSR
WRONG_SLASH = COLLATERAL * DEFAULTS["wrong_result_slash_bps"] // BPS
LIVENESS_SLASH = COLLATERAL * DEFAULTS["liveness_slash_bps"] // BPS


def wealth(protocol, account) -> int:
    """What an account owns in TSR: wallet plus bonded stake (collateral included)."""
    return protocol.token.balanceOf(account) + protocol.staking.bonded(account)


def claim_all(protocol, job_id, workers):
    for worker in workers:
        with boa.env.prank(worker):
            protocol.registry.claim(job_id)


def settle_after(protocol, job_id):
    warp_to(protocol.registry.get_job(job_id).reveal_deadline)
    protocol.registry.finalize(job_id)


@pytest.mark.parametrize("replicas", [2, 3])
def test_attack_withholding_a_losing_reveal_costs_at_least_revealing_it(
    protocol, requester, staked_operators, replicas
):
    """T29. An attacker that committed a losing digest and sees the others' reveals can reveal it (and be
    slashed at the wrong-result rate when a quorum forms, or nothing when none does) or withhold it.
    Withholding costs the wrong-result slash and a jail in every case: never cheaper, so the reveal binds."""
    attacker, honest = staked_operators[0], staked_operators[1:replicas]
    losses = {}
    for strategy in ("reveal", "withhold"):
        with boa.env.anchor():
            terms = {"fee": FEE, "collateral": COLLATERAL, "replicas": replicas, "quorum": replicas // 2 + 1}
            job_id = post_job(protocol, requester, **terms)
            claim_all(protocol, job_id, [attacker, *honest])
            commit(protocol, job_id, attacker, GARBAGE)
            for worker in honest:
                commit(protocol, job_id, worker, TRUE)
            for worker in honest:
                reveal(protocol, job_id, worker, TRUE)
            before = wealth(protocol, attacker)
            if strategy == "reveal":
                reveal(protocol, job_id, attacker, GARBAGE)
            settle_after(protocol, job_id)
            losses[strategy] = before - wealth(protocol, attacker)
            if strategy == "withhold":
                assert not protocol.staking.is_eligible(attacker)  # jailed as a wrong result would be
    assert losses["withhold"] >= losses["reveal"]
    assert losses["withhold"] == WRONG_SLASH


@pytest.mark.parametrize(
    "results",
    [
        [TRUE, GARBAGE],  # disagreement, 2 of 2 needed
        [TRUE, (TRUE,), None],  # one reveals, one withholds, one never commits
        [None, None, None],  # everyone squats
        [GARBAGE, digest_of("other"), (TRUE,)],
    ],
)
def test_attack_requester_never_profits_from_failure(protocol, requester, staked_operators, results):
    """T31. However a job fails (a poison job, squatting claimants, withheld reveals), the requester ends
    with exactly the fee it escrowed: slashes are burned, never paid to it."""
    workers = staked_operators[: len(results)]
    quorum = len(results) // 2 + 1 if len(results) > 2 else 2
    job_id = post_job(
        protocol, requester, fee=FEE, collateral=COLLATERAL, replicas=len(results), quorum=quorum
    )
    start = protocol.token.balanceOf(requester)
    claim_all(protocol, job_id, workers)
    for worker, result in zip(workers, results, strict=True):
        if result is not None:
            commit(protocol, job_id, worker, result[0] if isinstance(result, tuple) else result)
    warp_to(protocol.registry.get_job(job_id).commit_deadline)
    for worker, result in zip(workers, results, strict=True):
        if isinstance(result, bytes):
            reveal(protocol, job_id, worker, result)
    settle_after(protocol, job_id)
    assert protocol.registry.get_job(job_id).phase == Phase.FAILED
    assert protocol.token.balanceOf(requester) == start + FEE  # the escrow back, and not a wei more


def test_attack_terms_changed_after_posting_do_not_apply(
    protocol, registry, governance, requester, staked_operators
):
    """T35. Governance (or whoever captures it) raises the protocol fee and the slash rates while a job
    runs: the job settles under the terms it was posted with; only jobs posted later get the new ones."""
    honest, wrong, silent = staked_operators[:3]
    posted_under = tuple(registry.job_terms(0))
    job_id = post_job(protocol, requester, fee=FEE, collateral=COLLATERAL, replicas=3, quorum=2)
    claim_all(protocol, job_id, [honest, wrong, silent])
    with boa.env.prank(governance):
        registry.set_protocol_fee_bps(registry.MAX_PROTOCOL_FEE_BPS())
        registry.set_wrong_result_slash_bps(registry.MIN_WRONG_RESULT_SLASH_BPS())
        registry.set_liveness_slash_bps(registry.MAX_LIVENESS_SLASH_BPS())
    assert tuple(registry.job_terms(job_id)) == posted_under
    assert tuple(registry.job_terms(0)) == (2_000, 1_000, 5_000)
    commit(protocol, job_id, honest, TRUE)
    commit(protocol, job_id, wrong, GARBAGE)
    warp_to(registry.get_job(job_id).commit_deadline)
    reveal(protocol, job_id, honest, TRUE)
    reveal(protocol, job_id, wrong, GARBAGE)
    settle_after(protocol, job_id)  # 1 of 3 agree: failed, the silent claimant never committed
    slashed = [
        (str(e.operator), e.amount) for e in registry.get_logs() if type(e).__name__ == "OperatorSlashed"
    ]
    assert slashed == [(silent, LIVENESS_SLASH)]  # 10 % as posted, not the 50 % set since

    later = run_job(protocol, requester, [honest, wrong], [TRUE, TRUE], fee=FEE, collateral=COLLATERAL)
    (completed,) = [e for e in registry.get_logs() if type(e).__name__ == "JobCompleted"]
    assert completed.job_id == later and completed.protocol_fee == FEE * 2_000 // BPS
    assert tuple(registry.job_terms(later)) == (2_000, 1_000, 5_000)


def test_attack_sybil_majority_gains_nothing_from_the_honest_minority(protocol, requester, staked_operators):
    """T37. Two Sybil accounts take two of three slots and reveal garbage: they win the quorum but are paid
    only the fee pool they would have earned working honestly; the honest minority's slash is burned, not
    paid to them (before, half of it was: +500 TSR for the pair on a 1,000 TSR collateral). Escalation,
    which spares the minority its slash, is not built yet (SPEC §10)."""
    sybil_a, sybil_b, honest = staked_operators[:3]
    before = {w: wealth(protocol, w) for w in (sybil_a, sybil_b)}
    supply = protocol.token.totalSupply()
    run_job(
        protocol,
        requester,
        [sybil_a, sybil_b, honest],
        [GARBAGE, GARBAGE, TRUE],
        fee=FEE,
        collateral=COLLATERAL,
    )
    pool = FEE - FEE * DEFAULTS["protocol_fee_bps"] // BPS
    assert sum(wealth(protocol, w) - before[w] for w in (sybil_a, sybil_b)) == pool
    assert protocol.token.totalSupply() == supply - FEE * DEFAULTS["protocol_fee_bps"] // BPS - WRONG_SLASH


def test_attack_squatting_every_slot_costs_at_least_the_liveness_floor(
    protocol, registry, governance, requester, staked_operators
):
    """T32. Claiming slots and never committing kills a job; it costs each squatter at least the liveness
    floor of its collateral, whatever governance sets, and the requester gets its fee back."""
    with boa.env.prank(governance), boa.reverts("registry: liveness_slash_bps out of bounds"):
        registry.set_liveness_slash_bps(0)
    with boa.env.prank(governance):
        registry.set_liveness_slash_bps(registry.MIN_LIVENESS_SLASH_BPS())
    squatters = staked_operators[:3]
    before = {w: wealth(protocol, w) for w in squatters}
    job_id = post_job(protocol, requester, fee=FEE, collateral=COLLATERAL, replicas=3, quorum=2)
    claim_all(protocol, job_id, squatters)
    warp_to(registry.get_job(job_id).commit_deadline)
    registry.finalize(job_id)
    floor = COLLATERAL * registry.MIN_LIVENESS_SLASH_BPS() // BPS
    assert floor > 0
    assert [before[w] - wealth(protocol, w) for w in squatters] == [floor] * 3


def test_attack_an_agreeing_worker_cannot_name_a_cid_it_did_not_commit(
    protocol, registry, requester, staked_operators
):
    """T36. The commitment binds the result CID: a worker that agrees on the digest cannot reveal a CID of
    bytes that do not exist (or another worker's upload) in place of the one it committed to."""
    worker = staked_operators[0]
    job_id = post_job(protocol, requester, fee=FEE, collateral=COLLATERAL)
    claim_all(protocol, job_id, [worker])
    commit(protocol, job_id, worker, TRUE, cid=RESULT_CID)
    with boa.env.prank(worker), boa.reverts("registry: reveal does not match commitment"):
        registry.reveal(job_id, TRUE, "bafkreinothingthere", salt_of(worker))
    reveal(protocol, job_id, worker, TRUE, cid=RESULT_CID)
    assert registry.worker_entry(job_id, worker).revealed


# ---------------------------------------------------------------- no profitable deviation (property)
HONEST, WRONG, WITHHOLD, SILENT = "honest", "wrong", "withhold", "silent"


def play_slots(protocol, requester, workers, plays, quorum) -> int:
    """Post a job for `workers`; each claims and plays its strategy; settle. Returns the job id."""
    job_id = post_job(
        protocol, requester, fee=FEE, collateral=COLLATERAL, replicas=len(workers), quorum=quorum
    )
    claim_all(protocol, job_id, workers)
    for worker, play in zip(workers, plays, strict=True):
        if play != SILENT:
            commit(protocol, job_id, worker, GARBAGE if play == WRONG else TRUE)
    warp_to(protocol.registry.get_job(job_id).commit_deadline)
    for worker, play in zip(workers, plays, strict=True):
        if play in (HONEST, WRONG):
            reveal(protocol, job_id, worker, GARBAGE if play == WRONG else TRUE)
    settle_after(protocol, job_id)
    return job_id


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    replicas=st.integers(1, 4),
    data=st.data(),
)
def test_no_attacker_strategy_beats_playing_honestly(protocol, requester, staked_operators, replicas, data):
    """A random attacker holds fewer than a quorum of a job's slots (a Sybil cluster when more than one) and
    plays each one honest, wrong, withholding or silent, while the other slots play honestly. Under the
    default parameters its TSR at the end never exceeds what playing every slot honestly earns, and the
    requester never ends above where it started. An attacker holding a quorum is the known gap below."""
    quorum = replicas // 2 + 1
    slots = data.draw(st.lists(st.booleans(), min_size=replicas, max_size=replicas), label="attacker's slots")
    assume(sum(slots) < quorum)
    plays = [
        data.draw(st.sampled_from([HONEST, WRONG, WITHHOLD, SILENT]), label=f"slot {i}") if mine else HONEST
        for i, mine in enumerate(slots)
    ]
    workers = staked_operators[:replicas]
    mine = [w for w, m in zip(workers, slots, strict=True) if m]
    outcomes = {}
    for strategy, moves in (("honest", [HONEST] * replicas), ("deviation", plays)):
        with boa.env.anchor():
            start = {w: wealth(protocol, w) for w in mine}
            spent = protocol.token.balanceOf(requester)
            play_slots(protocol, requester, workers, moves, quorum)
            outcomes[strategy] = sum(wealth(protocol, w) - start[w] for w in mine)
            assert protocol.token.balanceOf(requester) <= spent + FEE  # funded FEE by post_job
    assert outcomes["deviation"] <= outcomes["honest"], (plays, outcomes)


@pytest.mark.xfail(strict=True, reason="issue 9 phases 2-3 (stake-weighted assignment, escalation) not built")
def test_known_gap_a_sybil_majority_profits_by_outvoting_the_honest_minority(
    protocol, requester, staked_operators
):
    """The counterexample the property above found when the attacker may hold a quorum: two Sybil slots of
    a 3-replica job reveal garbage and split the whole pool (19 TSR) instead of two thirds of it (12.67
    TSR), and the honest worker is slashed. Closing it needs assignment the cluster cannot fill and
    escalation instead of majority-takes-all (SPEC §10); this test then passes and must lose its xfail."""
    workers = staked_operators[:3]
    mine = workers[1:]
    outcomes = {}
    for strategy, moves in (("honest", [HONEST] * 3), ("deviation", [HONEST, WRONG, WRONG])):
        with boa.env.anchor():
            start = {w: wealth(protocol, w) for w in mine}
            play_slots(protocol, requester, workers, moves, quorum=2)
            outcomes[strategy] = sum(wealth(protocol, w) - start[w] for w in mine)
    assert outcomes["deviation"] <= outcomes["honest"]
