"""RewardEmitter.epoch_points: the points half of the packed epoch totals."""

from tests.contracts.emitter.conftest import HALF_WORD, record


def test_unknown_epoch_is_zero(emitter):
    assert emitter.epoch_points(99) == 0


def test_points_and_burned_do_not_bleed_into_each_other(emitter, job_registry, operator):
    record(emitter, job_registry, [operator], [HALF_WORD - 1], 1)
    assert emitter.epoch_points(0) == HALF_WORD - 1
    assert emitter.epoch_burned(0) == 1
    record(emitter, job_registry, [], [], HALF_WORD - 2)
    assert emitter.epoch_points(0) == HALF_WORD - 1
    assert emitter.epoch_burned(0) == HALF_WORD - 1
