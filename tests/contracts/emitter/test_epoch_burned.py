"""RewardEmitter.epoch_burned: the burned-fees half of the packed epoch totals."""

from tests.contracts.emitter.conftest import HALF_WORD, record, warp_to


def test_unknown_epoch_is_zero(emitter):
    assert emitter.epoch_burned(99) == 0


def test_burned_fees_accumulate_per_epoch(emitter, job_registry, operator):
    record(emitter, job_registry, [operator], [HALF_WORD - 1], 5)
    record(emitter, job_registry, [], [], 7)
    warp_to(emitter.epoch_start(1))
    record(emitter, job_registry, [], [], 1)
    assert (emitter.epoch_burned(0), emitter.epoch_burned(1)) == (12, 1)
    assert emitter.epoch_points(0) == HALF_WORD - 1
