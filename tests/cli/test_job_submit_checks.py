"""`tessera job submit` checks what it can before it connects: posted replicas 1 to MAX_POSTED_REPLICAS
(the other slots are the escalation's), and a 1-replica job is announced as unchecked (T44: no second
worker and no challenge, so nobody can disagree with its one result). No chain: the RPC is unreachable, so
an E_CONFIG refusal proves nothing was sent, and the warning is printed before the connection fails."""

from __future__ import annotations

import json

import pytest

from offchain import devchain
from offchain.chain.protocol import MAX_POSTED_REPLICAS
from tests.cli.conftest import error_line

SPEC = {"version": 1, "workload": {"name": "matmul", "n": 16, "seed": 7}}


@pytest.fixture
def submit(tessera, tmp_path):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(SPEC))
    rpc = {"TESSERA_RPC_URL": f"http://127.0.0.1:{devchain.free_port()}"}
    return lambda *args: tessera("job", "submit", str(path), *args, env=rpc)


@pytest.mark.parametrize("replicas", [0, MAX_POSTED_REPLICAS + 1, 8])
def test_replicas_outside_the_posted_bounds_are_refused_before_connecting(submit, replicas):
    result = submit("--replicas", str(replicas))

    assert result.returncode == 2
    assert error_line(result).startswith(
        f"E_CONFIG: --replicas {replicas} is out of bounds: a job may ask for 1 to {MAX_POSTED_REPLICAS}"
    )
    assert result.stdout == ""


def test_a_one_replica_job_is_announced_unchecked_and_a_replicated_one_is_not(submit):
    single = submit()
    replicated = submit("--replicas", "3")

    assert "warning: a 1-replica result is unchecked" in single.stderr
    assert "use --replicas 3 for a checked result" in single.stderr
    assert "unchecked" not in replicated.stderr
    for result in (single, replicated):  # both went on to connect, past the checks
        assert error_line(result).startswith("E_RPC_UNREACHABLE: ")
