"""The exception hierarchy: every error a user can meet, with a stable code and a next step.

Each subclass names one failure. Its message says what happened; ``hint`` says what to do next. The
``code`` is stable (scripts and the worker ledger store it), so never rename one once shipped.
"""

from __future__ import annotations


class TesseraError(Exception):
    """Base class. ``str(err)`` is a one-line message: ``E_CODE: what happened. Next: what to do.``"""

    code: str = "E_TESSERA"
    default_hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}"
        return f"{text}. Next: {self.hint}" if self.hint else text


# --- configuration and chain -------------------------------------------------------------------------
class ConfigError(TesseraError):
    code = "E_CONFIG"


class RpcUnreachable(TesseraError):
    code = "E_RPC_UNREACHABLE"
    default_hint = "check TESSERA_RPC_URL and that the node is running (`make chain` starts a local one)"


class WrongChainId(TesseraError):
    code = "E_WRONG_CHAIN"
    default_hint = "point TESSERA_RPC_URL at the chain the deployment manifest was written for"


class NoContractCode(TesseraError):
    code = "E_NO_CODE"
    default_hint = "deploy first (`ape run deploy`) or fix the addresses in the deployment manifest"


class UnfundedAccount(TesseraError):
    code = "E_UNFUNDED"
    default_hint = "send the account enough native currency for gas, then retry"


class DeploymentExists(TesseraError):
    code = "E_DEPLOYMENT_EXISTS"
    default_hint = "pass --force to replace it, or use the deployment that is there"


# --- IPFS ----------------------------------------------------------------------------------------------
class IpfsUnavailable(TesseraError):
    code = "E_IPFS_UNAVAILABLE"
    default_hint = "check TESSERA_IPFS (local store, Kubo RPC URL or gateway:URL) and that it has the content"


class IpfsTimeout(TesseraError):
    code = "E_IPFS_TIMEOUT"
    default_hint = "the IPFS source is too slow; retry later or raise TESSERA_IPFS_TIMEOUT_S"


class CidMismatch(TesseraError):
    code = "E_CID_MISMATCH"
    default_hint = "the source served bytes that do not hash to the CID; use another IPFS source"


class InputTooLarge(TesseraError):
    code = "E_INPUT_TOO_LARGE"
    default_hint = "the content exceeds the size limit; raise TESSERA_MAX_INPUT_BYTES if it is expected"


class InvalidCid(TesseraError):
    code = "E_INVALID_CID"
    default_hint = "pass a CIDv0 (Qm...) or base32 CIDv1 (b...) string"
