"""A requester posts a job through the dashboard's form and watches the real worker complete it.

The worker runs as operators run it (`python -m offchain.worker` in a subprocess) and shares the IPFS store
through `tessera ipfs serve`'s Kubo RPC (``TESSERA_IPFS=<the gateway's URL>``): it reads the spec the
browser uploaded and adds its result there, and the browser downloads that result through the gateway.
Before the real post the form is shown a wallet on the wrong network, a user who rejects the signature and
an account without TSR; each must get its message.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from offchain.chain.bindings import Phase
from offchain.devchain import free_port
from tests.browser.market import Market, env_without_tessera, market
from tests.support.chain import TSR, dev_account, rpc

pytestmark = [pytest.mark.anvil, pytest.mark.browser]

WORKER_READY_S = 120
SPEC = {"version": 1, "workload": {"name": "matmul", "n": 16, "seed": 11}, "resources": {"max_runtime_s": 60}}


def start_worker(m: Market, operator, tmp: Path) -> tuple[subprocess.Popen, Path, int]:
    port = free_port()
    log = tmp / "worker.log"
    env = {
        **env_without_tessera(),
        "TESSERA_RPC_URL": m.rpc_url,
        "TESSERA_DEPLOYMENT": str(m.manifest),
        "TESSERA_PRIVATE_KEY": "0x" + bytes(operator.key).hex(),
        "TESSERA_DATA_DIR": str(tmp / "worker"),
        "TESSERA_IPFS": m.ipfs.url,
        "TESSERA_CONFIRMATIONS": "1",
        "TESSERA_POLL_INTERVAL_S": "0.5",
        "TESSERA_METRICS_PORT": str(port),
        "TESSERA_DEVICE": "cpu",
        "OMP_NUM_THREADS": "1",
    }
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "offchain.worker"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    return proc, log, port


def wait_ready(proc: subprocess.Popen, log: Path, port: int) -> None:
    deadline = time.monotonic() + WORKER_READY_S
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the worker exited ({proc.returncode}): {log.read_text()[-2000:]}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    pytest.fail(f"the worker was not ready within {WORKER_READY_S} s: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_job_posted_in_the_browser_is_completed_by_the_worker(
    tmp_path, artifacts, frontend_build, run_driver
):
    with market(tmp_path, artifacts, build_dir=frontend_build) as m:
        operator = dev_account(1)
        m.stake_operator(operator)
        m.fund(m.requester, 50 * TSR)
        worker, log, port = start_worker(m, operator, tmp_path)
        try:
            wait_ready(worker, log, port)
            rpc(m.w3, "evm_setIntervalMining", 1)  # a block a second from now on, as on a real chain
            report = run_driver("post", {
                "url": m.dashboard.url,
                "rpc_url": m.rpc_url,
                "chain_id_hex": hex(m.w3.eth.chain_id),
                "requester": m.requester.address,
                "requester_index": 4,
                "poor_index": 5,
                "spec": SPEC,
                "bad_spec": {**SPEC, "workload": {"name": "matmul", "n": 0}},
                "fee": "1.5",
                "complete_timeout_ms": 120_000,
            }, timeout_s=240)  # fmt: skip
        finally:
            stop(worker)
        worker_log = log.read_text()

        assert report["wrongNetwork"]["kind"] == "wrong-network"
        assert "chain 1" in report["wrongNetwork"]["text"] and "1337" in report["wrongNetwork"]["text"]
        assert report["notConnected"] == {
            "kind": "not-connected",
            "text": "Connect your wallet to post from it.",
        }
        assert report["rejected"]["kind"] == "rejected", report["rejected"]
        assert "rejected" in report["rejected"]["text"]
        assert "Too little TSR" in report["poor"]
        assert "Too little allowance" in report["beforeApproval"]
        assert "workload.n: must be at least 1" in report["droppedBad"]["status"]
        assert report["droppedBad"]["postDisabled"]
        assert report["specStatus"] == "valid"
        assert int(report["feeShown"]) == 3 * TSR // 2

        job_id = int(report["postedJob"])
        c = m.contracts
        view = c.get_job(job_id)
        assert view.phase == Phase.COMPLETED, worker_log[-3000:]
        assert view.fee == 3 * TSR // 2
        entry = c.worker_entry(job_id, operator.address)
        job = report["pages"]["job"]["testids"]
        assert job["phase"]["text"] == "Completed"
        assert job["result-check"]["value"] == "match"
        assert job["spec-check"]["value"] == "match"
        result_cid = job["result"]["value"]
        assert m.store.has(result_cid), "the worker's result is in the gateway's store"
        assert m.store.cat(result_cid, max_bytes=1 << 20, timeout_s=5)  # served, verified
        revealed = [e for e in _job_events(m, job_id) if e.name == "ResultRevealed"]
        assert [(e.args["result_cid"], e.args["result_digest"]) for e in revealed] == [
            (result_cid, entry.seal)
        ]
        gas = report["pages"]["job"]["gas"]
        assert set(gas) == {"post_job", "claim #0", "commit #0", "reveal #0", "finalize"}
        # the worker's reveal_and_finalize settled the job: its one transaction is counted once in the total
        settled_in = {
            e.name: e.tx_hash for e in _job_events(m, job_id) if e.name in ("ResultRevealed", "JobCompleted")
        }
        assert settled_in["JobCompleted"] == settled_in["ResultRevealed"]
        assert job["gas-shared"]["value"] == "reveal #0"
        once = sum(int(gas[k]) for k in ("post_job", "claim #0", "commit #0", "reveal #0"))
        assert int(job["gas-total"]["value"]) == once
        assert report["mobile"] == {"job": _fits(report, "job"), "post": _fits(report, "post")}
        assert report["console"] == [], report["console"]


def _fits(report: dict, name: str) -> dict:
    value = report["mobile"][name]
    assert not value["overflows"], f"{name} is wider than a phone: {value}"
    return value


def _job_events(m: Market, job_id: int):
    c = m.contracts
    logs = m.w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": c.registry.address})
    return [e for e in (c.decode_log(log) for log in logs) if e and e.args.get("job_id") == job_id]
