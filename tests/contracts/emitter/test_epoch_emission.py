"""RewardEmitter.epoch_emission: min(schedule(e), burned(e))."""

from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.emitter.conftest import HALVING, INITIAL, capped, record, warp_to


def test_empty_epoch_emits_nothing(emitter):
    assert emitter.epoch_emission(0) == 0


def test_burned_below_schedule_is_emitted(emitter, job_registry):
    record(emitter, job_registry, [], [], 123)
    assert emitter.epoch_emission(0) == 123


def test_schedule_caps_a_large_burn(emitter, job_registry):
    record(emitter, job_registry, [], [], INITIAL + 1)
    assert emitter.epoch_emission(0) == INITIAL


def test_halved_schedule_caps_after_the_first_halving(emitter, job_registry):
    warp_to(emitter.epoch_start(HALVING))
    record(emitter, job_registry, [], [], INITIAL)
    assert emitter.epoch_emission(HALVING) == INITIAL // 2


@capped
@given(burned=st.integers(0, 2**128 - 1), epoch=st.integers(0, 3 * HALVING))
def test_emission_is_min_of_schedule_and_burned(emitter, job_registry, burned, epoch):
    warp_to(emitter.epoch_start(epoch))
    record(emitter, job_registry, [], [], burned)
    assert emitter.epoch_emission(epoch) == min(INITIAL >> (epoch // HALVING), burned)
