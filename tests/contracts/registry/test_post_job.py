"""JobRegistry.post_job: bounded terms, the fee escrowed exactly, deadlines fixed at posting."""

import boa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.conftest import DEFAULTS, SPEC_CID, SPEC_DIGEST, deploy_protocol
from tests.contracts.registry.conftest import (
    MAX_AMOUNT,
    MAX_POSTED_REPLICAS,
    MAX_WINDOW,
    MIN_WINDOW,
    OPEN,
    TSR,
    capped,
    events,
)

MIN_FEE, MIN_COLLATERAL = DEFAULTS["min_fee"], DEFAULTS["min_collateral"]
TERMS = {
    "spec_cid": SPEC_CID,
    "spec_digest": SPEC_DIGEST,
    "fee": 10 * TSR,
    "replicas": 3,
    "quorum": 2,
    "collateral": 10 * TSR,
    "claim_window": 100,
    "commit_window": 200,
    "reveal_window": 300,
}
WINDOWS = ["claim_window", "commit_window", "reveal_window"]


@pytest.fixture
def funded_requester(protocol, requester):
    """`requester` holds 1,000 TSR and has approved the registry for everything."""
    with boa.env.prank(protocol.governance):
        protocol.token.transfer(requester, 1_000 * TSR)
    with boa.env.prank(requester):
        protocol.token.approve(protocol.registry.address, 2**256 - 1)
    return requester


def post(registry, requester, **overrides):
    terms = {**TERMS, **overrides}
    with boa.env.prank(requester):
        return registry.post_job(*terms.values())


def test_post_escrows_the_fee_and_logs_the_terms(registry, token, funded_requester):
    now = boa.env.timestamp
    job_id = post(registry, funded_requester)
    (posted,) = events(registry, "JobPosted")
    assert job_id == 1
    assert posted._asdict() == {
        "address": registry.address,
        "job_id": 1,
        "requester": funded_requester,
        "spec_cid": SPEC_CID,
        "spec_digest": SPEC_DIGEST,
        "fee": 10 * TSR,
        "replicas": 3,
        "quorum": 2,
        "collateral": 10 * TSR,
        "claim_deadline": now + 100,
        "commit_deadline": now + 300,
        "reveal_deadline": now + 600,
    }
    assert token.balanceOf(registry.address) == 10 * TSR
    assert token.balanceOf(funded_requester) == 990 * TSR
    assert registry.job_count() == 1
    job = registry.get_job(1)
    assert (job.requester, job.phase, job.fee, job.collateral) == (funded_requester, OPEN, 10 * TSR, 10 * TSR)
    assert (job.replicas, job.quorum, job.claims, job.commits, job.reveals) == (3, 2, 0, 0, 0)
    assert (job.claim_deadline, job.commit_deadline, job.reveal_deadline) == (now + 100, now + 300, now + 600)


def test_job_ids_count_up_from_one(registry, funded_requester):
    assert [post(registry, funded_requester) for _ in range(3)] == [1, 2, 3]
    assert registry.job_count() == 3


def test_largest_terms_round_trip_through_packed_storage(odd_registry, requester):
    odd, registry = odd_registry  # a well-behaved token here (no modes set) that can mint 2**80 - 1
    odd.mint(requester, MAX_AMOUNT)
    now = boa.env.timestamp
    post(
        registry,
        requester,
        fee=MAX_AMOUNT,
        collateral=MAX_AMOUNT,
        replicas=MAX_POSTED_REPLICAS,
        quorum=MAX_POSTED_REPLICAS,
        claim_window=MAX_WINDOW,
        commit_window=MAX_WINDOW,
        reveal_window=MAX_WINDOW,
    )
    job = registry.get_job(1)
    assert (job.fee, job.collateral, job.replicas, job.quorum) == (MAX_AMOUNT, MAX_AMOUNT, 5, 5)
    assert (job.requester, job.phase) == (requester, OPEN)
    assert (job.claim_deadline, job.commit_deadline, job.reveal_deadline) == (
        now + MAX_WINDOW,
        now + 2 * MAX_WINDOW,
        now + 3 * MAX_WINDOW,
    )


def test_posting_while_paused_reverts(registry, governance, funded_requester):
    with boa.env.prank(governance):
        registry.pause()
    with boa.reverts("pausable: contract is paused"):
        post(registry, funded_requester)


def test_empty_spec_cid_reverts(registry, funded_requester):
    with boa.reverts("registry: empty spec cid"):
        post(registry, funded_requester, spec_cid="")


def test_empty_spec_digest_reverts(registry, funded_requester):
    with boa.reverts("registry: empty spec digest"):
        post(registry, funded_requester, spec_digest=b"\x00" * 32)


@pytest.mark.parametrize(
    "fee,ok",
    [(MIN_FEE - 1, False), (MIN_FEE, True), (MIN_FEE + 1, True), (MAX_AMOUNT + 1, False), (0, False)],
)
def test_fee_boundaries(registry, governance, token, funded_requester, fee, ok):
    if ok:
        post(registry, funded_requester, fee=fee)
    else:
        with boa.reverts("registry: fee out of bounds"):
            post(registry, funded_requester, fee=fee)


@capped
@given(fee=st.integers(0, 2 * MIN_FEE))
def test_fee_is_accepted_iff_at_least_min_fee(registry, funded_requester, fee):
    """T16: a spam floor. Every escrow that exists holds at least min_fee."""
    if fee >= MIN_FEE:
        job_id = post(registry, funded_requester, fee=fee)
        assert registry.get_job(job_id).fee == fee >= MIN_FEE
    else:
        with boa.reverts("registry: fee out of bounds"):
            post(registry, funded_requester, fee=fee)


@pytest.mark.parametrize(
    "collateral,ok",
    [(MIN_COLLATERAL - 1, False), (MIN_COLLATERAL, True), (MAX_AMOUNT + 1, False)],
)
def test_collateral_boundaries(registry, funded_requester, collateral, ok):
    if ok:
        post(registry, funded_requester, collateral=collateral)
    else:
        with boa.reverts("registry: collateral out of bounds"):
            post(registry, funded_requester, collateral=collateral)


def test_attack_collateral_bait_far_above_the_fee_is_refused(registry, funded_requester):
    """T34: a job may not ask workers to risk more than MAX_COLLATERAL_PER_FEE times what it pays, so a
    requester cannot bait large stakes into a job it means to make fail or to have a Sybil majority win."""
    fee = TERMS["fee"]
    cap = fee * registry.MAX_COLLATERAL_PER_FEE()
    post(registry, funded_requester, collateral=cap)
    with boa.reverts("registry: collateral above 100 x the fee"):
        post(registry, funded_requester, collateral=cap + 1)


@pytest.mark.parametrize("replicas", [0, MAX_POSTED_REPLICAS + 1, 8, 9])
def test_replicas_out_of_bounds_reverts(registry, funded_requester, replicas):
    """A job may ask for 1..MAX_POSTED_REPLICAS (5): the rest of MAX_REPLICAS (8) is for escalation."""
    with boa.reverts("registry: replicas out of bounds"):
        post(registry, funded_requester, replicas=replicas, quorum=replicas // 2 + 1)


def test_max_posted_replicas_is_accepted(registry, funded_requester):
    job_id = post(registry, funded_requester, replicas=MAX_POSTED_REPLICAS, quorum=3)
    job = registry.get_job(job_id)
    assert (job.replicas, job.quorum, job.round, job.first_slot) == (MAX_POSTED_REPLICAS, 3, 0, 0)


@capped
@given(replicas=st.integers(1, MAX_POSTED_REPLICAS), quorum=st.integers(0, MAX_POSTED_REPLICAS + 2))
def test_quorum_is_accepted_iff_a_majority_of_replicas(registry, funded_requester, replicas, quorum):
    if replicas < 2 * quorum and quorum <= replicas:
        post(registry, funded_requester, replicas=replicas, quorum=quorum)
    else:
        with boa.reverts("registry: quorum must be a majority of replicas"):
            post(registry, funded_requester, replicas=replicas, quorum=quorum)


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize(
    "seconds,ok",
    [(MIN_WINDOW - 1, False), (MIN_WINDOW, True), (MAX_WINDOW, True), (MAX_WINDOW + 1, False), (0, False)],
)
def test_window_boundaries(registry, funded_requester, window, seconds, ok):
    if ok:
        post(registry, funded_requester, **{window: seconds})
    else:
        with boa.reverts("registry: window out of bounds"):
            post(registry, funded_requester, **{window: seconds})


@capped
@given(window=st.sampled_from(WINDOWS), seconds=st.integers(0, 2 * MAX_WINDOW))
def test_window_is_accepted_iff_within_bounds(registry, funded_requester, window, seconds):
    if MIN_WINDOW <= seconds <= MAX_WINDOW:
        post(registry, funded_requester, **{window: seconds})
    else:
        with boa.reverts("registry: window out of bounds"):
            post(registry, funded_requester, **{window: seconds})


def test_post_without_allowance_reverts(registry, token, funded_requester):
    with boa.env.prank(funded_requester):
        token.approve(registry.address, 0)
    with boa.reverts("erc20: insufficient allowance"):
        post(registry, funded_requester)


@pytest.fixture
def odd_registry(
    protocol,
    token_deployer,
    staking_deployer,
    emitter_deployer,
    registry_deployer,
    odd_token_deployer,
    governance,
    requester,
):
    """A protocol whose fee token is the misbehaving test token; `requester` holds and approved 1,000."""
    odd = odd_token_deployer.deploy()
    p = deploy_protocol(
        token_deployer, staking_deployer, emitter_deployer, registry_deployer, governance, fee_token=odd
    )
    odd.mint(requester, 1_000 * TSR)
    with boa.env.prank(requester):
        odd.approve(p.registry.address, 2**256 - 1)
    return odd, p.registry


def test_fee_on_transfer_token_reverts(odd_registry, requester):
    odd, registry = odd_registry
    odd.set_modes(100, False, False)
    with boa.reverts("registry: fee token took a transfer fee"):
        post(registry, requester)


def test_transfer_from_returning_false_reverts(odd_registry, requester):
    odd, registry = odd_registry
    odd.set_modes(0, False, True)
    with boa.reverts("registry: transferFrom failed"):
        post(registry, requester)
