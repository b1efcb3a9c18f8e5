"""RewardEmitter unit fixtures: the emitter is the token's minter and its job registry is a plain account
(`job_registry`), so work is recorded directly. Module-scoped; the boa plugin anchors every test."""

from __future__ import annotations

import boa
import pytest
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.contracts.conftest import DEFAULTS, events, warp_to  # noqa: F401 - re-exported to the tests here

# Stateless property tests stay at or below 200 examples whatever the profile. Function-scoped fixtures are
# safe under @given here: the boa plugin anchors every example, so chain state rolls back between inputs.
capped = settings(
    max_examples=min(settings.default.max_examples, 200),
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
)

addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)

ZERO = "0x0000000000000000000000000000000000000000"
EPOCH = DEFAULTS["epoch_length"]
INITIAL = DEFAULTS["initial_emission"]
HALVING = DEFAULTS["halving_epochs"]
MIN_EPOCH_LENGTH, MAX_EPOCH_LENGTH = 60, 86_400 * 30
MAX_CLAIM_EPOCHS = 32
HALF_WORD = 2**128


def end_epoch(emitter, epoch: int) -> None:
    """Move to the first second after `epoch` (the start of `epoch + 1`)."""
    warp_to(emitter.epoch_start(epoch + 1))


@pytest.fixture(scope="module")
def governance():
    """Deploys the token and the emitter (the emitter's one privileged role is its deployer)."""
    return boa.env.generate_address("governance")


@pytest.fixture(scope="module")
def job_registry():
    """Stands in for the JobRegistry: the only account that may record work."""
    return boa.env.generate_address("job_registry")


@pytest.fixture(scope="module")
def operators():
    return [boa.env.generate_address(f"operator{i}") for i in range(8)]


@pytest.fixture(scope="module")
def operator(operators):
    return operators[0]


@pytest.fixture(scope="module")
def stranger():
    return boa.env.generate_address("stranger")


@pytest.fixture(scope="module")
def token(token_deployer, governance):
    with boa.env.prank(governance):
        return token_deployer.deploy(governance, DEFAULTS["genesis_supply"])


def deploy_emitter(
    emitter_deployer,
    token,
    governance,
    *,
    epoch_length=EPOCH,
    initial_emission=INITIAL,
    halving_epochs=HALVING,
):
    with boa.env.prank(governance):
        return emitter_deployer.deploy(token.address, epoch_length, initial_emission, halving_epochs)


def wire(emitter, token, governance, job_registry) -> None:
    """Make `emitter` the token's minter and name `job_registry`, as the deploy script does."""
    with boa.env.prank(governance):
        token.set_emitter(emitter.address)
        emitter.set_job_registry(job_registry)


@pytest.fixture(scope="module")
def unwired_emitter(emitter_deployer, token, governance):
    """An emitter with no job registry named (and not the token's minter)."""
    return deploy_emitter(emitter_deployer, token, governance)


@pytest.fixture(scope="module")
def emitter(emitter_deployer, token, governance, job_registry):
    """Defaults from conftest.DEFAULTS; the token's minter; `job_registry` named."""
    emitter = deploy_emitter(emitter_deployer, token, governance)
    wire(emitter, token, governance, job_registry)
    return emitter


@pytest.fixture
def make_emitter(token_deployer, emitter_deployer, governance, job_registry):
    """Deploy a wired emitter with other parameters, on a token of its own."""

    def make(**params):
        with boa.env.prank(governance):
            token = token_deployer.deploy(governance, DEFAULTS["genesis_supply"])
        emitter = deploy_emitter(emitter_deployer, token, governance, **params)
        wire(emitter, token, governance, job_registry)
        return emitter, token

    return make


def record(emitter, job_registry, workers, points, burned) -> None:
    with boa.env.prank(job_registry):
        emitter.record_work(workers, points, burned)
