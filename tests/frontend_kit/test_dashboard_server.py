"""`tessera dashboard` (offchain.dashboard): the built page, its configuration and the deployment manifest,
on loopback, and nothing else."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from offchain.chain.manifest import CONTRACT_NAMES, ContractRecord, Manifest, write_manifest
from offchain.dashboard import CSP, DashboardServer, PageConfig, open_dashboard
from offchain.errors import ConfigError, RpcUnreachable
from offchain.settings import Settings


@pytest.fixture
def build(tmp_path) -> Path:
    root = tmp_path / "build"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>Tessera</title>")
    (root / "assets" / "index-abc123.js").write_text("console.log('hi')")
    (tmp_path / "secret.txt").write_text("not for the browser")
    return root


@pytest.fixture
def manifest(tmp_path) -> Path:
    records = {
        name: ContractRecord(
            address=f"0x{i + 1:040x}",
            abi=[{"type": "function", "name": "x"}],
            block=1,
            tx_hash="0x" + "ab" * 32,
        )
        for i, name in enumerate(CONTRACT_NAMES)
    }
    m = Manifest(
        chain_id=1337,
        network="ethereum:local",
        deployer="0x" + "11" * 20,
        deployment_block=1,
        deployed_at=datetime(2026, 1, 1, tzinfo=UTC),
        compiler="vyper 0.4.3",
        parameters={"min_stake": 100},
        contracts=records,
    )
    return write_manifest(m, tmp_path / "deployments" / "1337.json")


PAGE = PageConfig(rpc_url="http://127.0.0.1:8545", chain_id=1337, gateway_url="http://127.0.0.1:5080",
                  ipfs_api_url="http://127.0.0.1:5080")  # fmt: skip


@pytest.fixture
def server(build, manifest):
    with DashboardServer(PAGE, manifest, build_dir=build, port=0) as s:
        yield s


def test_the_page_its_config_and_the_manifest_are_served(server, manifest):
    index = httpx.get(f"{server.url}/")
    assert index.status_code == 200 and "Tessera" in index.text
    assert index.headers["content-security-policy"] == CSP
    assert index.headers["cache-control"] == "no-cache"
    asset = httpx.get(f"{server.url}/assets/index-abc123.js")
    assert asset.headers["content-type"] == "text/javascript"
    assert "immutable" in asset.headers["cache-control"]
    config = httpx.get(f"{server.url}/config.json").json()
    assert config == {
        "rpc_url": "http://127.0.0.1:8545",
        "chain_id": 1337,
        "gateway_url": "http://127.0.0.1:5080",
        "ipfs_api_url": "http://127.0.0.1:5080",
        "manifest_url": "deployment.json",
        "poll_interval_ms": 1000,
    }
    served = httpx.get(f"{server.url}/deployment.json").json()
    assert served == json.loads(manifest.read_text())


def test_a_broken_manifest_is_a_clear_503(server, manifest):
    manifest.write_text("{not json")
    response = httpx.get(f"{server.url}/deployment.json")
    assert response.status_code == 503
    assert "E_CONFIG" in response.text and "not valid JSON" in response.text
    manifest.unlink()
    response = httpx.get(f"{server.url}/deployment.json")
    assert response.status_code == 503 and "deploy first" in response.text


def test_nothing_else_is_served(server):
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt", "/rpc", "/api/v0/add"):
        assert httpx.get(f"{server.url}{path}").status_code == 404, path
    assert httpx.post(f"{server.url}/config.json").status_code == 501


def test_a_host_that_is_not_loopback_is_refused(server):
    response = httpx.get(f"{server.url}/config.json", headers={"Host": "rebound.example"})
    assert response.status_code == 403


def test_an_unbuilt_dashboard_says_how_to_build_it(tmp_path, manifest):
    with pytest.raises(ConfigError, match="make frontend"):
        DashboardServer(PAGE, manifest, build_dir=tmp_path / "nothing", port=0)


def test_it_listens_on_loopback_only(build, manifest):
    with pytest.raises(ConfigError, match="loopback"):
        DashboardServer(PAGE, manifest, build_dir=build, host="0.0.0.0", port=0)


def test_open_dashboard_serves_the_embedded_store_and_lets_the_page_add(tmp_path, build, manifest):
    settings = Settings(_env_file=None, deployment=manifest, ipfs="local", ipfs_dir=tmp_path / "ipfs")
    dashboard, ipfs = open_dashboard(settings, port=0, build_dir=build)
    try:
        assert ipfs is not None
        config = httpx.get(f"{dashboard.url}/config.json").json()
        assert config["gateway_url"] == config["ipfs_api_url"] == ipfs.url
        origin = dashboard.origins[0]
        added = httpx.post(f"{ipfs.url}/api/v0/add", files={"file": ("s", b"{}")}, headers={"Origin": origin})
        assert added.status_code == 200 and added.headers["access-control-allow-origin"] == origin
    finally:
        dashboard.stop()
        if ipfs is not None:
            ipfs.stop()


def test_open_dashboard_with_a_gateway_setting_points_the_page_at_it(tmp_path, build, manifest):
    settings = Settings(_env_file=None, deployment=manifest, ipfs="gateway:https://trustless-gateway.link")
    dashboard, ipfs = open_dashboard(settings, port=0, build_dir=build)
    try:
        config = httpx.get(f"{dashboard.url}/config.json").json()
        assert ipfs is None
        assert config["gateway_url"] == "https://trustless-gateway.link" and config["ipfs_api_url"] is None
    finally:
        dashboard.stop()


def test_without_a_manifest_setting_the_chain_must_answer(build):
    from offchain.devchain import free_port

    settings = Settings(_env_file=None, rpc_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RpcUnreachable, match="TESSERA_DEPLOYMENT"):
        open_dashboard(settings, port=0, build_dir=build)
