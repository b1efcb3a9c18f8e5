"""The params files and the deploy script's bounds agree with the contracts (checked by deploying them)."""

from __future__ import annotations

import json

import boa
import pytest

from offchain.errors import ConfigError, UnfundedAccount
from scripts.deploy import (
    MAX_SUPPLY,
    PARAMETERS,
    PARAMS_DIR,
    check_balance,
    default_params_file,
    load_params,
    validate_params,
)
from tests.contracts.conftest import DEFAULTS, contract_path

SCHEDULE_BOUND = {"initial_emission", "halving_epochs"}  # bounded together, tested separately


@pytest.fixture(scope="module")
def deployers():
    return {
        name: boa.load_partial(contract_path(f"{name}.vy"))
        for name in ("TesseraToken", "Staking", "RewardEmitter", "JobRegistry")
    }


@pytest.fixture(scope="module")
def deploys(deployers):
    """deploys(params) -> True if the contract taking each overridden parameter accepts it."""
    token = deployers["TesseraToken"].deploy(boa.env.eoa, DEFAULTS["genesis_supply"])
    staking = deployers["Staking"].deploy(
        token.address,
        DEFAULTS["min_stake"],
        DEFAULTS["unbonding_period"],
        DEFAULTS["jail_period"],
        DEFAULTS["slash_reward_bps"],
    )
    emitter = deployers["RewardEmitter"].deploy(
        token.address, DEFAULTS["epoch_length"], DEFAULTS["initial_emission"], DEFAULTS["halving_epochs"]
    )

    def attempt(contract: str, p: dict[str, int]) -> bool:
        try:
            if contract == "TesseraToken":
                deployers["TesseraToken"].deploy(boa.env.eoa, p["genesis_supply"])
            elif contract == "Staking":
                deployers["Staking"].deploy(
                    token.address,
                    p["min_stake"],
                    p["unbonding_period"],
                    p["jail_period"],
                    p["slash_reward_bps"],
                )
            elif contract == "RewardEmitter":
                fresh = deployers["TesseraToken"].deploy(boa.env.eoa, p["genesis_supply"])
                deployers["RewardEmitter"].deploy(
                    fresh.address, p["epoch_length"], p["initial_emission"], p["halving_epochs"]
                )
            else:
                deployers["JobRegistry"].deploy(
                    token.address,
                    staking.address,
                    emitter.address,
                    p["protocol_fee_bps"],
                    p["wrong_result_slash_bps"],
                    p["liveness_slash_bps"],
                    p["min_fee"],
                    p["min_collateral"],
                )
        except boa.BoaError:
            return False
        return True

    return attempt


def test_default_json_equals_the_contract_tests_defaults():
    assert load_params(PARAMS_DIR / "default.json") == DEFAULTS


def test_local_json_is_valid_and_differs_only_in_time():
    local = load_params(PARAMS_DIR / "local.json")
    assert local["epoch_length"] == PARAMETERS["epoch_length"].low == 60
    assert local["unbonding_period"] == PARAMETERS["unbonding_period"].low
    assert local["jail_period"] == PARAMETERS["jail_period"].low
    assert {k for k in local if local[k] != DEFAULTS[k]} == {
        "epoch_length",
        "unbonding_period",
        "jail_period",
    }
    assert (
        default_params_file(True).name == "local.json" and default_params_file(False).name == "default.json"
    )


@pytest.mark.parametrize("name", [n for n in PARAMETERS if n not in SCHEDULE_BOUND])
def test_bounds_match_the_contracts(deploys, name):
    bound = PARAMETERS[name]
    # a genesis supply at the cap leaves no room for an emission schedule
    base = {**DEFAULTS, "initial_emission": 0} if name == "genesis_supply" else DEFAULTS
    for value in (bound.low, bound.high):
        assert deploys(bound.contract, {**base, name: value}), f"{bound.contract} refused {name}={value}"
        assert validate_params({**base, name: value})
    for value in (bound.low - 1, bound.high + 1):
        if value < 0:
            continue
        assert not deploys(bound.contract, {**base, name: value}), f"{bound.contract} took {name}={value}"
        with pytest.raises(ConfigError, match=name):
            validate_params({**base, name: value})


def test_schedule_bound_matches_the_emitter(deploys):
    genesis = MAX_SUPPLY - 2 * 10**18 * 100  # room for a schedule of exactly 2 * 10**18 * 100
    at_limit = {**DEFAULTS, "genesis_supply": genesis, "initial_emission": 10**18, "halving_epochs": 100}
    assert deploys("RewardEmitter", at_limit) and validate_params(at_limit)
    over = {**at_limit, "initial_emission": 10**18 + 1}
    assert not deploys("RewardEmitter", over)
    with pytest.raises(ConfigError, match="exceeds MAX_SUPPLY - genesis_supply"):
        validate_params(over)
    zero = {**DEFAULTS, "halving_epochs": 0}
    assert not deploys("RewardEmitter", zero)
    with pytest.raises(ConfigError, match="halving_epochs"):
        validate_params(zero)


def test_every_problem_is_named_with_the_file(tmp_path):
    bad = {**DEFAULTS, "min_stak": 1, "jail_period": "3600", "protocol_fee_bps": 2_001}
    del bad["min_stake"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ConfigError) as err:
        load_params(path)
    text = str(err.value)
    assert str(path) in text
    assert "unknown parameter 'min_stak' (did you mean 'min_stake'?)" in text
    assert "missing 'min_stake'" in text
    assert "jail_period must be an integer" in text
    assert "protocol_fee_bps = 2_001 is outside JobRegistry's bounds [0, 2_000]" in text
    assert "scripts/params/README.md" in text


def test_unreadable_params_files_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="no parameters file at"):
        load_params(tmp_path / "missing.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_params(tmp_path / "broken.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(ConfigError, match="JSON object"):
        load_params(tmp_path / "list.json")


def test_booleans_are_not_integers():
    with pytest.raises(ConfigError, match="slash_reward_bps must be an integer"):
        validate_params({**DEFAULTS, "slash_reward_bps": True})


def test_check_balance_names_the_account_and_the_amount():
    deployer = "0x" + "ab" * 20
    assert check_balance(deployer, 10**18, 1_000_000, 10**9) == 10**15
    with pytest.raises(UnfundedAccount) as err:
        check_balance(deployer, 0, 9_000_000, 2 * 10**9)
    assert deployer in str(err.value)
    assert "18000000000000000 wei" in str(err.value)
    assert err.value.code == "E_UNFUNDED"
