"""Loading the worker's key: encrypted keystore with a password file or prompt, or a development key."""

from __future__ import annotations

import json
import logging

import pytest
from eth_account import Account

from offchain.chain.keys import load_account
from offchain.errors import ConfigError
from offchain.settings import Settings

KEY = "0x" + "42" * 32


@pytest.fixture
def keystore(tmp_path):
    path = tmp_path / "operator.json"
    path.write_text(json.dumps(Account.encrypt(KEY, "correct horse", iterations=2)))
    return path


def settings(**kwargs) -> Settings:
    return Settings(_env_file=None, **kwargs)


def test_a_keystore_opens_with_the_password_file(keystore, tmp_path):
    password = tmp_path / "password"
    password.write_text("correct horse\n")
    account = load_account(settings(keystore=keystore, keystore_password_file=password))
    assert account.address == Account.from_key(KEY).address


def test_without_a_password_file_the_password_is_asked_for(keystore):
    asked = []
    account = load_account(
        settings(keystore=keystore), prompt=lambda text: asked.append(text) or "correct horse"
    )
    assert account.address == Account.from_key(KEY).address
    assert "operator.json" in asked[0]


def test_a_wrong_password_names_the_file_and_the_fix(keystore):
    with pytest.raises(ConfigError, match="cannot decrypt keystore .*operator.json") as caught:
        load_account(settings(keystore=keystore), prompt=lambda _: "wrong")
    assert "TESSERA_KEYSTORE_PASSWORD_FILE" in str(caught.value)


def test_a_plaintext_key_works_but_warns(caplog):
    with caplog.at_level(logging.WARNING):
        account = load_account(settings(private_key=KEY))
    assert account.address == Account.from_key(KEY).address
    assert "local development only" in caplog.text


def test_no_key_at_all_says_how_to_configure_one():
    with pytest.raises(ConfigError, match="no signing key configured"):
        load_account(settings())
