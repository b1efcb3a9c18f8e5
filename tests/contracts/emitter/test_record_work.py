"""RewardEmitter.record_work: job registry only; credits points and burned fees to the current epoch."""

import boa
from hypothesis import assume, given

from tests.contracts.emitter.conftest import HALF_WORD, addresses, capped, record, warp_to


def test_work_is_credited_to_the_current_epoch(emitter, job_registry, operators):
    record(emitter, job_registry, operators[:3], [5, 7, 11], 40)
    assert emitter.get_logs() == []  # no event: the registry's WorkerPaid/JobCompleted carry the data
    assert [emitter.points_of(op, 0) for op in operators[:3]] == [5, 7, 11]
    assert emitter.epoch_points(0) == 23
    assert emitter.epoch_burned(0) == 40


def test_records_accumulate_per_operator_and_epoch(emitter, job_registry, operators):
    record(emitter, job_registry, operators[:2], [5, 7], 40)
    record(emitter, job_registry, [operators[1], operators[1]], [1, 2], 3)
    assert emitter.points_of(operators[1], 0) == 7 + 1 + 2
    assert emitter.epoch_points(0) == 15
    assert emitter.epoch_burned(0) == 43


def test_burned_fees_without_workers_are_recorded(emitter, job_registry):
    record(emitter, job_registry, [], [], 9)
    assert emitter.epoch_burned(0) == 9
    assert emitter.epoch_points(0) == 0


def test_epoch_boundary_decides_where_work_lands(emitter, job_registry, operator):
    warp_to(emitter.epoch_start(1) - 1)
    record(emitter, job_registry, [operator], [1], 1)
    warp_to(emitter.epoch_start(1))
    record(emitter, job_registry, [operator], [10], 10)
    assert (emitter.points_of(operator, 0), emitter.points_of(operator, 1)) == (1, 10)
    assert (emitter.epoch_burned(0), emitter.epoch_burned(1)) == (1, 10)


def test_length_mismatch_reverts(emitter, job_registry, operators):
    with boa.env.prank(job_registry), boa.reverts("emitter: length mismatch"):
        emitter.record_work(operators[:2], [1], 0)


def test_epoch_points_up_to_half_word_minus_one(emitter, job_registry, operator):
    record(emitter, job_registry, [operator], [HALF_WORD - 1], HALF_WORD - 1)
    assert emitter.epoch_points(0) == HALF_WORD - 1
    assert emitter.epoch_burned(0) == HALF_WORD - 1


def test_epoch_points_overflow_reverts(emitter, job_registry, operator):
    record(emitter, job_registry, [operator], [HALF_WORD - 1], 0)
    with boa.env.prank(job_registry), boa.reverts("emitter: epoch totals overflow"):
        emitter.record_work([operator], [1], 0)


def test_epoch_burned_overflow_reverts(emitter, job_registry):
    record(emitter, job_registry, [], [], HALF_WORD - 1)
    with boa.env.prank(job_registry), boa.reverts("emitter: epoch totals overflow"):
        emitter.record_work([], [], 1)


@capped
@given(sender=addresses)
def test_only_the_job_registry_can_record_work(emitter, job_registry, sender):
    assume(sender != job_registry)
    with boa.env.prank(sender), boa.reverts("emitter: caller is not the job registry"):
        emitter.record_work([sender], [10**24], 10**24)
