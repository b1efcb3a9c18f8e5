"""T18/T19: the worker behind a misbehaving RPC (the loopback proxy in `rpc_proxy`): dropped connections,
429 with Retry-After, 500, truncated JSON, a lying chain id, and `eth_getLogs` ranges capped."""

from __future__ import annotations

import subprocess
import sys

import pytest
from web3 import Web3

from offchain.chain.bindings import Phase
from offchain.chain.logs import LogPoller
from offchain.chain.store import ChainStore
from offchain.devchain import running_chain
from tests.faults.conftest import (
    assert_no_extra_transactions,
    job_settled,
    new_job,
    start_worker,
    stop_worker,
    wait_until,
    worker_env,
)
from tests.faults.rpc_proxy import Fault, RpcProxy
from tests.support.chain import deploy, dev_account, rpc, send_raw
from tests.worker.conftest import pinger_artifact  # noqa: F401 - a fixture, reused

pytestmark = pytest.mark.anvil

SEND = frozenset({"eth_sendRawTransaction"})
FAULTS = {
    # the node takes the transaction but the answer is lost: a naive client would send it again
    "drop-after-send": Fault("drop", every=2, methods=SEND, after=True),
    "429-every-3rd": Fault("http_429", every=3, retry_after_s=0.1),
    "500-every-4th": Fault("http_500", every=4),
    "truncated-json-every-5th": Fault("truncate", every=5, after=True),
}


@pytest.mark.parametrize("name", FAULTS)
def test_the_worker_finishes_a_job_through_a_faulty_rpc_without_a_duplicate(shared_market, tmp_path, name):
    market, operator = shared_market, dev_account(1)
    w3, c = market.w3, market.contracts
    first_block = w3.eth.block_number + 1
    nonce_before = w3.eth.get_transaction_count(operator.address)
    job_id = new_job(market)
    data_dir = tmp_path / "data"
    with RpcProxy(market.rpc_url) as proxy:
        proxy.fault = FAULTS[name]
        worker = start_worker(worker_env(market, operator, data_dir, rpc_url=proxy.url), tmp_path)
        try:
            done = wait_until(lambda: job_settled(data_dir, job_id), timeout_s=120)
        finally:
            code = stop_worker(worker)
        injected = sum(proxy.faults.values())
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert done, f"job {job_id} not done behind {name}:\n{log[-4000:]}"
    assert code == 0, log[-2000:]
    assert injected > 0
    assert c.get_job(job_id).phase == Phase.COMPLETED
    last_block = w3.eth.block_number
    mine = {"job_id": job_id, "worker": operator.address}
    kw = {"from_block": first_block, "to_block": last_block, "argument_filters": mine}
    assert len(c.registry.events.ResultCommitted.get_logs(**kw)) == 1
    assert len(c.registry.events.ResultRevealed.get_logs(**kw)) == 1
    assert_no_extra_transactions(
        w3, data_dir, operator.address, job_id, nonce_before, first_block, last_block
    )


@pytest.mark.parametrize("entry", ["python -m offchain.worker"])
def test_an_rpc_lying_about_the_chain_id_is_refused_before_any_transaction(shared_market, tmp_path, entry):
    market, operator = shared_market, dev_account(1)
    new_job(market)  # something to claim, were the worker to start
    nonce = market.w3.eth.get_transaction_count(operator.address, "pending")
    with RpcProxy(market.rpc_url) as proxy:
        proxy.chain_id = 999
        proc = subprocess.run(
            [sys.executable, "-m", "offchain.worker"],
            cwd=tmp_path,
            env=worker_env(market, operator, tmp_path / "d", rpc_url=proxy.url),
            capture_output=True,
            text=True,
            timeout=60,
        )
        raw_txs = list(proxy.raw_txs)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out[-2000:]
    assert "E_WRONG_CHAIN" in out and "999" in out
    assert raw_txs == []
    assert market.w3.eth.get_transaction_count(operator.address, "pending") == nonce


def test_capped_log_ranges_deliver_exactly_the_emitted_events(tmp_path, pinger_artifact):  # noqa: F811
    """60 events in 20 blocks spread over ~220 blocks; the RPC refuses ranges over 7 blocks; the poller,
    configured for 1000-block ranges, halves down and delivers each (block, log index) exactly once."""
    governance = dev_account(0)
    with running_chain() as chain, RpcProxy(chain.rpc_url) as proxy:
        w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
        abi, bytecode = pinger_artifact
        address, deployed_at, _ = deploy(w3, governance, abi, bytecode)
        pinger = w3.eth.contract(address=address, abi=abi)
        rpc(w3, "evm_setAutomine", False)
        n = 0
        for _ in range(20):
            for _ in range(3):
                n += 1
                send_raw(w3, governance, {"to": address, "data": pinger.encode_abi("ping", args=[100 + n])})
            rpc(w3, "evm_mine")
            rpc(w3, "anvil_mine", "0xa")  # 10 empty blocks between
        head = w3.eth.block_number
        emitted = {
            (int(lg["blockNumber"]), int(lg["logIndex"]))
            for lg in w3.eth.get_logs({"address": address, "fromBlock": deployed_at, "toBlock": head})
        }
        assert len(emitted) == 60

        proxy.max_log_range = 7
        ledger = ChainStore(tmp_path / "ledger.sqlite3")
        poller = LogPoller(
            Web3(Web3.HTTPProvider(proxy.url)),
            ledger,
            addresses=[address],
            start_block=deployed_at,
            confirmations=0,
            max_range=1_000,
            grow_after=2,  # keep probing larger ranges: the cap is hit again and again
        )
        delivered: list[tuple[int, int]] = []
        for _ in range(500):
            poller.poll(
                lambda logs: delivered.extend((int(g["blockNumber"]), int(g["logIndex"])) for g in logs)
            )
            if poller.cursor >= head:
                break
        cursor = poller.cursor
        ledger.close()
    assert cursor == head
    assert len(delivered) == len(set(delivered)) == 60
    assert set(delivered) == emitted
    assert proxy.faults["log_range"] > 1
