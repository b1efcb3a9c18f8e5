"""`make demo`: the real demo program runs every workload to completion with three honest workers, prints
the tables and the next steps, and leaves nothing running behind it."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import column, processes_mentioning, row

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def test_demo_completes_every_job_and_stops_everything(run_demo, tmp_path):
    result = run_demo()

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "Jobs" in out and "Operators and balances" in out
    for workload in ("matmul", "mlp-infer", "mlp-train", "export:gpt"):
        line = row(out, f" {workload} ", "Completed")
        assert "3/3: " in line  # every replica agreed
        assert " Qm" in line  # the agreed result's CID
        assert column(out, "slashed", line) == "—", line  # nobody slashed
    for index in (1, 2, 3):
        line = row(out, f"operator {index} ")
        assert "4/4" in line and "eligible" in line and "+" in line  # paid, not slashed
    assert "Next:" in out and "make demo ARGS=--faulty" in out

    assert processes_mentioning(str(tmp_path)) == []  # workers and anvil are gone
    assert not list(tmp_path.glob("tessera-demo-*"))  # and so is the temporary folder
