"""The IPFS layer: a Kubo-compatible importer (CIDs equal to ``ipfs add``) and verified, bounded backends.

* `compute_cid` / `import_blocks` / `DagBuilder` (``importer``): bytes to UnixFS dag-pb blocks and a CID.
* `CID` (``cid``): the value type, parsed from and printed as ``Qm...`` or ``b...``.
* `IpfsBackend` / `IpfsReader` (``backend``): the interface; `LocalBlockStore` (default, no daemon),
  `KuboRpcClient` and `GatewayReader` implement it; `open_backend` (``factory``) picks one from settings.
* ``car``: CAR files (``ipfs dag export`` / ``dag import``), written in DAG order and read with every block
  verified; ``serve``: the embedded store over HTTP as a trustless gateway and a Kubo RPC subset.

Every byte read is verified against its CID; every read is bounded in size and time.
"""

from offchain.ipfs.backend import IpfsBackend, IpfsReader
from offchain.ipfs.cid import CID, DAG_PB, RAW
from offchain.ipfs.errors import MalformedDag, NotAFile
from offchain.ipfs.factory import open_backend
from offchain.ipfs.gateway import GatewayReader
from offchain.ipfs.importer import (
    CHUNK_SIZE,
    MAX_LINKS,
    Block,
    DagBuilder,
    ImportProfile,
    ImportResult,
    compute_cid,
    import_blocks,
)
from offchain.ipfs.kubo import KuboRpcClient
from offchain.ipfs.local import LocalBlockStore
from offchain.ipfs.reader import MAX_BLOCK_BYTES, BlockReader

__all__ = [
    "CHUNK_SIZE",
    "CID",
    "DAG_PB",
    "MAX_BLOCK_BYTES",
    "MAX_LINKS",
    "RAW",
    "Block",
    "BlockReader",
    "DagBuilder",
    "GatewayReader",
    "ImportProfile",
    "ImportResult",
    "IpfsBackend",
    "IpfsReader",
    "KuboRpcClient",
    "LocalBlockStore",
    "MalformedDag",
    "NotAFile",
    "compute_cid",
    "import_blocks",
    "open_backend",
]
