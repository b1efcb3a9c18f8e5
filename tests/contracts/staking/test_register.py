"""Staking.register: anyone registers (or updates) with a non-empty metadata CID."""

import boa

from tests.contracts.staking.conftest import events

CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


def test_register_records_the_operator_and_logs(staking, stranger):
    assert not staking.is_registered(stranger)
    with boa.env.prank(stranger):
        staking.register(CID)
    (registered,) = events(staking, "OperatorRegistered")
    assert (registered.operator, registered.metadata_cid) == (stranger, CID)
    assert staking.is_registered(stranger)
    assert staking.metadata_cid(stranger) == CID


def test_register_again_updates_metadata_and_keeps_stake(staking, bonded_operator):
    bonded = staking.bonded(bonded_operator)
    with boa.env.prank(bonded_operator):
        staking.register("bafynew")
    assert staking.metadata_cid(bonded_operator) == "bafynew"
    assert staking.bonded(bonded_operator) == bonded


def test_cid_of_100_characters_is_accepted(staking, stranger):
    with boa.env.prank(stranger):
        staking.register("b" * 100)
    assert staking.metadata_cid(stranger) == "b" * 100


def test_empty_metadata_cid_reverts(staking, stranger):
    with boa.env.prank(stranger), boa.reverts("staking: empty metadata cid"):
        staking.register("")
