"""`make abi` is reproducible and current: regenerating from the contracts gives the committed `abi/` byte for
byte, the ABIs are what the deploy script's compiler produces, and the TypeScript module carries them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import gen_abi  # noqa: E402

sys.path.remove(str(REPO / "scripts"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("abi")
    result = subprocess.run(
        [sys.executable, "scripts/gen_abi.py", "--out", str(out)], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return out


def test_regenerating_gives_the_committed_files(generated: Path):
    committed = sorted(p.name for p in (REPO / "abi").iterdir())
    assert sorted(p.name for p in generated.iterdir()) == committed
    for name in committed:
        assert (generated / name).read_bytes() == (REPO / "abi" / name).read_bytes(), (
            f"abi/{name} is stale: run `make abi` and commit the result"
        )


def test_check_mode_names_a_stale_file(generated: Path, tmp_path: Path):
    for path in generated.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "Staking.json").write_text("[]\n")
    (tmp_path / "Old.json").write_text("[]\n")
    files = {p.name: p.read_text() for p in generated.iterdir()}
    assert gen_abi.stale_files(files, tmp_path) == ["Old.json (extra)", "Staking.json (differs)"]
    gen_abi.write(files, tmp_path)
    assert gen_abi.stale_files(files, tmp_path) == []


def test_the_typescript_module_holds_every_abi_and_the_job_phases(generated: Path):
    index = (generated / "index.ts").read_text()
    for name in gen_abi.CONTRACT_NAMES:
        abi = json.loads((generated / f"{name}.json").read_text())
        body = json.dumps(abi, indent=2, ensure_ascii=False)
        assert f"export const {name[0].lower() + name[1:]}Abi = {body} as const;" in index
    assert "  COMPLETED: 5,\n" in index  # uint8 constants are numbers, as viem returns them
    assert "  MAX_REPLICAS: 8n,\n" in index  # uint256 constants are bigint


def test_the_schema_is_the_job_spec_schema(generated: Path):
    from offchain.compute.spec import json_schema

    schema = json.loads((generated / "job-spec.schema.json").read_text())
    assert schema.pop("$schema") == "https://json-schema.org/draft/2020-12/schema"
    assert schema == json_schema()


def test_the_abis_are_those_of_the_deploy_scripts_compiler():
    """ape-vyper and boa compile with vyper 0.4.3 defaults: the bytecode is the same, so is the ABI."""
    import boa
    from vyper.compiler.output import build_abi_output

    ours = gen_abi.compile_contracts(("JobRegistry",), bytecode=True)["JobRegistry"]
    data = boa.load_partial(str(REPO / "contracts" / "JobRegistry.vy")).compiler_data
    assert ours.bytecode == "0x" + data.bytecode.hex()
    assert ours.abi == build_abi_output(data)
