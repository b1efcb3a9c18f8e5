"""Choose and build the IPFS backend from the one ``TESSERA_IPFS`` setting string (see `open_backend`).

* ``local`` (the default): the embedded `LocalBlockStore` under ``store_dir``.
* a Kubo RPC address (``http://127.0.0.1:5001``, ``.../api/v0``, or a multiaddr such as
  ``/ip4/127.0.0.1/tcp/5001``): the `KuboRpcClient`.
* ``gateway:<URL>``: read through that trustless gateway (every block verified) into the local store, which
  also keeps what the worker adds; nothing is published to the network in this mode.
"""

from __future__ import annotations

import os
import time

import httpx

from offchain.ipfs.backend import IpfsBackend
from offchain.ipfs.errors import ConfigError
from offchain.ipfs.gateway import GatewayReader
from offchain.ipfs.kubo import KuboRpcClient
from offchain.ipfs.local import LocalBlockStore
from offchain.ipfs.reader import Clock

LOCAL = "local"
GATEWAY_PREFIX = "gateway:"


def open_backend(
    spec: str = LOCAL,
    *,
    store_dir: str | os.PathLike[str],
    timeout_s: float = 60.0,
    fsync: bool = False,
    client: httpx.Client | None = None,
    clock: Clock = time.monotonic,
) -> IpfsBackend:
    """The backend ``spec`` names (see the module docstring). ``timeout_s`` bounds each network request;
    ``client`` (optional) carries every HTTP call. Raises `ConfigError` for an unusable setting."""
    choice = spec.strip()
    if choice.lower() == LOCAL:
        return LocalBlockStore(store_dir, fsync=fsync, clock=clock)
    if choice.lower().startswith(GATEWAY_PREFIX):
        url = normalize_http_url(choice[len(GATEWAY_PREFIX) :], "gateway")
        reader = GatewayReader(url, timeout_s=timeout_s, client=client, clock=clock)
        return LocalBlockStore(store_dir, fallback=reader, fsync=fsync, clock=clock)
    return KuboRpcClient(normalize_http_url(choice, "api"), timeout_s=timeout_s, client=client, clock=clock)


def normalize_http_url(value: str, setting: str) -> str:
    """An ``http(s)://`` URL from a URL or multiaddr ``/ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>[/https]``."""
    value = value.strip()
    if value.startswith(("http://", "https://")):
        parsed = httpx.URL(value)
        if not parsed.host:
            raise _bad(value, setting)
        return value.rstrip("/")
    if value.startswith("/"):
        parts = value.strip("/").split("/")
        if len(parts) in (4, 5) and parts[0] in ("ip4", "ip6", "dns", "dns4", "dns6") and parts[2] == "tcp":
            host, port = parts[1], parts[3]
            scheme = parts[4] if len(parts) == 5 else "http"
            if port.isdigit() and scheme in ("http", "https"):
                host = f"[{host}]" if parts[0] == "ip6" else host
                return f"{scheme}://{host}:{port}"
    raise _bad(value, setting)


def _bad(value: str, setting: str) -> ConfigError:
    if setting == "api":
        message = f"TESSERA_IPFS={value!r} is not 'local', 'gateway:<URL>', a Kubo RPC URL or a multiaddr"
    else:
        message = f"the gateway in TESSERA_IPFS ({value!r}) is not an http(s) URL or a multiaddr"
    return ConfigError(
        message,
        hint="set TESSERA_IPFS to 'local', a Kubo URL such as http://127.0.0.1:5001, "
        "or gateway:https://trustless-gateway.link",
    )
