"""Open the IPFS backend a `Settings` names: the one opener the CLI, the worker and the doctor share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from offchain.ipfs.backend import IpfsBackend
from offchain.ipfs.factory import open_backend

if TYPE_CHECKING:
    from offchain.settings import Settings


def open_ipfs(settings: Settings) -> IpfsBackend:
    """The IPFS backend ``settings.ipfs`` names: 'local', a Kubo RPC URL, or 'gateway:<URL>' (the local
    store, filled from that trustless gateway), with the settings' store folder and time limit."""
    return open_backend(settings.ipfs, store_dir=settings.ipfs_dir, timeout_s=settings.ipfs_timeout_s)
