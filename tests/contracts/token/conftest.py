"""TesseraToken unit fixtures: one module-scoped token whose emitter is a plain account, so `mint` can be
called directly. The boa pytest plugin anchors every test, so module-scoped state never leaks."""

from __future__ import annotations

import boa
import pytest
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.contracts.conftest import (
    DEFAULTS,
    events,  # noqa: F401 - re-exported to the tests here
)

GENESIS = DEFAULTS["genesis_supply"]

# Stateless property tests stay at or below 200 examples whatever the profile. Function-scoped fixtures are
# safe under @given here: the boa plugin anchors every example, so chain state rolls back between inputs.
capped = settings(
    max_examples=min(settings.default.max_examples, 200),
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture],
)

addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)


@pytest.fixture(scope="module")
def governance():
    return boa.env.generate_address("governance")


@pytest.fixture(scope="module")
def emitter_role():
    """Stands in for the RewardEmitter: the only account allowed to mint."""
    return boa.env.generate_address("emitter_role")


@pytest.fixture(scope="module")
def holder():
    return boa.env.generate_address("holder")


@pytest.fixture(scope="module")
def spender():
    return boa.env.generate_address("spender")


@pytest.fixture(scope="module")
def stranger():
    return boa.env.generate_address("stranger")


@pytest.fixture(scope="module")
def unwired_token(token_deployer, governance):
    """A freshly deployed token whose emitter is not set yet (governance still owns it)."""
    with boa.env.prank(governance):
        return token_deployer.deploy(governance, GENESIS)


@pytest.fixture(scope="module")
def token(token_deployer, governance, emitter_role, holder):
    """The token as deployed: genesis to governance, emitter named; `holder` has 1,000 TSR."""
    with boa.env.prank(governance):
        t = token_deployer.deploy(governance, GENESIS)
        t.set_emitter(emitter_role)
        t.transfer(holder, 1_000 * 10**18)
    return t
