"""`make abi` also writes `offchain/chain/protocol.py`, the Python copy of `contracts/modules/constants.vy`:
the committed module is what the generator makes from the Vyper source, the contracts export the same
values, and the off-chain code imports them rather than typing the numbers again."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import gen_abi  # noqa: E402

sys.path.remove(str(REPO / "scripts"))


def test_the_committed_python_constants_are_what_make_abi_generates():
    rendered = gen_abi.render_python(gen_abi.protocol_constants())
    assert gen_abi.PYTHON_OUT.read_text(encoding="utf-8") == rendered, (
        "offchain/chain/protocol.py is stale: run `make abi` and commit the result"
    )


def test_a_changed_vyper_constant_makes_the_python_module_stale(tmp_path: Path):
    (tmp_path / "modules").mkdir()
    source = (REPO / "contracts" / "modules" / "constants.vy").read_text(encoding="utf-8")
    changed = source.replace(
        "BPS: public(constant(uint256)) = 10_000", "BPS: public(constant(uint256)) = 1_000"
    )
    assert changed != source
    (tmp_path / "modules" / "constants.vy").write_text(changed, encoding="utf-8")
    rendered = gen_abi.render_python(gen_abi.protocol_constants(tmp_path))
    assert "BPS: Final = 1_000" in rendered
    assert gen_abi.PYTHON_OUT.read_text(encoding="utf-8") != rendered


def test_phases_and_reasons_are_enums_with_the_contracts_values():
    from offchain.chain.protocol import BPS, MAX_REPLICAS, Phase, SlashReason

    constants = gen_abi.protocol_constants()
    assert BPS == constants["BPS"].value == 10_000
    assert constants["MAX_REPLICAS"].value == MAX_REPLICAS
    assert {p.name: int(p) for p in Phase} == {
        name: c.value for name, c in constants.items() if c.vyper_type == "uint8" and "REASON" not in name
    }
    assert {f"REASON_{r.name}": int(r) for r in SlashReason} == {
        name: c.value for name, c in constants.items() if name.startswith("REASON_")
    }
    assert [p for p in Phase if p.terminal] == [Phase.COMPLETED, Phase.FAILED, Phase.CANCELLED, Phase.EXPIRED]


def test_the_kit_exports_the_shared_constants_from_the_contracts():
    compiled = gen_abi.compile_contracts(("JobRegistry", "Staking"))
    assert compiled["JobRegistry"].constants["COMPLETED"] == 5
    assert compiled["JobRegistry"].constants["MAX_REPLICAS"] == 8
    assert compiled["Staking"].constants["REASON_LIVENESS"] == 2
