"""JobRegistry unit fixtures: the four contracts wired as deployed, eight operators bonded. Module-scoped; the
boa plugin anchors every test (and every hypothesis example), so nothing leaks between them."""

from __future__ import annotations

import boa
import pytest
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from offchain.chain.protocol import (  # noqa: F401 - re-exported to the tests here
    BPS,
    ESCALATION_STEP,
    MAX_POSTED_REPLICAS,
    MAX_REPLICAS,
    MAX_ROUND,
    MIN_ESCALATION_REPLICAS,
    SELECTION_WIDENING,
    Phase,
)
from tests.contracts.conftest import (  # noqa: F401 - re-exported to the tests here
    DEFAULT_SELECTION_FACTOR,
    MAX_SELECTION_FACTOR,
    TSR,
    deploy_protocol,
    events,
    post_job,
    stake_operator,
    warp_to,
)
from tests.contracts.staking.conftest import ODD_TOKEN

# Stateless property tests stay at or below 200 examples whatever the profile. Function-scoped fixtures are
# safe under @given here: the boa plugin anchors every example, so chain state rolls back between inputs.
capped = settings(
    max_examples=min(settings.default.max_examples, 200),
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
)

addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)

ZERO = "0x0000000000000000000000000000000000000000"
MAX_AMOUNT = 2**80 - 1  # fee and collateral are packed into 80 bits each
MIN_WINDOW, MAX_WINDOW = 30, 86_400
MAX_PROTOCOL_FEE_BPS = 2_000
MIN_WRONG_RESULT_SLASH_BPS = 1_000
MIN_LIVENESS_SLASH_BPS, MAX_LIVENESS_SLASH_BPS = 500, 5_000
MAX_COLLATERAL_PER_FEE = 100
MAX_MIN_FEE = 10**24
MAX_MIN_COLLATERAL = 10**24
STAKE = 1_000 * TSR
WINDOW = 600  # conftest.post_job's default claim, commit and reveal windows

# phases (get_job().phase)
UNKNOWN, OPEN, CLAIMED, COMMITTING, REVEALING, COMPLETED, FAILED, CANCELLED, EXPIRED = tuple(Phase)


def claim(protocol, job_id: int, *workers: str) -> None:
    for worker in workers:
        with boa.env.prank(worker):
            protocol.registry.claim(job_id)


def claimed_job(protocol, requester: str, workers: list[str], **post_kwargs) -> int:
    """Post a job (replicas = len(workers), a bare majority quorum, unless given); `workers` claim it."""
    post_kwargs.setdefault("replicas", len(workers))
    post_kwargs.setdefault("quorum", post_kwargs["replicas"] // 2 + 1)
    job_id = post_job(protocol, requester, **post_kwargs)
    claim(protocol, job_id, *workers)
    return job_id


@pytest.fixture(scope="session")
def odd_token_deployer():
    """A fee token that keeps a fee or returns false on demand (see staking/conftest.py)."""
    return boa.loads_partial(ODD_TOKEN, name="OddToken")


@pytest.fixture(scope="module")
def governance():
    return boa.env.generate_address("governance")


@pytest.fixture(scope="module")
def requester():
    return boa.env.generate_address("requester")


@pytest.fixture(scope="module")
def stranger():
    return boa.env.generate_address("stranger")


@pytest.fixture(scope="module")
def operators():
    return [boa.env.generate_address(f"operator{i}") for i in range(MAX_REPLICAS)]


@pytest.fixture(scope="module")
def operator(operators):
    return operators[0]


@pytest.fixture(scope="module")
def protocol(token_deployer, staking_deployer, emitter_deployer, registry_deployer, governance):
    return deploy_protocol(token_deployer, staking_deployer, emitter_deployer, registry_deployer, governance)


@pytest.fixture(scope="module")
def token(protocol):
    return protocol.token


@pytest.fixture(scope="module")
def staking(protocol):
    return protocol.staking


@pytest.fixture(scope="module")
def emitter(protocol):
    return protocol.emitter


@pytest.fixture(scope="module")
def registry(protocol):
    return protocol.registry


@pytest.fixture(scope="module")
def staked_operators(protocol, operators):
    """All eight operators registered with STAKE bonded."""
    for op in operators:
        stake_operator(protocol, op, STAKE)
    return operators
