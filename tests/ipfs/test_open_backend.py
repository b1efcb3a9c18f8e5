"""The factory turns the TESSERA_IPFS setting into a backend, and refuses settings it cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest

from offchain.errors import ConfigError
from offchain.ipfs import GatewayReader, IpfsBackend, IpfsReader, KuboRpcClient, LocalBlockStore, open_backend
from offchain.ipfs.factory import normalize_http_url


def test_local_is_the_embedded_store(tmp_path: Path) -> None:
    backend = open_backend("local", store_dir=tmp_path)
    assert isinstance(backend, LocalBlockStore)
    assert isinstance(backend, IpfsBackend)
    assert backend.root == tmp_path


@pytest.mark.parametrize(
    ("spec", "url"),
    [
        ("http://127.0.0.1:5001", "http://127.0.0.1:5001"),
        ("http://127.0.0.1:5001/api/v0/", "http://127.0.0.1:5001"),
        ("/ip4/127.0.0.1/tcp/5001", "http://127.0.0.1:5001"),
        ("/dns4/kubo.internal/tcp/443/https", "https://kubo.internal:443"),
        ("/ip6/::1/tcp/5001", "http://[::1]:5001"),
    ],
)
def test_a_kubo_address_gives_the_rpc_client(tmp_path: Path, spec: str, url: str) -> None:
    backend = open_backend(spec, store_dir=tmp_path)
    assert isinstance(backend, KuboRpcClient)
    assert isinstance(backend, IpfsBackend)
    assert backend.api_url == url
    backend.close()


def test_a_gateway_reads_through_into_the_local_store(tmp_path: Path) -> None:
    backend = open_backend("gateway:https://trustless-gateway.link/", store_dir=tmp_path)
    assert isinstance(backend, LocalBlockStore)
    assert isinstance(backend.fallback, GatewayReader)
    assert backend.fallback.gateway_url == "https://trustless-gateway.link"
    backend.close()


def test_the_gateway_reader_alone_is_a_reader() -> None:
    with GatewayReader("https://trustless-gateway.link") as reader:
        assert isinstance(reader, IpfsReader)
        assert not isinstance(reader, IpfsBackend)


@pytest.mark.parametrize(
    "spec", ["", "ipfs", "ftp://host", "/ip4/1.2.3.4/udp/1", "gateway:nowhere", "http://"]
)
def test_unusable_settings_are_config_errors(tmp_path: Path, spec: str) -> None:
    with pytest.raises(ConfigError, match="Next: set TESSERA_IPFS to 'local'"):
        open_backend(spec, store_dir=tmp_path)


def test_normalize_keeps_paths_of_reverse_proxies() -> None:
    assert normalize_http_url("https://example.org/ipfs-api/", "api") == "https://example.org/ipfs-api"
