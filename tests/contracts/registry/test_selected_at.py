"""JobRegistry.selected_at: when an operator's claim passes selection for the job's current round. A ticket
keccak256(seed, job, round, operator) (64 bits) must fall below k * stake / total of 2^64 (k = replicas x
selection_factor), a threshold that widens linearly to 16x by the claim deadline; the seed comes from
block.prevrandao when the round opens. Selection is proportional to bonded stake, so splitting a stake over
identities gains no expected slots. These tests run at the contract's DEFAULT_SELECTION_FACTOR (2)."""

import math

import boa
import pytest
from eth_utils import keccak

from tests.contracts.conftest import post_job
from tests.contracts.registry.conftest import (
    DEFAULT_SELECTION_FACTOR,
    STAKE,
    TSR,
    WINDOW,
    claim,
    deploy_protocol,
    stake_operator,
    warp_to,
)
from tests.contracts.registry.selection import MAX_UINT256, prevrandao, seed_of, selected_at, set_prevrandao

NOT_SELECTED = "registry: not selected for this job yet (see selected_at)"
RANDAO = keccak(b"tessera selection tests")  # a fixed seed source: the statistics below are reproducible
JOBS = 400  # jobs in the statistical tests

# identities beside the eight staked operators (1,000 TSR each): stake in TSR
EXTRA = {
    "small": 200,
    "big": 3_000,
    "whole": 2_000,
    "split0": 500,
    "split1": 500,
    "split2": 500,
    "split3": 500,
}
TOTAL = 8 * STAKE + sum(EXTRA.values()) * TSR


@pytest.fixture(scope="module")
def protocol(token_deployer, staking_deployer, emitter_deployer, registry_deployer, governance):
    return deploy_protocol(
        token_deployer,
        staking_deployer,
        emitter_deployer,
        registry_deployer,
        governance,
        selection_factor=None,
    )


@pytest.fixture(scope="module")
def network(protocol, staked_operators):
    """The eight staked operators plus EXTRA: name -> address (operators by index as "op0".."op7")."""
    accounts = {f"op{i}": op for i, op in enumerate(staked_operators)}
    for name, stake in EXTRA.items():
        accounts[name] = boa.env.generate_address(name)
        stake_operator(protocol, accounts[name], stake * TSR)
    assert protocol.staking.total_bonded() == TOTAL
    return accounts


def model(protocol, job_id, operator) -> int:
    registry, job = protocol.registry, protocol.registry.get_job(job_id)
    stake, total = protocol.staking.stake_share(operator)
    return selected_at(
        seed=seed_of(prevrandao(), job_id, job.round),
        job_id=job_id,
        round_=job.round,
        operator=operator,
        stake=stake,
        total=total,
        replicas=job.replicas,
        factor=registry.selection_factor(),
        opened=job.claim_deadline - WINDOW,
        window=WINDOW,
    )


def test_selected_at_is_the_ticket_threshold_of_the_posting_blocks_prevrandao(
    protocol, registry, requester, network
):
    set_prevrandao(RANDAO)
    for replicas in (1, 3, 5):
        job_id = post_job(protocol, requester, replicas=replicas, quorum=replicas // 2 + 1)
        for operator in network.values():
            assert registry.selected_at(job_id, operator) == model(protocol, job_id, operator)


def test_the_seed_is_the_posting_blocks_prevrandao(protocol, registry, requester, network):
    set_prevrandao(keccak(b"another block"))
    job_id = post_job(protocol, requester)
    got = [registry.selected_at(job_id, op) for op in network.values()]
    assert got == [model(protocol, job_id, op) for op in network.values()]
    set_prevrandao(RANDAO)  # the same job under another prevrandao would select otherwise
    assert got != [model(protocol, job_id, op) for op in network.values()]


def count_selected_at_opening(protocol, requester, names, network) -> dict[str, int]:
    set_prevrandao(RANDAO)
    registry = protocol.registry
    counts = dict.fromkeys(names, 0)
    for _ in range(JOBS):
        job_id = post_job(protocol, requester)  # 1 replica: k = 1 x 2
        opened = registry.get_job(job_id).claim_deadline - WINDOW
        for name in names:
            counts[name] += registry.selected_at(job_id, network[name]) == opened
    return counts


def within(count: int, p: float, sds: float = 4.5) -> bool:
    """`count` of JOBS Bernoulli(p) trials is within `sds` standard deviations of its mean."""
    return abs(count - JOBS * p) <= sds * math.sqrt(JOBS * p * (1 - p))


def test_selected_at_opening_with_probability_k_stake_over_total(protocol, requester, network):
    """k = 2 (1 replica x factor 2): the opening's selection rate is 2 x stake / total for a 200, 1,000 and
    3,000 TSR stake of 15,200. The tolerance (4.5 standard deviations) is far narrower than the gaps: a
    selection blind to stake (2 / 15 per identity) lands at 53 for each, outside every band."""
    k = 1 * DEFAULT_SELECTION_FACTOR
    counts = count_selected_at_opening(protocol, requester, ["small", "op0", "big"], network)
    p = {name: k * EXTRA.get(name, 1_000) * TSR / TOTAL for name in counts}
    assert all(within(counts[name], p[name]) for name in counts), (
        counts,
        {n: JOBS * v for n, v in p.items()},
    )
    assert counts["small"] < counts["op0"] < counts["big"]
    uniform = JOBS * k / len(network)
    assert not within(round(uniform), p["small"]) and not within(round(uniform), p["big"])


def test_splitting_a_stake_over_identities_gains_no_expected_selections(protocol, requester, network):
    """2,000 TSR as one identity vs 4 x 500 TSR: the split identities are selected together as often as the
    whole one (each 1/4 as often), both near JOBS x 2 x 2,000 / 15,200 = 105."""
    names = ["whole", "split0", "split1", "split2", "split3"]
    counts = count_selected_at_opening(protocol, requester, names, network)
    p_whole, p_split = 2 * 2_000 * TSR / TOTAL, 2 * 500 * TSR / TOTAL
    split_total = sum(counts[n] for n in names[1:])
    assert within(counts["whole"], p_whole), counts
    sd_split = math.sqrt(4 * JOBS * p_split * (1 - p_split))
    assert abs(split_total - 4 * JOBS * p_split) <= 4.5 * sd_split, counts
    assert 4 * p_split == pytest.approx(p_whole)
    # a per-identity selection (as if each identity were an equal share) would give the split 4x the whole
    assert split_total < 2 * counts["whole"]


def test_selection_widens_within_the_claim_window(protocol, registry, requester, network):
    """An operator not selected at the opening becomes selected later in the window: its claim reverts one
    second before selected_at and succeeds at it; is_selected follows."""
    set_prevrandao(RANDAO)
    for _ in range(50):
        job_id = post_job(protocol, requester)
        deadline = registry.get_job(job_id).claim_deadline
        opened = deadline - WINDOW
        late = [op for op in network.values() if opened + 1 < registry.selected_at(job_id, op) < deadline]
        if late:
            break
    else:
        pytest.fail("no late selection among 50 jobs")
    operator = late[0]
    at = registry.selected_at(job_id, operator)
    assert not registry.is_selected(job_id, operator)
    warp_to(at - 1)
    assert not registry.is_selected(job_id, operator)
    with boa.env.prank(operator), boa.reverts(NOT_SELECTED):
        registry.claim(job_id)
    warp_to(at)
    assert registry.is_selected(job_id, operator)
    claim(protocol, job_id, operator)
    assert registry.claimants(job_id) == [operator]


def test_selected_at_or_after_the_deadline_means_not_this_round(protocol, registry, requester, network):
    """A small stake may stay unselected all window (threshold at most 16 x 2 x 200 / 15,200 = 42 %)."""
    set_prevrandao(RANDAO)
    small = network["small"]
    for _ in range(50):
        job_id = post_job(protocol, requester)
        if registry.selected_at(job_id, small) >= registry.get_job(job_id).claim_deadline:
            break
    else:
        pytest.fail("the small stake was selected in each of 50 jobs")
    warp_to(registry.get_job(job_id).claim_deadline - 1)
    assert not registry.is_selected(job_id, small)
    with boa.env.prank(small), boa.reverts(NOT_SELECTED):
        registry.claim(job_id)


def test_every_operator_is_selected_by_the_deadline_when_k_stake_reaches_a_sixteenth(
    protocol, registry, requester, network
):
    """16 x k x stake >= total: selected within the window whatever the ticket (5 replicas: 16 x 10 x 1,000
    >= 15,200)."""
    set_prevrandao(RANDAO)
    job_id = post_job(protocol, requester, replicas=5, quorum=3)
    deadline = registry.get_job(job_id).claim_deadline
    for i in range(8):
        assert registry.selected_at(job_id, network[f"op{i}"]) < deadline


def test_an_operator_without_stake_or_an_unknown_job_gets_max_value(
    protocol, registry, requester, network, stranger
):
    job_id = post_job(protocol, requester)
    assert registry.selected_at(job_id, stranger) == MAX_UINT256
    for unknown in (0, job_id + 1, 2**256 - 1):
        assert registry.selected_at(unknown, network["op0"]) == MAX_UINT256


def test_unbonding_the_whole_stake_ends_selection(protocol, registry, requester, staking, network):
    operator = network["big"]
    job_id = post_job(protocol, requester, replicas=5, quorum=3)
    assert registry.selected_at(job_id, operator) < registry.get_job(job_id).claim_deadline
    with boa.env.prank(operator):
        staking.request_unstake(staking.bonded(operator))
    assert registry.selected_at(job_id, operator) == MAX_UINT256
    with boa.env.prank(operator), boa.reverts(NOT_SELECTED):
        registry.claim(job_id)
