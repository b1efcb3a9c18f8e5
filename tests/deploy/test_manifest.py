"""The deployment manifest: its exact shape, atomic writes, and errors that name the file and field."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from offchain.chain import (
    CONTRACT_NAMES,
    ContractRecord,
    Manifest,
    load_manifest,
    manifest_path,
    write_manifest,
)
from offchain.errors import ConfigError, NoContractCode, WrongChainId

ADDRESSES = {
    "TesseraToken": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    "Staking": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    "RewardEmitter": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
    "JobRegistry": "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
}
ABI = [
    {
        "type": "function",
        "name": "owner",
        "inputs": [],
        "outputs": [{"name": "", "type": "address"}],
        "stateMutability": "view",
    }
]


def make_manifest(**overrides) -> Manifest:
    fields = dict(
        chain_id=1337,
        network="ethereum:local",
        deployer="0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        deployment_block=1,
        deployed_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        compiler="vyper 0.4.3",
        parameters={"min_stake": 10**20},
        contracts={
            name: ContractRecord(address=addr, abi=ABI, block=1 + i, tx_hash="0x" + f"{i:02x}" * 32)
            for i, (name, addr) in enumerate(ADDRESSES.items())
        },
    )
    return Manifest(**{**fields, **overrides})


def test_written_file_has_the_documented_shape(tmp_path):
    path = write_manifest(make_manifest(), manifest_path(tmp_path / "deployments", 1337))
    assert path == tmp_path / "deployments" / "1337.json"
    data = json.loads(path.read_text())
    assert list(data) == [
        "schema_version",
        "chain_id",
        "network",
        "deployer",
        "deployment_block",
        "deployed_at",
        "compiler",
        "parameters",
        "contracts",
    ]
    assert data["schema_version"] == 1
    assert data["deployed_at"] == "2026-01-02T03:04:05+00:00"
    assert data["compiler"] == "vyper 0.4.3"
    assert set(data["contracts"]) == set(CONTRACT_NAMES)
    assert data["contracts"]["Staking"] == {
        "address": ADDRESSES["Staking"],
        "abi": ABI,
        "block": 2,
        "tx_hash": "0x" + "01" * 32,
    }
    assert load_manifest(path) == make_manifest()
    assert [p.name for p in path.parent.iterdir()] == ["1337.json"]  # no temporary file left behind


def test_overwrite_replaces_the_whole_file(tmp_path):
    path = tmp_path / "1337.json"
    write_manifest(make_manifest(deployment_block=7), path)
    write_manifest(make_manifest(deployment_block=9), path)
    assert load_manifest(path).deployment_block == 9


def test_lowercase_addresses_are_checksummed_on_load(tmp_path):
    path = write_manifest(make_manifest(), tmp_path / "1337.json")
    data = json.loads(path.read_text())
    data["contracts"]["JobRegistry"]["address"] = ADDRESSES["JobRegistry"].lower()
    path.write_text(json.dumps(data))
    assert load_manifest(path).address("JobRegistry") == ADDRESSES["JobRegistry"]


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["contracts"]["Staking"].update(address="0x1234"), "contracts.Staking.address"),
        (
            lambda d: d["contracts"]["Staking"].update(address=ADDRESSES["Staking"].replace("e7f", "E7F")),
            "contracts.Staking.address",
        ),
        (lambda d: d["contracts"].pop("RewardEmitter"), "contracts: Value error, missing RewardEmitter"),
        (lambda d: d["contracts"]["TesseraToken"].update(tx_hash="0x12"), "contracts.TesseraToken.tx_hash"),
        (lambda d: d.update(schema_version=2), "schema_version"),
        (lambda d: d.update(deployed_at="2026-01-02T03:04:05"), "deployed_at"),
        (lambda d: d.update(chain_id="one"), "chain_id"),
        (lambda d: d.update(extra=1), "extra"),
    ],
)
def test_invalid_manifest_names_file_and_field(tmp_path, edit, field):
    path = write_manifest(make_manifest(), tmp_path / "1337.json")
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError) as err:
        load_manifest(path)
    assert str(path) in str(err.value) and field in str(err.value)
    assert "ape run deploy --force" in str(err.value)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ConfigError, match=r"no deployment manifest at .*1337\.json.*make deploy"):
        load_manifest(tmp_path / "1337.json")
    (tmp_path / "1.json").write_text('{"chain_id": 1,')
    with pytest.raises(ConfigError, match=r"1\.json is not valid JSON \(line 1"):
        load_manifest(tmp_path / "1.json")


def test_chain_id_check():
    manifest = make_manifest()
    manifest.check_chain_id(1337)
    with pytest.raises(WrongChainId, match="http://node:8545 is chain 1, but the deployment manifest"):
        manifest.check_chain_id(1, rpc_url="http://node:8545")


def test_code_check_names_every_empty_address():
    manifest = make_manifest()
    manifest.check_code(lambda address: b"\x60")
    with pytest.raises(NoContractCode) as err:
        manifest.check_code(lambda address: b"" if address == ADDRESSES["Staking"] else b"\x60")
    assert f"Staking at {ADDRESSES['Staking']}" in str(err.value)
    assert "TesseraToken" not in str(err.value)
    assert manifest.live_contracts(lambda address: b"" if address == ADDRESSES["Staking"] else b"\x60") == [
        "TesseraToken",
        "RewardEmitter",
        "JobRegistry",
    ]
