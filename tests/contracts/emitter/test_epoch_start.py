"""RewardEmitter.epoch_start: GENESIS + epoch * EPOCH_LENGTH."""

from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.emitter.conftest import EPOCH, capped


def test_epoch_start_is_genesis_plus_whole_epochs(emitter):
    genesis = emitter.GENESIS()
    assert emitter.epoch_start(0) == genesis
    assert emitter.epoch_start(7) == genesis + 7 * EPOCH


@capped
@given(epoch=st.integers(0, 10**12))
def test_epoch_start_is_the_first_second_of_the_epoch(emitter, epoch):
    start = emitter.epoch_start(epoch)
    assert start == emitter.GENESIS() + epoch * EPOCH
    assert (start - emitter.GENESIS()) // EPOCH == epoch
