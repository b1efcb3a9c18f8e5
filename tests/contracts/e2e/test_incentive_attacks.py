"""Attacks on the market's incentives, each played against the contracts under the default parameters.

Every test is an attacker's strategy next to the honest one: the attack must cost at least as much as
playing straight, or gain nothing. Threat ids are defined in docs/THREATS.md (T29-T38).

The market here is the deployed one: `scripts/params/default.json` and the registry's own selection
factor (2, not the 64 the unit tests use), so who may claim a round is the contract's stake-weighted
selection. Claimants wait for `selected_at` (time is warped to it) and never get a slot it refuses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import boa
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from offchain.chain.protocol import BPS, Phase, SlashReason
from tests.contracts.conftest import (
    DEFAULT_SELECTION_FACTOR,
    DEFAULTS,
    RESULT_CID,
    TSR,
    commit,
    deploy_protocol,
    digest_of,
    fund,
    post_job,
    reveal,
    salt_of,
    stake_operator,
    warp_to,
)

TRUE, GARBAGE = digest_of("the true result"), digest_of("garbage")
FEE, COLLATERAL = 20 * TSR, 50 * TSR
WRONG_SLASH = COLLATERAL * DEFAULTS["wrong_result_slash_bps"] // BPS
LIVENESS_SLASH = COLLATERAL * DEFAULTS["liveness_slash_bps"] // BPS
PROTOCOL_FEE = FEE * DEFAULTS["protocol_fee_bps"] // BPS
POOL = FEE - PROTOCOL_FEE
REWARD_BPS = DEFAULTS["slash_reward_bps"]
TERMINAL = {Phase.COMPLETED, Phase.FAILED, Phase.CANCELLED, Phase.EXPIRED}
HONEST, WRONG, WITHHOLD, SILENT = "honest", "wrong", "withhold", "silent"
N_HONEST = 10


# ---------------------------------------------------------------- the market
@pytest.fixture
def protocol(token_deployer, staking_deployer, emitter_deployer, registry_deployer, governance):
    """Deployed as in production: default parameters and the contract's selection factor."""
    p = deploy_protocol(
        token_deployer,
        staking_deployer,
        emitter_deployer,
        registry_deployer,
        governance,
        selection_factor=None,
    )
    assert p.registry.selection_factor() == DEFAULT_SELECTION_FACTOR == 2
    return p


@pytest.fixture
def honest(protocol) -> list[str]:
    """Ten honest operators, 1,000 TSR each."""
    workers = [boa.env.generate_address(f"honest{i}") for i in range(N_HONEST)]
    for worker in workers:
        stake_operator(protocol, worker)
    return workers


@pytest.fixture
def sybils(protocol) -> list[str]:
    """One attacker's two identities, 1,000 TSR each (a sixth of the stake with `honest`)."""
    workers = [boa.env.generate_address(f"sybil{i}") for i in range(2)]
    for worker in workers:
        stake_operator(protocol, worker)
    return workers


def wealth(protocol, account) -> int:
    """What an account owns in TSR: wallet plus bonded stake (collateral included)."""
    return protocol.token.balanceOf(account) + protocol.staking.bonded(account)


def named(protocol, name: str, logs: list | None = None) -> list:
    """The events called `name` in `logs`, or else in the last call's (a view call counts: read first)."""
    return [e for e in (protocol.registry.get_logs() if logs is None else logs) if type(e).__name__ == name]


def fill_round(protocol, job_id: int, candidates: list[str]) -> list[str]:
    """Claim the current round's free slots for `candidates` in the order the contract's selection admits
    them: earliest `selected_at` first, a tie to the earlier candidate (list an attacker first for the
    worst case). Time is warped to each claimant's `selected_at`; nobody claims before it. Returns the
    round's claimants."""
    registry = protocol.registry
    view = registry.get_job(job_id)
    taken = {str(a) for a in registry.claimants(job_id)}
    queue = sorted(
        (registry.selected_at(job_id, c), n, c) for n, c in enumerate(candidates) if str(c) not in taken
    )
    claimed: list[str] = []
    for at, _, worker in queue:
        if len(claimed) == view.replicas - view.claims or at >= view.claim_deadline:
            break
        if at > boa.env.timestamp:
            warp_to(at)
        assert registry.is_selected(job_id, worker)
        with boa.env.prank(worker):
            registry.claim(job_id)
        claimed.append(worker)
    return claimed


def result_of(play: str) -> bytes:
    return GARBAGE if play == WRONG else TRUE


def play_round(protocol, job_id: int, claimants: list[str], plays: dict[str, str]) -> list:
    """Each claimant of the round commits (unless silent) and reveals (unless it withholds); the round then
    closes at its reveal deadline (settles or escalates). Returns the closing call's events."""
    registry = protocol.registry
    for worker in claimants:
        if plays[worker] != SILENT:
            commit(protocol, job_id, worker, result_of(plays[worker]))
    if registry.get_job(job_id).phase != Phase.REVEALING:
        warp_to(registry.get_job(job_id).commit_deadline)
    for worker in claimants:
        if plays[worker] in (HONEST, WRONG):
            reveal(protocol, job_id, worker, result_of(plays[worker]))
    warp_to(max(boa.env.timestamp, registry.get_job(job_id).reveal_deadline))
    registry.finalize(job_id)
    return registry.get_logs()


@dataclass
class Run:
    job_id: int
    rounds: list[list[str]] = field(default_factory=list)  # claimants per round
    quorums: list[int] = field(default_factory=list)
    phase: int = Phase.OPEN
    paid: dict[str, int] = field(default_factory=dict)  # WorkerPaid of the settlement
    slashes: list = field(default_factory=list)  # OperatorSlashed of the settlement
    escalations: int = 0
    logs: list = field(default_factory=list)  # the settling call's events


def run_job(
    protocol,
    requester: str,
    replicas: int,
    candidates: Callable[[int], list[str]],
    play: Callable[[str, int], str],
    **terms,
) -> Run:
    """Post a job and play it to the end: each round is filled by the contract's selection among
    `candidates(round)` and each claimant plays `play(worker, round)`."""
    terms = {"fee": FEE, "collateral": COLLATERAL, **terms}
    registry = protocol.registry
    run = Run(post_job(protocol, requester, replicas=replicas, quorum=replicas // 2 + 1, **terms))
    while True:
        view = registry.get_job(run.job_id)
        claimants = fill_round(protocol, run.job_id, candidates(view.round))
        run.rounds.append(claimants)
        run.quorums.append(view.quorum)
        if not claimants and view.round == 0:
            warp_to(view.claim_deadline)
            registry.expire(run.job_id)
            logs = registry.get_logs()
        else:
            logs = play_round(protocol, run.job_id, claimants, {w: play(w, view.round) for w in claimants})
        run.escalations += len(named(protocol, "JobEscalated", logs))
        run.phase = registry.get_job(run.job_id).phase
        if run.phase in TERMINAL:
            run.paid = {str(e.worker): e.amount for e in named(protocol, "WorkerPaid", logs)}
            run.slashes = named(protocol, "OperatorSlashed", logs)
            run.logs = logs
            return run


# ---------------------------------------------------------------- T37: the Sybil majority
def test_attack_sybil_majority_of_round_zero_cannot_take_the_honest_workers_stake(
    protocol, registry, requester, honest, sybils
):
    """T37. Two Sybil identities and one honest worker are selected for a 3-replica, quorum-2 job; the
    Sybils reveal the same garbage and outvote it. Before, the job completed on their majority: the honest
    worker lost its whole collateral and was jailed. Now the round escalates at its reveal deadline to 5
    fresh replicas chosen by stake (the Sybils cannot claim again); they re-run the job and decide. The
    honest worker is paid, the Sybils are slashed and jailed, and half their slashes pays the new round."""
    victim = honest[0]
    start = {w: wealth(protocol, w) for w in [*sybils, *honest]}
    supply = protocol.token.totalSupply()
    job_id = post_job(protocol, requester, fee=FEE, collateral=COLLATERAL, replicas=3, quorum=2)
    round0 = fill_round(protocol, job_id, [*sybils, victim])
    assert sorted(round0) == sorted([*sybils, victim])
    for worker in sybils:
        commit(protocol, job_id, worker, GARBAGE)
    commit(protocol, job_id, victim, TRUE)
    for worker in sybils:
        reveal(protocol, job_id, worker, GARBAGE)
    with boa.env.prank(victim):  # the last reveal owed: the round disagrees, so it does not settle
        assert registry.reveal_and_finalize(job_id, TRUE, RESULT_CID, salt_of(victim)) is False
    with boa.reverts("registry: reveals disagree; the round escalates at its reveal deadline"):
        registry.finalize(job_id)
    warp_to(registry.get_job(job_id).reveal_deadline)
    registry.finalize(job_id)
    (escalated,) = named(protocol, "JobEscalated")
    assert (escalated.round, escalated.replicas, escalated.quorum) == (1, 5, 3)
    assert not named(protocol, "OperatorSlashed")  # nobody is slashed on a round-0 majority
    for worker in sybils:
        with boa.env.prank(worker), boa.reverts("registry: already claimed"):
            registry.claim(job_id)

    round1 = fill_round(protocol, job_id, honest[1:])
    assert len(round1) == 5
    for worker in round1:
        commit(protocol, job_id, worker, TRUE)
    for worker in round1[:-1]:
        reveal(protocol, job_id, worker, TRUE)
    with boa.env.prank(round1[-1]):
        assert registry.reveal_and_finalize(job_id, TRUE, RESULT_CID, salt_of(round1[-1])) is True
    assert registry.get_job(job_id).phase == Phase.COMPLETED

    share = POOL // 6  # the victim and the 5 new replicas agree; the victim (first) takes the remainder
    bounty = 2 * WRONG_SLASH * REWARD_BPS // BPS
    assert wealth(protocol, victim) - start[victim] == share + POOL - 6 * share > 0
    assert protocol.staking.is_eligible(victim)
    for worker in sybils:
        assert start[worker] - wealth(protocol, worker) == WRONG_SLASH
        assert not protocol.staking.is_eligible(worker)  # jailed
    assert sum(wealth(protocol, w) - start[w] for w in round1) == 5 * share + bounty
    assert protocol.token.totalSupply() == supply - PROTOCOL_FEE - (2 * WRONG_SLASH - bounty)
    # outvoting cost the pair its collateral; playing straight would have earned it two thirds of the pool
    assert sum(wealth(protocol, w) - start[w] for w in sybils) == -2 * WRONG_SLASH < 2 * POOL // 3


@pytest.mark.parametrize("confirmers", [0, 1, 2])
def test_attack_a_sybil_majority_that_starves_the_escalation_gains_nothing(
    protocol, requester, honest, sybils, confirmers
):
    """The Sybil pair outvotes the honest worker in round 0 and no honest replica takes the escalation
    rounds (a small or busy network, or one the cluster crowds out); `confirmers` more identities of the
    cluster take a slot there and reveal the pair's garbage. The honest worker's stake is safe either way
    (an unproven result slashes no revealer), and the cluster ends no better than playing straight: with
    no confirmation the job fails and the fee is refunded; a confirmed unproven completion pays only round
    0's agreeing revealers, each at most a round-0 replica's share, and refunds the rest (so confirming
    identities add nothing)."""
    victim = honest[0]
    extra = [boa.env.generate_address(f"confirmer{i}") for i in range(confirmers)]
    for worker in extra:
        stake_operator(protocol, worker)
    cluster = [*sybils, *extra]
    outcomes = {}
    for play in (HONEST, WRONG):
        with boa.env.anchor():
            start = {w: wealth(protocol, w) for w in [*cluster, victim]}
            run = run_job(
                protocol,
                requester,
                3,
                lambda r: [*sybils, victim] if r == 0 else extra,
                lambda w, r, play=play: play if w in cluster else HONEST,
            )
            if play == WRONG:
                assert run.escalations >= 1
                assert run.phase == (Phase.COMPLETED if confirmers else Phase.FAILED)
            assert wealth(protocol, victim) >= start[victim]  # its stake is safe either way
            outcomes[play] = sum(wealth(protocol, w) - start[w] for w in cluster)
    assert outcomes[WRONG] <= outcomes[HONEST], outcomes


def test_an_escalated_job_whose_first_round_was_not_full_still_settles(protocol, registry, requester, honest):
    """A liar cannot lock a job (fee and every claimant's collateral) for good: a 3-replica job that only two
    operators claim, one revealing another digest, escalates; nobody takes the new round; at its reveal
    deadline finalize must settle the job (it fails, and the fee is refunded)."""
    run = run_job(
        protocol,
        requester,
        3,
        lambda r: honest[:2] if r == 0 else [],
        lambda w, r: WRONG if w == honest[1] else HONEST,
    )
    assert run.escalations == 1 and run.phase == Phase.FAILED


def test_an_escalated_job_whose_first_round_was_not_full_pays_its_escalation_slots_the_bounty(
    protocol, registry, requester, honest
):
    """Round 0 is the slots it filled, not the replicas posted: a 3-replica job that two operators claim
    (one lying) escalates, and five fresh operators take slots 2..6. Slot 2 is an escalation slot, so its
    worker shares the liar's bounty like the other four; the honest round-0 worker is paid without it."""
    liar = honest[1]
    run = run_job(
        protocol,
        requester,
        3,
        lambda r: honest[:2] if r == 0 else honest[2:],
        lambda w, r: WRONG if w == liar else HONEST,
    )
    assert run.escalations == 1 and run.phase == Phase.COMPLETED
    round1 = run.rounds[1]
    assert len(round1) == 5 and registry.get_job(run.job_id).first_slot == 2
    bounty = WRONG_SLASH * REWARD_BPS // BPS
    share = POOL // 6
    assert run.paid[honest[0]] == share + (POOL - 6 * share)  # the first paid takes the rounding
    assert sorted(run.paid[w] for w in round1) == sorted(
        [share + bounty // 5 + (bounty - 5 * (bounty // 5))] + [share + bounty // 5] * 4
    )
    assert liar not in run.paid


def test_an_unproven_completion_pays_only_round_zero_and_refunds_the_rest(
    protocol, registry, requester, honest
):
    """Round 0 (3 replicas) splits: two honest workers against a liar who reveals, plus nobody else; the
    escalation round gets a single honest claimant (no quorum of 3), and the last round nobody. The result
    the honest three revealed is a strict majority across rounds, backed by round 0 and a later round: the
    job completes unproven. The round-0 revealers of it are paid a round-0 share each, the confirmer is
    not paid from the pool, the liar is not slashed (no final quorum proved it wrong) and the requester gets
    the rest back."""
    liar, confirmer = honest[2], honest[3]
    balance = protocol.token.balanceOf(requester)
    run = run_job(
        protocol,
        requester,
        3,
        lambda r: honest[:3] if r == 0 else [confirmer] if r == 1 else [],
        lambda w, r: WRONG if w == liar else HONEST,
    )
    assert run.escalations == 2 and run.phase == Phase.COMPLETED
    assert run.paid == {honest[0]: POOL // 3, honest[1]: POOL // 3}
    assert not run.slashes
    (done,) = named(protocol, "JobCompleted", run.logs)
    assert (done.agreeing, done.paid) == (3, 2 * (POOL // 3))
    # post_job funds the requester with exactly the fee it escrows: what it holds after is the refund
    assert protocol.token.balanceOf(requester) == balance + POOL - 2 * (POOL // 3)


# ---------------------------------------------------------------- selection
def binomial_tail(n: int, p: float, at_least: int) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(at_least, n + 1))


def test_attack_sybil_cluster_is_selected_as_its_stake_predicts_and_splitting_buys_nothing(
    protocol, registry, requester, honest
):
    """Selection. A cluster with a quarter of the stake (3,333 TSR beside the ten honest 1,000-TSR
    operators) is split over 3 or over 12 identities. Over 240 jobs of 3 replicas
    (k = 3 x 2 = 6 tickets) the identities selected at a round's opening number k x f on average either
    way (splitting buys no more selection), and the cluster holds a quorum (2) of selected identities as
    often as the binomial law of its stake says; finer splitting (towards the Poisson limit) does not
    raise that. One identity can hold one slot and no majority at all."""
    jobs, replicas, quorum = 240, 3, 2
    k = replicas * DEFAULT_SELECTION_FACTOR
    cluster_stake = 10 * 1_000 * TSR // 3  # a quarter of the total with the ten honest 1,000-TSR operators
    fund(protocol, requester, jobs * FEE)
    observed = {}
    for identities in (3, 12):
        with boa.env.anchor():
            cluster = [boa.env.generate_address(f"cluster{identities}-{i}") for i in range(identities)]
            for worker in cluster:
                stake_operator(protocol, worker, cluster_stake // identities)
            total = protocol.staking.total_bonded()
            f = cluster_stake // identities * identities / total
            counts = []
            for _ in range(jobs):
                job_id = post_job(
                    protocol,
                    requester,
                    fee=FEE,
                    collateral=COLLATERAL,
                    replicas=replicas,
                    quorum=quorum,
                    fund_requester=False,
                )
                opened = boa.env.timestamp
                counts.append(sum(registry.selected_at(job_id, w) == opened for w in cluster))
            p = k * f / identities
            mean, majority = sum(counts) / jobs, sum(c >= quorum for c in counts) / jobs
            expected = binomial_tail(identities, p, quorum)
            sd_mean = math.sqrt(identities * p * (1 - p) / jobs)
            sd_majority = math.sqrt(expected * (1 - expected) / jobs)
            assert abs(mean - k * f) < 4 * sd_mean, (identities, mean, k * f)
            assert abs(majority - expected) < 4 * sd_majority, (identities, majority, expected)
            observed[identities] = (mean, majority, expected)
    poisson = 1 - math.exp(-k * f) * (1 + k * f)
    assert poisson <= observed[12][2] <= observed[3][2]  # finer splits: no likelier majority


def test_attack_a_mempool_front_runner_that_is_not_selected_cannot_claim(
    protocol, registry, requester, honest
):
    """Selection. A watcher sees a selected worker's claim in the mempool and sends the same call first:
    the ticket is keccak256(seed, job, round, msg.sender), so its own identity is judged, and one the
    selection never admits this round cannot claim at any time in the window, while the worker can."""
    watcher = boa.env.generate_address("watcher")
    stake_operator(protocol, watcher, DEFAULTS["min_stake"])  # k x 16 x stake / total < 1: may never pass
    for _ in range(40):
        job_id = post_job(protocol, requester, fee=FEE, collateral=COLLATERAL)
        deadline = registry.get_job(job_id).claim_deadline
        selected = [w for w in honest if registry.is_selected(job_id, w)]
        if selected and registry.selected_at(job_id, watcher) >= deadline:
            break
    else:
        pytest.fail("no job in 40 where the watcher is never selected")
    for moment in (boa.env.timestamp, deadline - 1):
        warp_to(moment)
        assert not registry.is_selected(job_id, watcher)
        with boa.env.prank(watcher), boa.reverts("registry: not selected for this job yet (see selected_at)"):
            registry.claim(job_id)
    with boa.env.prank(selected[0]):
        registry.claim(job_id)
    assert list(registry.claimants(job_id)) == [selected[0]]


# ---------------------------------------------------------------- vetoes, withholding, squatting
@pytest.mark.parametrize("veto", [WRONG, WITHHOLD, SILENT])
def test_attack_a_veto_costs_the_vetoer(protocol, requester, honest, sybils, veto):
    """T29/T32. One claimant of a 3-replica job tries to stop the two honest ones: revealing another
    digest escalates the job and ends in a wrong-result slash (and a jail) once fresh replicas agree with
    the honest pair; withholding a committed result costs the wrong-result rate (so a losing reveal is
    not a free option); never committing costs the liveness rate. Playing straight earns a third of the
    pool; every veto loses collateral."""
    vetoer = sybils[0]
    outcomes = {}
    for play in (HONEST, veto):
        with boa.env.anchor():
            before = wealth(protocol, vetoer)
            run = run_job(
                protocol,
                requester,
                3,
                lambda r: [vetoer, *honest[:2]] if r == 0 else honest[2:],
                lambda w, r, play=play: play if w == vetoer else HONEST,
            )
            assert run.phase == Phase.COMPLETED
            outcomes[play] = wealth(protocol, vetoer) - before
            if play == veto:
                assert run.escalations == (1 if veto == WRONG else 0)
                assert protocol.staking.is_eligible(vetoer) == (veto == SILENT)  # wrong and withheld jail
    assert outcomes[HONEST] > 0
    assert outcomes[veto] == -(LIVENESS_SLASH if veto == SILENT else WRONG_SLASH)


@pytest.mark.parametrize("replicas", [2, 3])
def test_attack_withholding_a_losing_reveal_costs_at_least_revealing_it(
    protocol, requester, honest, sybils, replicas
):
    """T29. An attacker that committed a losing digest and sees the others' reveals can reveal it (the
    job escalates and it is slashed at the wrong-result rate when fresh replicas side with the honest)
    or withhold it. Withholding costs the wrong-result slash and a jail in every case: never cheaper,
    so the reveal binds."""
    attacker = sybils[0]
    losses = {}
    for strategy in (WRONG, WITHHOLD):
        with boa.env.anchor():
            before = wealth(protocol, attacker)
            run = run_job(
                protocol,
                requester,
                replicas,
                lambda r: [attacker, *honest[: replicas - 1]] if r == 0 else honest[replicas - 1 :],
                lambda w, r, s=strategy: s if w == attacker else HONEST,
            )
            assert run.phase == Phase.COMPLETED
            losses[strategy] = before - wealth(protocol, attacker)
            assert not protocol.staking.is_eligible(attacker)  # jailed either way
    assert losses[WITHHOLD] >= losses[WRONG] == WRONG_SLASH
    assert losses[WITHHOLD] == WRONG_SLASH


@pytest.mark.parametrize(
    ("plays", "alone"),
    [
        ([HONEST, WRONG], Phase.FAILED),  # 2 of 2 needed: escalates; alone, no majority of all reveals
        ([HONEST, WITHHOLD, SILENT], Phase.FAILED),  # escalates; alone, nobody confirms the lone reveal
        ([SILENT, SILENT, SILENT], Phase.FAILED),  # everyone squats: no reveal, fails at once
        ([WRONG, WITHHOLD, HONEST], Phase.FAILED),
    ],
)
def test_attack_requester_never_ends_a_failed_or_escalated_job_above_its_fee(
    protocol, requester, honest, plays, alone
):
    """T31. However a job fails (a poison job, squatting claimants, withheld reveals, an escalation round
    nobody takes), the requester ends with exactly the fee it escrowed: liveness and withheld slashes are
    burned, never paid to it; and a job that escalates and completes (proven by fresh replicas, or
    unproven when none come) costs it exactly its fee."""
    workers = honest[: len(plays)]
    mine = dict(zip(workers, plays, strict=True))
    for joiners, expected in (([], alone), (honest[len(plays) :], None)):
        with boa.env.anchor():
            fund(protocol, requester, FEE)
            start = protocol.token.balanceOf(requester)
            run = run_job(
                protocol,
                requester,
                len(plays),
                lambda r, joiners=joiners: workers if r == 0 else joiners,
                lambda w, r: mine.get(w, HONEST),
                fund_requester=False,
            )
            assert expected is None or run.phase == expected
            end = protocol.token.balanceOf(requester)
            assert end == (start if run.phase == Phase.FAILED else start - FEE)
            assert all(str(s.beneficiary) != str(requester) for s in run.slashes)


def test_attack_escalation_bounty_is_at_most_half_the_losers_slashes_and_the_first_majority_gains_none(
    protocol, registry, requester, honest, sybils
):
    """The escalation round is paid from the losers' slashes, but never more than `slash_reward_bps` (half)
    of the wrong-result and withheld slashes; the round-0 workers (here an honest pair outvoted by nobody
    and one liar that forced the escalation, and then the liar's Sybil majority) get their pool share at
    most: nobody in an original majority gains from anyone's slash."""
    for round0_plays in (
        {sybils[0]: WRONG, honest[0]: HONEST, honest[1]: HONEST},
        {sybils[0]: WRONG, sybils[1]: WRONG, honest[0]: HONEST},
    ):
        with boa.env.anchor():
            round0 = list(round0_plays)
            run = run_job(
                protocol,
                requester,
                3,
                lambda r, round0=round0: round0 if r == 0 else honest[2:],
                lambda w, r, plays=round0_plays: plays.get(w, HONEST) if r == 0 else HONEST,
            )
            assert run.phase == Phase.COMPLETED and run.escalations == 1
            faults = [s for s in run.slashes if s.reason in (SlashReason.WRONG_RESULT, SlashReason.WITHHELD)]
            assert all(str(s.beneficiary) == str(registry.address) for s in faults)
            bounty = sum(s.reward for s in faults)
            assert bounty <= sum(s.amount for s in faults) * REWARD_BPS // BPS
            agreeing = [w for rnd in run.rounds for w in rnd if round0_plays.get(w, HONEST) == HONEST]
            share = POOL // len(agreeing)
            first = agreeing[0]
            for w in agreeing:
                base = share + (POOL - share * len(agreeing) if w == first else 0)
                if w in round0:
                    assert run.paid[str(w)] == base  # the pool share and not a wei of any slash
                else:
                    assert base <= run.paid[str(w)] <= base + bounty
            assert sum(run.paid.values()) == POOL + bounty
            assert all(str(w) not in run.paid for w in round0 if round0_plays[w] != HONEST)


def test_attack_terms_changed_after_posting_do_not_apply(protocol, registry, governance, requester, honest):
    """T35. Governance (or whoever captures it) raises the protocol fee and the slash rates while a job
    runs: the job settles under the terms it was posted with; only jobs posted later get the new ones."""
    posted_under = tuple(registry.job_terms(0))
    job_id = post_job(protocol, requester, fee=FEE, collateral=COLLATERAL, replicas=3, quorum=2)
    right, wrong, silent = fill_round(protocol, job_id, honest)
    with boa.env.prank(governance):
        registry.set_protocol_fee_bps(registry.MAX_PROTOCOL_FEE_BPS())
        registry.set_wrong_result_slash_bps(registry.MIN_WRONG_RESULT_SLASH_BPS())
        registry.set_liveness_slash_bps(registry.MAX_LIVENESS_SLASH_BPS())
    assert tuple(registry.job_terms(job_id)) == posted_under
    assert tuple(registry.job_terms(0)) == (2_000, 1_000, 5_000)
    play_round(protocol, job_id, [right, wrong, silent], {right: HONEST, wrong: WRONG, silent: SILENT})
    assert registry.get_job(job_id).round == 1  # 1 of 3 agree: escalated; nobody takes the new round
    warp_to(registry.get_job(job_id).reveal_deadline)
    registry.finalize(job_id)
    slashed = [(str(e.operator), e.amount) for e in named(protocol, "OperatorSlashed")]
    assert registry.get_job(job_id).phase == Phase.FAILED
    assert slashed == [(silent, LIVENESS_SLASH)]  # 10 % as posted, not the 50 % set since

    later = run_job(protocol, requester, 1, lambda r: honest[3:], lambda w, r: HONEST)
    (completed,) = [e for e in later.logs if type(e).__name__ == "JobCompleted"]
    assert completed.job_id == later.job_id and completed.protocol_fee == FEE * 2_000 // BPS
    assert tuple(registry.job_terms(later.job_id)) == (2_000, 1_000, 5_000)


def test_attack_squatting_every_slot_costs_at_least_the_liveness_floor(
    protocol, registry, governance, requester, honest
):
    """T32. Claiming slots and never committing kills a job; it costs each squatter at least the liveness
    floor of its collateral, whatever governance sets, and the requester gets its fee back."""
    with boa.env.prank(governance), boa.reverts("registry: liveness_slash_bps out of bounds"):
        registry.set_liveness_slash_bps(0)
    with boa.env.prank(governance):
        registry.set_liveness_slash_bps(registry.MIN_LIVENESS_SLASH_BPS())
    before = {w: wealth(protocol, w) for w in honest}
    run = run_job(protocol, requester, 3, lambda r: honest, lambda w, r: SILENT)
    assert run.phase == Phase.FAILED and run.escalations == 0
    floor = COLLATERAL * registry.MIN_LIVENESS_SLASH_BPS() // BPS
    assert floor > 0
    assert [before[w] - wealth(protocol, w) for w in run.rounds[0]] == [floor] * 3


def test_attack_an_agreeing_worker_cannot_name_a_cid_it_did_not_commit(protocol, registry, requester, honest):
    """T36. The commitment binds the result CID: a worker that agrees on the digest cannot reveal a CID of
    bytes that do not exist (or another worker's upload) in place of the one it committed to."""
    job_id = post_job(protocol, requester, fee=FEE, collateral=COLLATERAL)
    (worker,) = fill_round(protocol, job_id, honest)
    commit(protocol, job_id, worker, TRUE, cid=RESULT_CID)
    with boa.env.prank(worker), boa.reverts("registry: reveal does not match commitment"):
        registry.reveal(job_id, TRUE, "bafkreinothingthere", salt_of(worker))
    reveal(protocol, job_id, worker, TRUE, cid=RESULT_CID)
    assert registry.worker_entry(job_id, worker).revealed


# ---------------------------------------------------------------- no profitable deviation (property)
PLAYS = [HONEST, WRONG, WITHHOLD, SILENT]


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    replicas=st.integers(1, 5),
    identities=st.integers(1, 4),
    randao=st.integers(0, 2**64),
    data=st.data(),
)
def test_no_attacker_strategy_beats_playing_honestly(
    protocol, requester, honest, replicas, identities, randao, data
):
    """A Sybil cluster of 1-4 identities (1,000 TSR each, among the ten honest operators) competes for a
    job's slots through the contract's own selection (default factor, time warped to each `selected_at`,
    ties to the cluster), in round 0 and in every escalation round it is selected for. Each identity plays
    each round honest, wrong (one garbage digest the cluster shares), withholding or silent; the honest
    operators always play honestly. When the final round has an honest majority (the stake assumption):
    the cluster's TSR at the end never exceeds what playing every slot honestly earns, and no honest
    worker loses stake. In every case the requester ends at most where it started (fee refunded at
    most)."""
    cluster = [boa.env.generate_address(f"cluster{i}") for i in range(identities)]
    for worker in cluster:
        stake_operator(protocol, worker)
    strategy = {
        (w, r): data.draw(st.sampled_from(PLAYS), label=f"identity {i}, round {r}")
        for i, w in enumerate(cluster)
        for r in range(3)
    }
    outcomes = {}
    for name, play in (
        ("honest", lambda w, r: HONEST),
        ("deviation", lambda w, r: strategy.get((w, r), HONEST)),
    ):
        with boa.env.anchor():
            boa.env.evm.patch.prevrandao = randao.to_bytes(32, "big")
            start = {w: wealth(protocol, w) for w in [*cluster, *honest]}
            fund(protocol, requester, FEE)
            spent = protocol.token.balanceOf(requester)
            run = run_job(
                protocol, requester, replicas, lambda r: [*cluster, *honest], play, fund_requester=False
            )
            outcomes[name] = sum(wealth(protocol, w) - start[w] for w in cluster)
            assert protocol.token.balanceOf(requester) <= spent
            final = run.rounds[-1]
            honest_majority = sum(w in honest for w in final) >= run.quorums[-1]
            if name == "deviation":
                note(f"rounds {run.rounds}, phase {run.phase}, outcome {outcomes}")
                event(f"escalations: {run.escalations}; final round honest majority: {honest_majority}")
                if honest_majority:
                    for w in honest:
                        assert wealth(protocol, w) >= start[w], f"honest {w} lost stake"
    boa.env.evm.patch.prevrandao = bytes(32)
    if honest_majority:
        assert outcomes["deviation"] <= outcomes["honest"], (strategy, outcomes)
