"""`make demo ARGS=--faulty`: five honest workers and a Sybil pair (two identities of one attacker, an
honest operator's stake each, both revealing the same wrong, self-consistent result for every job).
Selection decides which workers take each job's three first-round slots (with 2/7 of the stake the
Sybils are in some job of nearly every run). Whenever the Sybils take part, the round's reveals
disagree, so the job escalates at its reveal deadline to fresh replicas (five honest workers leave a fresh
honest quorum whatever the first round was); the escalation settles the job on the honest result; the
Sybils are slashed and jailed; no honest worker ever loses stake, and every honest revealer is paid."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import column, processes_mentioning, row

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

WORKLOADS = ("matmul", "mlp-infer", "mlp-train", "export:gpt")
HONEST, SYBILS = (1, 2, 3, 5, 6), (7, 8)


def test_a_sybil_pair_cannot_take_honest_stake_and_escalation_settles_the_job(run_demo, tmp_path):
    result = run_demo("--faulty")

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    out = result.stdout
    for workload in WORKLOADS:
        line = row(out, f" {workload} ", "Completed")
        agreeing, slashed = column(out, "agreeing workers", line), column(out, "slashed", line)
        assert not any(f"op{i}" in agreeing for i in SYBILS), line  # no Sybil agreed
        assert not any(f"op{i}:" in slashed for i in HONEST), line  # no honest worker slashed
        if any(f"op{i}" in slashed for i in SYBILS):  # a Sybil revealed in this job: it escalated
            assert "escalated" in column(out, "rounds", line), line
        for i in SYBILS:
            if f"op{i}:" in slashed:
                assert f"op{i}: wrong result" in slashed, line

    story = [ln for ln in out.splitlines() if re.match(r"job \d+ \(", ln)]
    for line in story:
        assert "escalated to fresh replicas" in line and "ended Completed" in line, line
        assert "slashed and jailed" in line and "LOST STAKE" not in line, line

    took_part = 0
    for index in SYBILS:
        sybil = row(out, f"operator {index} (Sybil)")
        claimed = int(re.search(r" 0/(\d+) ", sybil).group(1))  # never agreed with a settled result
        if claimed:
            took_part += 1
            assert "jailed for" in column(out, "status", sybil), sybil
            assert column(out, "net change", sybil).startswith("-"), sybil
    assert took_part == 0 or story, "a Sybil took part but no job tells its escalation"
    for index in HONEST:
        honest = row(out, f"operator {index} ")
        agreed, claimed = map(int, re.search(r" (\d+)/(\d+) ", honest).groups())
        assert agreed == claimed and "eligible" in honest, honest  # every honest claim ended agreed
        assert column(out, "slashed", honest) in ("—", ""), honest

    assert processes_mentioning(str(tmp_path)) == []
