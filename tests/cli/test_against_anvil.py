"""The real `tessera` program against a real anvil with the contracts deployed by `tessera deploy`.

One chain and deployment per module (deploying takes seconds); each test uses its own accounts or only
reads, so the order of the tests does not matter.
"""

from __future__ import annotations

import json

import pytest

from offchain import devchain
from offchain.requester import TSR, Client
from offchain.settings import Settings
from tests.cli.conftest import dev_account, error_line

pytestmark = pytest.mark.anvil

GOVERNANCE, OPERATOR, REQUESTER, STRANGER = 0, 1, 2, 3
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
    spec_cid = next(line for line in status.stdout.splitlines() if "spec" in line and "Qm" in line)
    cid = spec_cid[spec_cid.index("Qm") :].split()[0]
    assert run("ipfs", "cat", cid).stdout.encode() == spec


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
