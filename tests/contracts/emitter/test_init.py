"""RewardEmitter.__init__: epoch clock from now, bounded epoch length, a schedule that fits the supply."""

import boa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.conftest import DEFAULTS
from tests.contracts.emitter.conftest import (
    EPOCH,
    HALVING,
    INITIAL,
    MAX_EPOCH_LENGTH,
    MIN_EPOCH_LENGTH,
    ZERO,
    capped,
    deploy_emitter,
)

MAX_SUPPLY = 1_000_000_000 * 10**18
HEADROOM = MAX_SUPPLY - DEFAULTS["genesis_supply"]


def test_deploy_starts_epoch_zero_now(unwired_emitter, token, governance):
    assert unwired_emitter.GENESIS() == boa.env.timestamp
    assert unwired_emitter.current_epoch() == 0
    assert unwired_emitter.TOKEN() == token.address
    assert unwired_emitter.EPOCH_LENGTH() == EPOCH
    assert unwired_emitter.INITIAL_EMISSION() == INITIAL
    assert unwired_emitter.HALVING_EPOCHS() == HALVING
    assert unwired_emitter.job_registry() == ZERO
    assert unwired_emitter.total_minted() == 0
    assert unwired_emitter.MAX_CLAIM_EPOCHS() == 32
    assert unwired_emitter.MIN_EPOCH_LENGTH() == MIN_EPOCH_LENGTH
    assert unwired_emitter.MAX_EPOCH_LENGTH() == MAX_EPOCH_LENGTH


def test_zero_token_reverts(emitter_deployer, governance):
    with boa.env.prank(governance), boa.reverts("emitter: token is zero"):
        emitter_deployer.deploy(ZERO, EPOCH, INITIAL, HALVING)


@pytest.mark.parametrize(
    "epoch_length",
    [
        MIN_EPOCH_LENGTH - 1,
        MIN_EPOCH_LENGTH,
        MIN_EPOCH_LENGTH + 1,
        MAX_EPOCH_LENGTH - 1,
        MAX_EPOCH_LENGTH,
        MAX_EPOCH_LENGTH + 1,
    ],
)
def test_epoch_length_boundaries(emitter_deployer, token, governance, epoch_length):
    if MIN_EPOCH_LENGTH <= epoch_length <= MAX_EPOCH_LENGTH:
        emitter = deploy_emitter(emitter_deployer, token, governance, epoch_length=epoch_length)
        assert emitter.EPOCH_LENGTH() == epoch_length
    else:
        with boa.reverts("emitter: epoch_length out of bounds"):
            deploy_emitter(emitter_deployer, token, governance, epoch_length=epoch_length)


@capped
@given(epoch_length=st.integers(0, 2 * MAX_EPOCH_LENGTH))
def test_epoch_length_is_accepted_iff_within_bounds(emitter_deployer, token, governance, epoch_length):
    if MIN_EPOCH_LENGTH <= epoch_length <= MAX_EPOCH_LENGTH:
        deploy_emitter(emitter_deployer, token, governance, epoch_length=epoch_length)
    else:
        with boa.reverts("emitter: epoch_length out of bounds"):
            deploy_emitter(emitter_deployer, token, governance, epoch_length=epoch_length)


def test_zero_halving_epochs_reverts(emitter_deployer, token, governance):
    with boa.reverts("emitter: halving_epochs is zero"):
        deploy_emitter(emitter_deployer, token, governance, halving_epochs=0)


def test_schedule_filling_the_headroom_exactly_is_accepted(emitter_deployer, token, governance):
    assert HEADROOM % 2 == 0
    deploy_emitter(emitter_deployer, token, governance, initial_emission=HEADROOM // 2, halving_epochs=1)


def test_schedule_one_wei_over_the_headroom_reverts(emitter_deployer, token, governance):
    with boa.reverts("emitter: schedule exceeds max supply"):
        deploy_emitter(
            emitter_deployer, token, governance, initial_emission=HEADROOM // 2 + 1, halving_epochs=1
        )


def test_zero_initial_emission_is_accepted(emitter_deployer, token, governance):
    emitter = deploy_emitter(emitter_deployer, token, governance, initial_emission=0)
    assert emitter.schedule(0) == 0


@capped
@given(initial=st.integers(0, HEADROOM), halving_epochs=st.integers(1, 10_000))
def test_schedule_is_accepted_iff_its_bound_fits_the_headroom(
    emitter_deployer, token, governance, initial, halving_epochs
):
    if 2 * initial * halving_epochs <= HEADROOM:
        deploy_emitter(
            emitter_deployer, token, governance, initial_emission=initial, halving_epochs=halving_epochs
        )
    else:
        with boa.reverts("emitter: schedule exceeds max supply"):
            deploy_emitter(
                emitter_deployer, token, governance, initial_emission=initial, halving_epochs=halving_epochs
            )
