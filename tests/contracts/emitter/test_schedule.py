"""RewardEmitter.schedule: INITIAL_EMISSION halved every HALVING_EPOCHS epochs, reaching zero."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.emitter.conftest import HALVING, INITIAL, capped


def test_schedule_halves_at_each_boundary(emitter):
    assert emitter.schedule(0) == INITIAL
    assert emitter.schedule(HALVING - 1) == INITIAL
    assert emitter.schedule(HALVING) == INITIAL // 2
    assert emitter.schedule(2 * HALVING - 1) == INITIAL // 2
    assert emitter.schedule(2 * HALVING) == INITIAL // 4


def test_schedule_reaches_zero(emitter):
    assert emitter.schedule(127 * HALVING) == INITIAL >> 127 == 0
    assert emitter.schedule(128 * HALVING) == 0
    assert emitter.schedule(2**256 - 1) == 0


@pytest.fixture
def small(make_emitter):
    emitter, _ = make_emitter(epoch_length=60, initial_emission=2**80, halving_epochs=3)
    return emitter


def test_schedule_with_short_halving(small):
    assert [small.schedule(e) for e in range(7)] == [2**80] * 3 + [2**79] * 3 + [2**78]
    assert small.schedule(3 * 80) == 1
    assert small.schedule(3 * 81) == 0


@capped
@given(epoch=st.one_of(st.integers(0, 200 * HALVING), st.integers(0, 2**256 - 1)))
def test_schedule_matches_the_halving_formula(emitter, epoch):
    halvings = epoch // HALVING
    assert emitter.schedule(epoch) == (INITIAL >> halvings if halvings < 128 else 0)


def test_whole_schedule_stays_under_twice_initial_times_halving(small):
    total = sum(small.schedule(e) for e in range(0, 3 * 82, 3)) * 3
    assert total < 2 * 2**80 * 3
