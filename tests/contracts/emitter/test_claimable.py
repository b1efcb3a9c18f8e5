"""RewardEmitter.claimable: emission(e) * points(op, e) // points(e), zero once claimed."""

import boa

from tests.contracts.emitter.conftest import end_epoch, record

TSR = 10**18


def test_claimable_is_the_floor_share(emitter, job_registry, operators):
    record(emitter, job_registry, operators[:3], [1, 1, 1], 10)
    assert [emitter.claimable(op, 0) for op in operators[:3]] == [3, 3, 3]


def test_claimable_of_a_running_epoch_is_the_share_so_far(emitter, job_registry, operators):
    record(emitter, job_registry, [operators[0]], [1], TSR)
    assert emitter.claimable(operators[0], 0) == TSR
    record(emitter, job_registry, [operators[1]], [1], TSR)
    assert emitter.claimable(operators[0], 0) == TSR  # half of 2 TSR


def test_claimable_is_zero_without_points_and_after_claiming(emitter, job_registry, operator, stranger):
    record(emitter, job_registry, [operator], [1], TSR)
    end_epoch(emitter, 0)
    assert emitter.claimable(stranger, 0) == 0
    claimable = emitter.claimable(operator, 0)
    with boa.env.prank(operator):
        assert emitter.claim([0]) == claimable
    assert emitter.claimable(operator, 0) == 0
