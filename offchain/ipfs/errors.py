"""IPFS-specific errors beyond the shared hierarchy in `offchain.errors` (which this module re-exports)."""

from __future__ import annotations

from offchain.errors import (
    CidMismatch,
    ConfigError,
    InputTooLarge,
    InvalidCid,
    IpfsTimeout,
    IpfsUnavailable,
    TesseraError,
)

__all__ = [
    "CidMismatch",
    "ConfigError",
    "InputTooLarge",
    "InvalidCid",
    "IpfsTimeout",
    "IpfsUnavailable",
    "MalformedDag",
    "NotAFile",
]


class MalformedDag(TesseraError):
    """Blocks that hash correctly but do not form a well-formed UnixFS file (bad protobuf, sizes that lie)."""

    code = "E_IPFS_MALFORMED_DAG"
    default_hint = "the CID does not name a UnixFS file this worker can read; check the CID the job names"


class NotAFile(TesseraError):
    """The CID names a UnixFS directory, symlink or another non-file node."""

    code = "E_IPFS_NOT_A_FILE"
    default_hint = "name the CID of the file itself, not of a directory that contains it"
