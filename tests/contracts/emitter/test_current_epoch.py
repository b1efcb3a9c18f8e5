"""RewardEmitter.current_epoch: epoch e spans [GENESIS + e*L, GENESIS + (e+1)*L)."""

import boa
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.emitter.conftest import EPOCH, capped, warp_to


def test_epoch_changes_exactly_at_its_start(emitter):
    warp_to(emitter.epoch_start(1) - 1)
    assert emitter.current_epoch() == 0
    boa.env.time_travel(seconds=1)
    assert emitter.current_epoch() == 1
    boa.env.time_travel(seconds=1)
    assert emitter.current_epoch() == 1


@capped
@given(elapsed=st.integers(0, 10**10))
def test_current_epoch_is_elapsed_over_length(emitter, elapsed):
    warp_to(emitter.GENESIS() + elapsed)
    assert emitter.current_epoch() == elapsed // EPOCH
