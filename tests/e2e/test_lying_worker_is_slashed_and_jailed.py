"""`make demo ARGS=--faulty`: one of the three workers reveals a wrong (self-consistent) result for every
job; the honest majority still completes each job, the liar is slashed and jailed, the others are paid."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import processes_mentioning, row

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def test_the_liar_is_slashed_and_jailed_and_the_others_paid(run_demo, tmp_path):
    result = run_demo("--faulty")

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    for workload in ("matmul", "mlp-infer", "mlp-train", "export:gpt"):
        line = row(out, f" {workload} ", "Completed")
        assert "2/3: " in line and "op3" not in line.split("(")[0]  # op1 and op2 agreed
        assert "op3 slashed: wrong result" in line
    liar = row(out, "operator 3 (liar)")
    assert "0/4" in liar and "jailed for" in liar and "-80 TSR" in liar  # 4 x the 20 TSR collateral
    for index in (1, 2):
        honest = row(out, f"operator {index} ")
        assert "4/4" in honest and "eligible" in honest and "+" in honest

    assert processes_mentioning(str(tmp_path)) == []
