"""The real `tessera` program against a real anvil with the contracts deployed by `tessera deploy`.

One chain and deployment per module (deploying takes seconds); each test uses its own accounts or only
reads, so the order of the tests does not matter.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from offchain import devchain
from offchain.chain.bindings import commitment
from offchain.compute.spec import canonical_spec_bytes, parse_spec
from offchain.requester import TSR, Client
from offchain.settings import Settings
from tests.cli.conftest import dev_account, error_line

pytestmark = pytest.mark.anvil

GOVERNANCE, OPERATOR, REQUESTER, STRANGER = 0, 1, 2, 3
HAND_WORKER, LYING_HAND_WORKER, RUNNING_WORKER = 5, 6, 7  # each test that stakes uses its own account
VALID_SPEC = {"version": 1, "workload": {"name": "matmul", "n": 16, "seed": 7}}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, cli_env_factory, tessera_factory):
    """anvil + `tessera deploy`; yields (rpc url, deployments dir)."""
    root = tmp_path_factory.mktemp("deployed")
    with devchain.running_chain() as chain:
        env = cli_env_factory(root)
        env["TESSERA_RPC_URL"] = chain.rpc_url
        run = tessera_factory(root, env)
        result = run("deploy")
        assert result.returncode == 0, result.stderr
        assert "Tessera deployed" in result.stdout
        settings = Settings(_env_file=None, rpc_url=chain.rpc_url, deployments_dir=root / "deployments")
        governance = Client.connect(settings, account=dev_account(GOVERNANCE))
        for index in (OPERATOR, REQUESTER):
            governance.send(governance.contracts.transfer(dev_account(index).address, 1_000 * TSR))
        yield chain, env, run


def key_env(index: int) -> dict[str, str]:
    return {"TESSERA_PRIVATE_KEY": "0x" + bytes(dev_account(index).key).hex()}


def chain_state(chain, address: str) -> tuple[int, int]:
    head = int(str(devchain.rpc_call(chain.rpc_url, "eth_blockNumber")), 16)
    nonce = int(str(devchain.rpc_call(chain.rpc_url, "eth_getTransactionCount", [address, "latest"])), 16)
    return head, nonce


def test_deploy_again_is_refused_without_force(deployed):
    _, _, run = deployed
    result = run("deploy")

    assert result.returncode == 2
    assert error_line(result).startswith("E_DEPLOYMENT_EXISTS: ")
    assert "--force" in result.stderr


@pytest.mark.parametrize(
    "spec,code",
    [
        (b'{"version": 1, "workload": {"name": "matmul", "n": "big"}}', "E_SPEC_MALFORMED"),
        (b'{"version": 1, "workload": {"name": "matmul"', "E_SPEC_MALFORMED"),
        (b'{"version": 2, "workload": {"name": "matmul", "n": 4}}', "E_SPEC_MALFORMED"),
        (b'{"version": 1, "workload": {"name": "sudo-rm", "n": 4}}', "E_SPEC_MALFORMED"),
    ],
    ids=["wrong-type", "truncated", "unknown-version", "unknown-workload"],
)
def test_malformed_spec_exits_2_and_sends_no_transaction(deployed, tmp_path, spec, code):
    chain, _, run = deployed
    path = tmp_path / "spec.json"
    path.write_bytes(spec)
    before = chain_state(chain, dev_account(REQUESTER).address)

    result = run("job", "submit", str(path), "--fee", "1", env=key_env(REQUESTER))

    assert result.returncode == 2
    assert error_line(result).startswith(f"{code}: ")
    assert result.stdout == ""
    assert chain_state(chain, dev_account(REQUESTER).address) == before


def test_submit_posts_the_job_and_status_shows_it(deployed, tmp_path):
    _, env, run = deployed
    path = tmp_path / "spec.json"
    spec = json.dumps(VALID_SPEC).encode()
    path.write_bytes(spec)

    submitted = run("job", "submit", str(path), "--fee", "1.5", "--replicas", "3", env=key_env(REQUESTER))

    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip()
    assert job_id.isdigit()
    status = run("job", "status", job_id)
    assert status.returncode == 0, status.stderr
    assert f"job {job_id}: Open" in status.stdout
    assert "1.5 TSR" in status.stdout
    assert "3 / 2" in status.stdout  # replicas / quorum (a strict majority by default)
    assert "0 of at most 2, first slot 0" in status.stdout  # round 0 as posted
    spec_cid = next(line for line in status.stdout.splitlines() if "spec" in line and "Qm" in line)
    cid = spec_cid[spec_cid.index("Qm") :].split()[0]
    uploaded = run("ipfs", "cat", cid).stdout.encode()
    assert uploaded == canonical_spec_bytes(parse_spec(spec))  # the canonical form of what was given


def test_a_one_replica_job_is_posted_with_a_warning_that_it_is_unchecked(deployed, tmp_path):
    _, _, run = deployed
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(VALID_SPEC))

    single = run("job", "submit", str(path), env=key_env(REQUESTER))
    checked = run("job", "submit", str(path), "--replicas", "3", env=key_env(REQUESTER))

    assert single.returncode == 0 and checked.returncode == 0, single.stderr + checked.stderr
    assert "warning: a 1-replica result is unchecked" in single.stderr
    assert "--replicas 3" in single.stderr
    assert "unchecked" not in checked.stderr


def test_operator_selected_shows_when_an_operator_may_claim(deployed, tmp_path):
    chain, env, run = deployed
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(VALID_SPEC))
    job_id = run("job", "submit", str(path), "--replicas", "3", env=key_env(REQUESTER)).stdout.strip()
    stranger = dev_account(STRANGER).address

    unstaked = run("operator", "selected", job_id, "--address", stranger)
    unknown = run("operator", "selected", "999", "--address", stranger)

    assert unstaked.returncode == 0, unstaked.stderr
    assert f"job {job_id} round 0, operator {stranger}: not selectable (no bonded stake)" in unstaked.stdout
    assert error_line(unknown).startswith("E_JOB_UNKNOWN: ")


def test_result_of_an_unsettled_job_is_refused(deployed, tmp_path):
    _, _, run = deployed
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(VALID_SPEC))
    job_id = run("job", "submit", str(path), env=key_env(REQUESTER)).stdout.strip()

    result = run("job", "result", job_id, "--out", str(tmp_path / "out"))

    assert result.returncode == 2
    assert error_line(result).startswith("E_JOB_NOT_COMPLETED: ")
    assert not (tmp_path / "out").exists()


def test_status_of_an_unknown_job(deployed):
    _, _, run = deployed
    result = run("job", "status", "999")

    assert result.returncode == 2
    assert error_line(result).startswith("E_JOB_UNKNOWN: ")


def test_quorum_must_be_a_strict_majority(deployed, tmp_path):
    _, _, run = deployed
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(VALID_SPEC))

    result = run("job", "submit", str(path), "--replicas", "4", "--quorum", "2", env=key_env(REQUESTER))

    assert result.returncode == 2
    assert error_line(result).startswith("E_CONFIG: --quorum 2 is not a strict majority")


@pytest.mark.parametrize("replicas", ["0", "6", "8"])
def test_replicas_outside_one_to_five_are_refused_before_any_transaction(deployed, tmp_path, replicas):
    chain, _, run = deployed
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(VALID_SPEC))
    before = chain_state(chain, dev_account(REQUESTER).address)

    result = run("job", "submit", str(path), "--replicas", replicas, env=key_env(REQUESTER))

    assert result.returncode == 2
    assert error_line(result).startswith(
        f"E_CONFIG: --replicas {replicas} is out of bounds: a job may ask for 1 to 5"
    )
    assert chain_state(chain, dev_account(REQUESTER).address) == before


def test_operator_register_stake_unstake_status_and_doctor(deployed):
    _, _, run = deployed
    me = key_env(OPERATOR)

    doctor_before = run("worker", "doctor", env=me)
    assert doctor_before.returncode == 2
    assert error_line(doctor_before).startswith("E_STAKE_TOO_LOW: ")

    assert run("operator", "register", env=me).returncode == 0
    staked = run("operator", "stake", "200", env=me)
    assert staked.returncode == 0, staked.stderr
    assert "bonded 200 TSR" in staked.stdout
    unstaked = run("operator", "unstake", "50", env=me)
    assert unstaked.returncode == 0, unstaked.stderr
    assert "lock 0: 50 TSR withdrawable" in unstaked.stdout
    early = run("operator", "withdraw", "0", env=me)
    assert early.returncode == 2
    assert error_line(early).startswith("E_TX_REVERTED: ")

    status = run("operator", "status", env=me)
    assert status.returncode == 0, status.stderr
    assert "150 TSR" in status.stdout  # bonded after unstaking 50
    assert "lock 0" in status.stdout
    assert "0 missed" in status.stdout  # its reliability record: registered, no claim yet

    doctor = run("worker", "doctor", env=me)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "ready" in doctor.stdout


def test_rewards_claim_with_nothing_earned(deployed):
    _, _, run = deployed
    result = run("rewards", "claim", env=key_env(STRANGER))

    assert result.returncode == 2
    assert error_line(result).startswith("E_NOTHING_TO_CLAIM: ")


def test_signing_command_without_a_key(deployed):
    _, _, run = deployed
    result = run("operator", "stake", "1")

    assert result.returncode == 2
    assert error_line(result).startswith("E_CONFIG: no signing key configured")


def test_missing_manifest(deployed, tmp_path):
    _, _, run = deployed
    result = run("job", "status", "1", env={"TESSERA_DEPLOYMENTS_DIR": str(tmp_path / "nowhere")})

    assert result.returncode == 2
    assert error_line(result).startswith("E_CONFIG: no deployment manifest at ")


def test_unreachable_rpc(tessera):
    port = devchain.free_port()
    result = tessera("job", "status", "1", env={"TESSERA_RPC_URL": f"http://127.0.0.1:{port}"})

    assert result.returncode == 2
    assert error_line(result).startswith("E_RPC_UNREACHABLE: ")


def stake_operator(chain, env, index: int, amount: int = 200 * TSR) -> Client:
    """Fund, register and stake dev account ``index`` (setup outside the CLI under test)."""
    settings = Settings(
        _env_file=None, rpc_url=chain.rpc_url, deployments_dir=Path(env["TESSERA_DEPLOYMENTS_DIR"])
    )
    governance = Client.connect(settings, account=dev_account(GOVERNANCE))
    governance.send(governance.contracts.transfer(dev_account(index).address, amount))
    operator = Client.connect(settings, account=dev_account(index))
    operator.register("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")
    operator.stake(amount)
    return operator


def claim_when_selected(chain, operator: Client, job_id: int) -> None:
    """Claim as the contract's stake-weighted selection allows: move chain time to the operator's
    `selected_at` if it is later (the threshold widens to 16x by the claim deadline), then claim."""
    at = int(operator.contracts.registry.functions.selected_at(job_id, operator.address).call())
    head = int(operator.w3.eth.get_block("latest")["timestamp"])
    assert at < operator.contracts.get_job(job_id).claim_deadline, "not selected in this round"
    if at > head:
        devchain.rpc_call(chain.rpc_url, "evm_setNextBlockTimestamp", [at])
    operator.send(operator.contracts.claim(job_id))


def test_result_is_fetched_verified_and_saved_and_rewards_claimed(deployed, tmp_path):
    chain, env, run = deployed
    operator = stake_operator(chain, env, HAND_WORKER)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(VALID_SPEC))
    job_id = int(run("job", "submit", str(spec), "--fee", "2", env=key_env(REQUESTER)).stdout)

    # A worker by hand: claim, put a result on IPFS, commit, reveal, finalize.
    result_file = tmp_path / "result.safetensors"
    header = json.dumps({"c": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    result_file.write_bytes(len(header).to_bytes(8, "little") + header + b"\x00\x00\x80\x3f")
    result_cid = run("ipfs", "add", str(result_file)).stdout.strip()
    digest, salt = hashlib.sha256(result_file.read_bytes()).digest(), bytes(range(32))
    c = operator.contracts
    claim_when_selected(chain, operator, job_id)
    operator.send(
        c.commit(
            job_id, commitment(1337, c.registry.address, job_id, operator.address, digest, result_cid, salt)
        )
    )
    operator.send(c.reveal(job_id, digest, result_cid, salt))
    operator.send(c.finalize(job_id))

    status = run("job", "status", str(job_id))
    assert f"job {job_id}: Completed" in status.stdout
    assert "0 of at most 2, first slot 0" in status.stdout  # the round row: never escalated
    assert result_cid in status.stdout and "1.9 TSR" in status.stdout  # 2 TSR minus the 5% protocol fee
    saved = run("job", "result", str(job_id), "--out", str(tmp_path / "out"))
    assert saved.returncode == 0, saved.stderr
    path = Path(saved.stdout.strip())
    assert path == tmp_path / "out" / f"job-{job_id}.safetensors"
    assert path.read_bytes() == result_file.read_bytes()
    assert "c: F32 [1]" in saved.stderr

    too_early = run("rewards", "claim", env=key_env(HAND_WORKER))
    assert error_line(too_early).startswith("E_NOTHING_TO_CLAIM: ")
    devchain.rpc_call(chain.rpc_url, "evm_increaseTime", [61])  # past the 60 s epoch of the local params
    devchain.rpc_call(chain.rpc_url, "evm_mine")
    assert "epoch " in run("rewards", "status", dev_account(HAND_WORKER).address).stdout
    claimed = run("rewards", "claim", env=key_env(HAND_WORKER))
    assert claimed.returncode == 0, claimed.stderr
    assert claimed.stdout.startswith("claimed 0.1 TSR")  # emission = the fee burned in that epoch


def test_result_that_does_not_match_the_agreed_digest_is_refused(deployed, tmp_path):
    chain, env, run = deployed
    operator = stake_operator(chain, env, LYING_HAND_WORKER)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(VALID_SPEC))
    job_id = int(run("job", "submit", str(spec), env=key_env(REQUESTER)).stdout)
    honest, other = tmp_path / "a.bin", tmp_path / "b.bin"
    honest.write_bytes(b"the agreed bytes")
    other.write_bytes(b"something else")
    other_cid = run("ipfs", "add", str(other)).stdout.strip()
    digest, salt = hashlib.sha256(honest.read_bytes()).digest(), bytes(32)
    c = operator.contracts
    claim_when_selected(chain, operator, job_id)
    operator.send(
        c.commit(
            job_id, commitment(1337, c.registry.address, job_id, operator.address, digest, other_cid, salt)
        )
    )
    operator.send(c.reveal(job_id, digest, other_cid, salt))  # the revealed CID holds other bytes
    operator.send(c.finalize(job_id))

    result = run("job", "result", str(job_id), "--out", str(tmp_path / "out"))

    assert error_line(result).startswith("E_RESULT_MISMATCH: ")
    assert not (tmp_path / "out" / f"job-{job_id}.safetensors").exists()


def test_worker_run_serves_readyz_and_stops_on_ctrl_c(deployed, tmp_path):
    chain, env, _ = deployed
    stake_operator(chain, env, RUNNING_WORKER)
    port = devchain.free_port()
    worker_env = {**env, **key_env(RUNNING_WORKER), "TESSERA_METRICS_PORT": str(port),
                  "TESSERA_DATA_DIR": str(tmp_path / "worker")}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "offchain.cli", "worker", "run"], cwd=tmp_path, env=worker_env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert (tmp_path / "worker" / "ledger.sqlite3").exists()
