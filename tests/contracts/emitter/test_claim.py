"""RewardEmitter.claim: an operator mints its share of ended epochs, once; empty epochs are skipped."""

import boa
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.emitter.conftest import (
    INITIAL,
    MAX_CLAIM_EPOCHS,
    capped,
    end_epoch,
    events,
    record,
    warp_to,
)

TSR = 10**18


def test_claim_mints_the_operators_share(emitter, token, job_registry, operators):
    record(emitter, job_registry, operators[:2], [3, 1], 400 * TSR)
    end_epoch(emitter, 0)
    supply = token.totalSupply()
    with boa.env.prank(operators[0]):
        minted = emitter.claim([0])
    (claimed,) = events(emitter, "EmissionClaimed")
    assert (claimed.operator, claimed.epoch, claimed.amount) == (operators[0], 0, 300 * TSR)
    assert minted == 300 * TSR
    assert token.balanceOf(operators[0]) == 300 * TSR
    assert token.totalSupply() == supply + 300 * TSR
    assert emitter.total_minted() == 300 * TSR
    assert emitter.points_of(operators[0], 0) == 0
    assert emitter.points_of(operators[1], 0) == 1  # others' shares untouched


def test_claim_of_the_current_epoch_reverts(emitter, job_registry, operator):
    record(emitter, job_registry, [operator], [1], TSR)
    with boa.env.prank(operator), boa.reverts("emitter: epoch not ended"):
        emitter.claim([0])


def test_claim_one_second_before_the_epoch_ends_reverts(emitter, job_registry, operator):
    record(emitter, job_registry, [operator], [1], TSR)
    warp_to(emitter.epoch_start(1) - 1)
    with boa.env.prank(operator), boa.reverts("emitter: epoch not ended"):
        emitter.claim([0])


def test_claim_exactly_when_the_epoch_ends_succeeds(emitter, job_registry, operator):
    record(emitter, job_registry, [operator], [1], TSR)
    warp_to(emitter.epoch_start(1))
    with boa.env.prank(operator):
        assert emitter.claim([0]) == TSR


def test_claim_one_second_after_the_epoch_ends_succeeds(emitter, job_registry, operator):
    record(emitter, job_registry, [operator], [1], TSR)
    warp_to(emitter.epoch_start(1) + 1)
    with boa.env.prank(operator):
        assert emitter.claim([0]) == TSR


def test_claim_of_a_future_epoch_reverts(emitter, operator):
    end_epoch(emitter, 0)
    with boa.env.prank(operator), boa.reverts("emitter: epoch not ended"):
        emitter.claim([5])


def test_any_unended_epoch_in_the_batch_reverts_the_whole_claim(emitter, job_registry, operator):
    record(emitter, job_registry, [operator], [1], TSR)
    end_epoch(emitter, 0)
    with boa.env.prank(operator), boa.reverts("emitter: epoch not ended"):
        emitter.claim([0, 1])
    assert emitter.points_of(operator, 0) == 1


def test_claim_of_an_empty_epoch_is_a_no_op(emitter, token, operator):
    end_epoch(emitter, 3)
    supply = token.totalSupply()
    with boa.env.prank(operator):
        assert emitter.claim([0, 1, 2]) == 0
    assert events(emitter, "EmissionClaimed") == []
    assert events(emitter, "Transfer", source=token) == []
    assert token.totalSupply() == supply
    assert emitter.total_minted() == 0


def test_empty_list_claims_nothing(emitter, operator):
    with boa.env.prank(operator):
        assert emitter.claim([]) == 0


def test_second_claim_of_the_same_epoch_mints_nothing(emitter, token, job_registry, operator):
    record(emitter, job_registry, [operator], [1], TSR)
    end_epoch(emitter, 0)
    with boa.env.prank(operator):
        emitter.claim([0])
        assert emitter.claim([0]) == 0
    assert token.balanceOf(operator) == TSR


def test_duplicate_epoch_in_one_batch_is_paid_once(emitter, token, job_registry, operator):
    record(emitter, job_registry, [operator], [1], TSR)
    end_epoch(emitter, 0)
    with boa.env.prank(operator):
        assert emitter.claim([0, 0, 0]) == TSR
    assert len(events(emitter, "EmissionClaimed")) == 1
    assert token.balanceOf(operator) == TSR


def test_batch_claims_several_epochs_in_one_mint(emitter, token, job_registry, operator):
    for epoch in range(3):
        warp_to(emitter.epoch_start(epoch))
        record(emitter, job_registry, [operator], [1], (epoch + 1) * TSR)
    end_epoch(emitter, 2)
    with boa.env.prank(operator):
        assert emitter.claim([2, 0, 1]) == 6 * TSR
    assert [e.epoch for e in events(emitter, "EmissionClaimed")] == [2, 0, 1]
    assert len(events(emitter, "Transfer", source=token)) == 1
    assert emitter.total_minted() == 6 * TSR


def test_max_claim_epochs_in_one_call(emitter, job_registry, operator):
    for epoch in range(MAX_CLAIM_EPOCHS):
        warp_to(emitter.epoch_start(epoch))
        record(emitter, job_registry, [operator], [1], TSR)
    end_epoch(emitter, MAX_CLAIM_EPOCHS - 1)
    with boa.env.prank(operator):
        assert emitter.claim(list(range(MAX_CLAIM_EPOCHS))) == MAX_CLAIM_EPOCHS * TSR


def test_emission_is_capped_by_the_fees_burned(emitter, token, job_registry, operator):
    record(emitter, job_registry, [operator], [1], 7)
    end_epoch(emitter, 0)
    with boa.env.prank(operator):
        assert emitter.claim([0]) == 7  # burned 7 wei, schedule 100k TSR: mint 7 wei


def test_emission_is_capped_by_the_schedule(emitter, job_registry, operator):
    record(emitter, job_registry, [operator], [1], 2 * INITIAL)
    end_epoch(emitter, 0)
    with boa.env.prank(operator):
        assert emitter.claim([0]) == INITIAL


def test_work_without_burned_fees_earns_nothing(emitter, token, job_registry, operator):
    record(emitter, job_registry, [operator], [10**20], 0)
    end_epoch(emitter, 0)
    with boa.env.prank(operator):
        assert emitter.claim([0]) == 0
    assert token.balanceOf(operator) == 0


def test_claim_is_per_caller(emitter, job_registry, operator, stranger):
    record(emitter, job_registry, [operator], [1], TSR)
    end_epoch(emitter, 0)
    with boa.env.prank(stranger):
        assert emitter.claim([0]) == 0
    assert emitter.claimable(operator, 0) == TSR


@capped
@given(
    points=st.lists(st.integers(1, 10**24), min_size=1, max_size=8),
    burned=st.one_of(st.integers(0, 2 * INITIAL), st.integers(0, 10**6)),
)
def test_shares_are_floor_exact_and_dust_is_below_one_wei_per_claimer(
    emitter, token, job_registry, operators, points, burned
):
    workers = operators[: len(points)]
    record(emitter, job_registry, workers, points, burned)
    end_epoch(emitter, 0)
    emission = min(INITIAL, burned)
    total_points = sum(points)
    minted = 0
    for worker, p in zip(workers, points, strict=True):
        with boa.env.prank(worker):
            amount = emitter.claim([0])
        assert amount == emission * p // total_points
        assert token.balanceOf(worker) == amount
        minted += amount
    assert minted <= emission
    assert emission - minted < len(workers)
    assert emitter.total_minted() == minted
