"""Walking a DAG block by block: the links of a block (by its codec) and the depth-first order CARs use.

The order is depth-first pre-order, each block once (the trustless gateway's ``order=dfs; dups=n``, and
the order ``ipfs dag export`` writes): a block, then the DAG under its first link, then under its second,
and so on. Codecs walked: dag-pb (UnixFS files and directories), raw (no links) and dag-cbor; any other
codec is `UnwalkableBlock`, since its links cannot be found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from offchain.errors import TesseraError
from offchain.ipfs.cid import CID, DAG_PB, RAW
from offchain.ipfs.dagcbor import DAG_CBOR
from offchain.ipfs.dagcbor import decode as decode_cbor
from offchain.ipfs.dagcbor import links as cbor_links
from offchain.ipfs.dagpb import decode_node

WALKABLE: Final = frozenset({DAG_PB, RAW, DAG_CBOR})


class UnwalkableBlock(TesseraError):
    """A block whose codec this store cannot read links from, met while walking a DAG."""

    code = "E_IPFS_UNWALKABLE_CODEC"
    default_hint = "only dag-pb, raw and dag-cbor DAGs are walked here; use Kubo (`ipfs dag export`)"


def block_links(cid: CID, block: bytes | memoryview) -> list[CID]:
    """The CIDs ``block`` links to, in order; `MalformedDag` if it does not decode as its codec."""
    if cid.codec == RAW:
        return []
    if cid.codec == DAG_PB:
        return [link.cid for link in decode_node(block, label=f"block {cid}").links]
    if cid.codec == DAG_CBOR:
        return cbor_links(decode_cbor(block, label=f"block {cid}"))
    raise UnwalkableBlock(f"block {cid} is {cid.codec_name}, whose links cannot be read here")


def walk(get: Callable[[CID], bytes], root: CID, *, dups: bool = False) -> Iterator[tuple[CID, bytes]]:
    """Every block under ``root`` as ``(cid, bytes)`` in depth-first pre-order; ``get`` fetches (and
    verifies) one block. With ``dups`` a block linked twice is yielded twice (``dups=y``); the caller bounds
    the total, since a small DAG that shares blocks can unfold to an exponential number of visits."""
    seen: set[CID] = set()
    stack = [root]
    while stack:
        cid = stack.pop()
        if not dups:
            if cid in seen:
                continue
            seen.add(cid)
        block = get(cid)
        yield cid, block
        stack.extend(reversed(block_links(cid, block)))
