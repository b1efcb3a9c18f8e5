"""The optimistic level from the CLI, against a real anvil with the contracts deployed by `tessera deploy`.

`tessera job submit --optimistic` posts with `post_job_optimistic` (one replica; the challenge window is the
reveal window). The test acts as the job's worker (claim when selected, commit, reveal, as the hand-worker
tests do) and another operator disputes the result with `tessera job challenge`, which checks before it
sends anything that the job is optimistic, its revealed result differs and its window is open. One chain
per module; each test posts its own jobs, so their order does not matter.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from offchain import devchain
from offchain.chain.bindings import commitment
from offchain.ipfs import compute_cid
from offchain.requester import TSR, Client
from offchain.settings import Settings
from tests.cli.conftest import dev_account, error_line
from tests.cli.test_against_anvil import (
    GOVERNANCE,
    REQUESTER,
    VALID_SPEC,
    chain_state,
    claim_when_selected,
    key_env,
    stake_operator,
)

pytestmark = pytest.mark.anvil

WORKER, CHALLENGER, LATE_CHALLENGER = 5, 6, 7


@pytest.fixture(scope="module")
def market(tmp_path_factory, cli_env_factory, tessera_factory):
    """anvil + `tessera deploy`, a funded requester and three staked operators; yields (chain, env, run,
    operators by dev index)."""
    root = tmp_path_factory.mktemp("optimistic")
    with devchain.running_chain() as chain:
        env = cli_env_factory(root)
        env["TESSERA_RPC_URL"] = chain.rpc_url
        run = tessera_factory(root, env)
        deployed = run("deploy")
        assert deployed.returncode == 0, deployed.stderr
        settings = Settings(_env_file=None, rpc_url=chain.rpc_url, deployments_dir=root / "deployments")
        governance = Client.connect(settings, account=dev_account(GOVERNANCE))
        governance.send(governance.contracts.transfer(dev_account(REQUESTER).address, 1_000 * TSR))
        operators = {i: stake_operator(chain, env, i) for i in (WORKER, CHALLENGER, LATE_CHALLENGER)}
        spec = root / "spec.json"
        spec.write_text(json.dumps(VALID_SPEC))
        yield chain, env, run, operators, spec


def submit(run, spec: Path, *args: str) -> int:
    result = run("job", "submit", str(spec), *args, env=key_env(REQUESTER))
    assert result.returncode == 0, result.stderr
    return int(result.stdout)


def work(chain, worker: Client, job_id: int, result: bytes) -> bytes:
    """The test as the job's worker: claim when selected, commit and reveal ``result``; returns its digest."""
    c = worker.contracts
    digest, cid, salt = hashlib.sha256(result).digest(), str(compute_cid(result)), bytes(range(32))
    claim_when_selected(chain, worker, job_id)
    seal = commitment(worker.manifest.chain_id, c.registry.address, job_id, worker.address, digest, cid, salt)
    worker.send(c.commit(job_id, seal))
    worker.send(c.reveal(job_id, digest, cid, salt))
    return digest


def status_of(run, job_id: str):
    """`tessera job status` on a terminal wide enough that table cells are not wrapped."""
    return run("job", "status", job_id, env={"COLUMNS": "300"})


def advance_past(chain, timestamp: int) -> None:
    devchain.rpc_call(chain.rpc_url, "evm_setNextBlockTimestamp", [timestamp + 1])
    devchain.rpc_call(chain.rpc_url, "evm_mine")


def test_submit_optimistic_posts_one_replica_whose_reveal_window_is_the_challenge_window(market):
    chain, _, run, operators, spec = market
    result = run(
        "job", "submit", str(spec), "--optimistic", "--challenge-window", "900", env=key_env(REQUESTER)
    )

    assert result.returncode == 0, result.stderr
    job_id = int(result.stdout)
    client = operators[WORKER]
    view = client.contracts.get_job(job_id)
    assert client.is_optimistic(job_id)
    assert (view.replicas, view.quorum) == (1, 1)
    assert view.reveal_deadline - view.commit_deadline == 900
    assert view.commit_deadline - view.claim_deadline == 300
    assert "unchecked" not in result.stderr  # an optimistic job is not the unchecked level
    assert "challengeable for 900 s" in result.stderr
    status = status_of(run, str(job_id))
    assert status.returncode == 0, status.stderr
    assert "optimistic: challengeable until the reveal deadline" in status.stdout
    replicated = submit(run, spec, "--replicas", "3")
    plain = status_of(run, str(replicated))
    assert "checked (3 replicas)" in plain.stdout and "optimistic" not in plain.stdout
    assert not client.is_optimistic(replicated)


def test_an_unchecked_job_warns_and_names_the_optimistic_level(market):
    _, _, run, _, spec = market
    result = run("job", "submit", str(spec), env=key_env(REQUESTER))

    assert result.returncode == 0, result.stderr
    assert "warning: a 1-replica result is unchecked" in result.stderr
    assert "--optimistic" in result.stderr
    assert "unchecked (1 replica)" in status_of(run, result.stdout.strip()).stdout


def test_a_revealed_result_is_challenged_from_the_cli_and_the_job_shows_it(market, tmp_path):
    chain, _, run, operators, spec = market
    job_id = submit(run, spec, "--optimistic")
    worker, challenger = operators[WORKER], operators[CHALLENGER]
    revealed = work(chain, worker, job_id, b"the worker's result")
    mine = tmp_path / "mine.bin"
    mine.write_bytes(b"the result the challenger computed")
    collateral = worker.contracts.get_job(job_id).collateral
    locked_before = int(challenger.contracts.staking.functions.locked(challenger.address).call())

    result = run("job", "challenge", str(job_id), "--result-file", str(mine), env=key_env(CHALLENGER))

    assert result.returncode == 0, result.stderr
    assert f"challenged job {job_id}: bond 10 TSR locked" in result.stdout
    assert collateral == 10 * TSR
    locked = int(challenger.contracts.staking.functions.locked(challenger.address).call())
    assert locked - locked_before == collateral
    digest, cid = hashlib.sha256(mine.read_bytes()).digest(), str(compute_cid(mine.read_bytes()))
    (event,) = worker.job_events(job_id, ["ResultChallenged"])
    assert event.args["challenger"] == challenger.address
    assert bytes(event.args["result_digest"]) == digest != revealed
    assert event.args["result_cid"] == cid
    assert worker.contracts.claimants(job_id) == [worker.address, challenger.address]
    assert (
        run("ipfs", "cat", cid).stdout.encode() == mine.read_bytes()
    )  # the challenge's CID serves its bytes

    status = status_of(run, str(job_id))
    assert status.returncode == 0, status.stderr
    assert "optimistic, challenged" in status.stdout
    assert f"by {challenger.address}" in status.stdout and cid in status.stdout
    row = next(line for line in status.stdout.splitlines() if line.startswith(f"│ {challenger.address}"))
    assert f"0x{digest.hex()[:12]}" in row  # the challenger's row shows the result it named
    # the window closes: the challenged round escalates to fresh workers, as any dispute does
    view = worker.contracts.get_job(job_id)
    advance_past(chain, view.reveal_deadline)
    receipt = worker.send(worker.contracts.finalize(job_id))
    assert [e.name for e in worker.contracts.events_in(receipt)] == ["JobEscalated"]
    assert worker.contracts.get_job(job_id).round == 1

    again = run(
        "job", "challenge", str(job_id), "--digest", "11" * 32, "--cid", cid, env=key_env(LATE_CHALLENGER)
    )
    assert error_line(again).startswith("E_CHALLENGE_CLOSED: ")


def test_a_second_challenge_is_refused_before_sending(market, tmp_path):
    chain, _, run, operators, spec = market
    job_id = submit(run, spec, "--optimistic")
    work(chain, operators[WORKER], job_id, b"revealed")
    cid = str(compute_cid(b"another"))
    first = run(
        "job", "challenge", str(job_id), "--digest", "0x" + "22" * 32, "--cid", cid, env=key_env(CHALLENGER)
    )
    assert first.returncode == 0, first.stderr
    before = chain_state(chain, dev_account(LATE_CHALLENGER).address)

    second = run(
        "job", "challenge", str(job_id), "--digest", "33" * 32, "--cid", cid, env=key_env(LATE_CHALLENGER)
    )

    assert second.returncode == 2
    line = error_line(second)
    assert line.startswith("E_CHALLENGE_CLOSED: ") and "already challenged by" in line
    assert dev_account(CHALLENGER).address in line
    assert chain_state(chain, dev_account(LATE_CHALLENGER).address) == before


def test_a_job_that_is_not_optimistic_cannot_be_challenged(market, tmp_path):
    chain, _, run, operators, spec = market
    job_id = submit(run, spec, "--replicas", "1")
    mine = tmp_path / "mine.bin"
    mine.write_bytes(b"a result")
    before = chain_state(chain, dev_account(CHALLENGER).address)

    result = run("job", "challenge", str(job_id), "--result-file", str(mine), env=key_env(CHALLENGER))

    assert result.returncode == 2
    assert error_line(result).startswith("E_NOT_OPTIMISTIC: ")
    assert "--optimistic" in result.stderr
    assert chain_state(chain, dev_account(CHALLENGER).address) == before
    assert run("ipfs", "cat", str(compute_cid(b"a result"))).returncode != 0  # nothing was uploaded


def test_the_same_result_is_not_a_challenge(market, tmp_path):
    chain, _, run, operators, spec = market
    job_id = submit(run, spec, "--optimistic")
    work(chain, operators[WORKER], job_id, b"an agreed result")
    mine = tmp_path / "mine.bin"
    mine.write_bytes(b"an agreed result")
    before = chain_state(chain, dev_account(CHALLENGER).address)

    result = run("job", "challenge", str(job_id), "--result-file", str(mine), env=key_env(CHALLENGER))

    assert result.returncode == 2
    assert error_line(result).startswith("E_SAME_RESULT: ")
    assert chain_state(chain, dev_account(CHALLENGER).address) == before


def test_a_result_not_revealed_yet_cannot_be_challenged(market):
    chain, _, run, _, spec = market
    job_id = submit(run, spec, "--optimistic")

    result = run("job", "challenge", str(job_id), "--digest", "44" * 32, "--cid", str(compute_cid(b"x")),
                 env=key_env(CHALLENGER))  # fmt: skip

    assert result.returncode == 2
    assert error_line(result).startswith("E_NO_RESULT_YET: ")


def test_a_closed_challenge_window_is_refused_before_sending(market, tmp_path):
    chain, _, run, operators, spec = market
    job_id = submit(run, spec, "--optimistic", "--challenge-window", "60")
    work(chain, operators[WORKER], job_id, b"unchallenged in time")
    advance_past(chain, operators[WORKER].contracts.get_job(job_id).reveal_deadline)
    mine = tmp_path / "mine.bin"
    mine.write_bytes(b"too late")
    before = chain_state(chain, dev_account(CHALLENGER).address)

    result = run("job", "challenge", str(job_id), "--result-file", str(mine), env=key_env(CHALLENGER))

    assert result.returncode == 2
    line = error_line(result)
    assert line.startswith("E_CHALLENGE_CLOSED: ") and "challenge window closed" in line
    assert chain_state(chain, dev_account(CHALLENGER).address) == before
    # it settles as the worker revealed it
    operators[WORKER].send(operators[WORKER].contracts.finalize(job_id))
    assert "Completed" in status_of(run, str(job_id)).stdout


def test_the_worker_cannot_challenge_its_own_result(market):
    chain, _, run, operators, spec = market
    job_id = submit(run, spec, "--optimistic")
    work(chain, operators[WORKER], job_id, b"mine")

    result = run("job", "challenge", str(job_id), "--digest", "55" * 32, "--cid", str(compute_cid(b"y")),
                 env=key_env(WORKER))  # fmt: skip

    assert result.returncode == 2
    assert error_line(result).startswith("E_CONFIG: ") and "its own result" in result.stderr


@pytest.mark.parametrize(
    "args,says",
    [
        (["--optimistic", "--replicas", "3"], "--replicas 3 does not go with it"),
        (["--optimistic", "--quorum", "2"], "--quorum 2 does not go with it"),
        (["--optimistic", "--reveal-window", "120"], "use --challenge-window 120"),
        (["--challenge-window", "120"], "add --optimistic"),
    ],
    ids=["replicas", "quorum", "reveal-window", "window-without-optimistic"],
)
def test_optimistic_options_that_do_not_fit_are_refused_before_any_transaction(market, args, says):
    chain, _, run, _, spec = market
    before = chain_state(chain, dev_account(REQUESTER).address)

    result = run("job", "submit", str(spec), *args, env=key_env(REQUESTER))

    assert result.returncode == 2
    assert error_line(result).startswith("E_CONFIG: ")
    assert says in result.stderr
    assert chain_state(chain, dev_account(REQUESTER).address) == before


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--digest", "66" * 32],
        ["--digest", "zz", "--cid", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"],
    ],
    ids=["nothing", "digest-without-cid", "bad-digest"],
)
def test_a_challenge_must_name_a_result(market, args):
    _, _, run, _, _ = market
    result = run("job", "challenge", "1", *args, env=key_env(CHALLENGER))

    assert result.returncode == 2
    assert error_line(result).startswith("E_CONFIG: ")
