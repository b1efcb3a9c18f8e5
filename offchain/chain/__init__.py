"""Chain access for the off-chain code: the deployment manifest that says where the contracts live."""

from offchain.chain.manifest import (
    CONTRACT_NAMES,
    SCHEMA_VERSION,
    ContractRecord,
    Manifest,
    load_manifest,
    manifest_path,
    write_manifest,
)

__all__ = [
    "CONTRACT_NAMES",
    "SCHEMA_VERSION",
    "ContractRecord",
    "Manifest",
    "load_manifest",
    "manifest_path",
    "write_manifest",
]
