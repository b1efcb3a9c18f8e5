"""The worker's signing key: from an encrypted keystore (preferred) or, for local chains, TESSERA_PRIVATE_KEY.

The keystore is the standard Web3 Secret Storage JSON (geth, `ape accounts export`, eth-account's
`Account.encrypt`). Its password comes from ``keystore_password_file`` or, failing that, the terminal.
A plaintext key is accepted only from the environment and always logs a warning: it is for development
chains whose accounts are public anyway.
"""

from __future__ import annotations

import getpass
import json
import logging
from collections.abc import Callable
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from offchain.errors import ConfigError
from offchain.settings import Settings

log = logging.getLogger(__name__)


def load_account(
    settings: Settings,
    *,
    prompt: Callable[[str], str] = getpass.getpass,
) -> LocalAccount:
    """The account named by ``settings`` (keystore + password, or the development private key)."""
    if settings.keystore is not None:
        password = _password(settings, prompt)
        return decrypt_keystore(settings.keystore, password)
    if settings.private_key is not None:
        log.warning(
            "using the plaintext key from TESSERA_PRIVATE_KEY: for local development only; "
            "use TESSERA_KEYSTORE for any chain with real value"
        )
        try:
            return Account.from_key(settings.private_key.get_secret_value().strip())
        except (ValueError, TypeError) as err:
            raise ConfigError(
                f"TESSERA_PRIVATE_KEY is not a valid private key ({err.__class__.__name__})",
                hint="give 32 bytes as 0x-prefixed hex",
            ) from None
    raise ConfigError(
        "no signing key configured",
        hint="set TESSERA_KEYSTORE (encrypted JSON) and TESSERA_KEYSTORE_PASSWORD_FILE, "
        "or TESSERA_PRIVATE_KEY on a local development chain",
    )


def decrypt_keystore(path: Path, password: str) -> LocalAccount:
    """Decrypt a Web3 Secret Storage file; ConfigError naming the file on any failure."""
    try:
        keyfile = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"keystore {path} does not exist", hint="check TESSERA_KEYSTORE") from None
    except (OSError, json.JSONDecodeError) as err:
        raise ConfigError(f"cannot read keystore {path}: {err}", hint="check TESSERA_KEYSTORE") from None
    try:
        key = Account.decrypt(keyfile, password)
    except ValueError:
        raise ConfigError(
            f"cannot decrypt keystore {path}: wrong password or damaged file",
            hint="check TESSERA_KEYSTORE_PASSWORD_FILE (a trailing newline is ignored)",
        ) from None
    return Account.from_key(key)


def _password(settings: Settings, prompt: Callable[[str], str]) -> str:
    if settings.keystore_password_file is not None:
        try:
            return settings.keystore_password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as err:
            raise ConfigError(
                f"cannot read the keystore password file: {err}", hint="check TESSERA_KEYSTORE_PASSWORD_FILE"
            ) from None
    return prompt(f"Password for keystore {settings.keystore}: ")
