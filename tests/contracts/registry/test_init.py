"""JobRegistry.__init__: non-zero collaborators sharing one token, bounded parameters, the first terms
version, owner, unpaused."""

import boa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.conftest import DEFAULTS
from tests.contracts.registry.conftest import (
    BPS,
    DEFAULT_SELECTION_FACTOR,
    MAX_COLLATERAL_PER_FEE,
    MAX_LIVENESS_SLASH_BPS,
    MAX_MIN_COLLATERAL,
    MAX_MIN_FEE,
    MAX_PROTOCOL_FEE_BPS,
    MIN_LIVENESS_SLASH_BPS,
    MIN_WRONG_RESULT_SLASH_BPS,
    ZERO,
    capped,
    events,
)

PARAMS = ["protocol_fee_bps", "wrong_result_slash_bps", "liveness_slash_bps", "min_fee", "min_collateral"]
# parameter -> (floor, ceiling)
BOUNDS = {
    "protocol_fee_bps": (0, MAX_PROTOCOL_FEE_BPS),
    "wrong_result_slash_bps": (MIN_WRONG_RESULT_SLASH_BPS, BPS),
    "liveness_slash_bps": (MIN_LIVENESS_SLASH_BPS, MAX_LIVENESS_SLASH_BPS),
    "min_fee": (1, MAX_MIN_FEE),
    "min_collateral": (0, MAX_MIN_COLLATERAL),
}


def deploy(registry_deployer, protocol, governance, fee_token=None, staking=None, emitter=None, **overrides):
    p = {**DEFAULTS, **overrides}
    with boa.env.prank(governance):
        return registry_deployer.deploy(
            protocol.token.address if fee_token is None else fee_token,
            protocol.staking.address if staking is None else staking,
            protocol.emitter.address if emitter is None else emitter,
            *(p[name] for name in PARAMS),
        )


def test_deploy_stores_collaborators_and_parameters(registry_deployer, protocol, governance):
    registry = deploy(registry_deployer, protocol, governance)
    assert [(e.name, e.value) for e in events(registry, "ParameterChanged")] == [
        *((name, DEFAULTS[name]) for name in PARAMS),
        ("selection_factor", DEFAULT_SELECTION_FACTOR),
    ]
    assert registry.FEE_TOKEN() == protocol.token.address
    assert registry.STAKE_TOKEN() == protocol.staking.TOKEN()
    assert registry.STAKING() == protocol.staking.address
    assert registry.EMITTER() == protocol.emitter.address
    assert registry.owner() == governance
    assert registry.pending_owner() == ZERO
    assert not registry.paused()
    assert registry.job_count() == 0
    for name in PARAMS:
        assert getattr(registry, name)() == DEFAULTS[name]
    assert registry.selection_factor() == DEFAULT_SELECTION_FACTOR


def test_constants(registry):
    assert registry.MAX_REPLICAS() == 8
    assert registry.MAX_POSTED_REPLICAS() == 5
    assert (registry.MIN_ESCALATION_REPLICAS(), registry.ESCALATION_STEP(), registry.MAX_ROUND()) == (3, 2, 2)
    assert registry.SELECTION_WIDENING() == 15
    assert (registry.DEFAULT_SELECTION_FACTOR(), registry.MAX_SELECTION_FACTOR()) == (2, 64)
    assert registry.MAX_AMOUNT() == 2**80 - 1
    assert (registry.MIN_WINDOW(), registry.MAX_WINDOW()) == (30, 86_400)
    assert registry.MAX_PROTOCOL_FEE_BPS() == MAX_PROTOCOL_FEE_BPS
    assert registry.MIN_WRONG_RESULT_SLASH_BPS() == MIN_WRONG_RESULT_SLASH_BPS
    assert registry.MIN_LIVENESS_SLASH_BPS() == MIN_LIVENESS_SLASH_BPS
    assert registry.MAX_LIVENESS_SLASH_BPS() == MAX_LIVENESS_SLASH_BPS
    assert registry.MAX_COLLATERAL_PER_FEE() == MAX_COLLATERAL_PER_FEE
    assert registry.MAX_MIN_FEE() == MAX_MIN_FEE
    assert registry.MAX_MIN_COLLATERAL() == MAX_MIN_COLLATERAL
    phases = [
        "UNKNOWN",
        "OPEN",
        "CLAIMED",
        "COMMITTING",
        "REVEALING",
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "EXPIRED",
    ]
    assert [getattr(registry, name)() for name in phases] == list(range(9))


def test_three_job_windows_fit_inside_the_unbonding_floor(registry, staking):
    assert 3 * registry.MAX_WINDOW() < staking.MIN_UNBONDING_PERIOD()


@pytest.mark.parametrize("which", ["fee_token", "staking", "emitter"])
def test_zero_collaborator_reverts(registry_deployer, protocol, governance, which):
    with boa.reverts("registry: zero address"):
        deploy(registry_deployer, protocol, governance, **{which: ZERO})


def test_constructor_refuses_mismatched_tokens(
    registry_deployer, staking_deployer, emitter_deployer, token_deployer, protocol, governance
):
    """T33: fees burned in one token must not count toward emission minted in another."""
    d = DEFAULTS
    with boa.env.prank(governance):
        junk = token_deployer.deploy(governance, d["genesis_supply"])
        junk_staking = staking_deployer.deploy(
            junk.address, d["min_stake"], d["unbonding_period"], d["jail_period"], d["slash_reward_bps"]
        )
        junk_emitter = emitter_deployer.deploy(
            junk.address, d["epoch_length"], d["initial_emission"], d["halving_epochs"]
        )
    mixes = [
        {"fee_token": junk.address},  # fees in junk, stake and emission in TSR
        {"staking": junk_staking.address},
        {"emitter": junk_emitter.address},
    ]
    for mix in mixes:
        with boa.reverts("registry: fee, stake and emission tokens differ"):
            deploy(registry_deployer, protocol, governance, **mix)
    registry = deploy(registry_deployer, protocol, governance)
    assert registry.FEE_TOKEN() == registry.STAKE_TOKEN() == protocol.emitter.TOKEN()
    assert registry.FEE_TOKEN() == protocol.token.address


def test_the_constructor_records_the_first_terms_version(registry_deployer, protocol, governance):
    registry = deploy(registry_deployer, protocol, governance)
    assert registry.terms_version() == 1
    assert tuple(registry.job_terms(0)) == (
        DEFAULTS["protocol_fee_bps"],
        DEFAULTS["wrong_result_slash_bps"],
        DEFAULTS["liveness_slash_bps"],
    )


@pytest.mark.parametrize("name", PARAMS)
def test_floor_and_ceiling_boundaries(registry_deployer, protocol, governance, name):
    floor, ceiling = BOUNDS[name]
    for value in (floor - 1, floor, floor + 1, ceiling - 1, ceiling, ceiling + 1):
        if value < 0:
            continue
        if floor <= value <= ceiling:
            assert getattr(deploy(registry_deployer, protocol, governance, **{name: value}), name)() == value
        else:
            with boa.reverts(f"registry: {name} out of bounds"):
                deploy(registry_deployer, protocol, governance, **{name: value})


@capped
@given(
    name=st.sampled_from(PARAMS), value=st.one_of(st.integers(0, 2 * BPS), st.integers(0, 2 * MAX_MIN_FEE))
)
def test_parameter_is_accepted_iff_within_bounds(registry_deployer, protocol, governance, name, value):
    floor, ceiling = BOUNDS[name]
    if floor <= value <= ceiling:
        assert getattr(deploy(registry_deployer, protocol, governance, **{name: value}), name)() == value
    else:
        with boa.reverts(f"registry: {name} out of bounds"):
            deploy(registry_deployer, protocol, governance, **{name: value})
