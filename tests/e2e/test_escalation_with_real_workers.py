"""A disputed job escalates and real workers settle it honestly.

Eight worker processes on one anvil, each a staked operator with the same stake. Round 0 of a 3-replica
job is taken by one honest worker (`python -m offchain.worker`) and two liars (the demo's lying worker:
the same service, its compute port corrupting every result the same way, so the two agree on a wrong
digest and even hold round 0's quorum). The round disagrees, so at its reveal deadline the next finalize
escalates it to a round of five fresh replicas; five honest workers, started once round 0 is full (so they
cannot take its slots), claim that round (selection: 10 expected per 8 equal stakes, all selected at once),
agree on the honest digest and settle the job. The honest digest wins across both rounds, both liars are
slashed for a wrong result and jailed, the honest round-0 worker waits (ESCALATED, collateral locked) and
is paid without a slash, every escalation-round worker's payment includes its share of the liars' slash
bounty, and no worker sends a transaction that reverts. Windows are the registry's minimum (30 s).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from offchain.chain.bindings import Tessera
from offchain.chain.manifest import load_manifest
from offchain.chain.protocol import BPS, Phase, SlashReason
from offchain.demo import LIAR_FLAG
from offchain.devchain import running_chain
from tests.faults.conftest import (
    REPO,
    ledger_rows,
    stake_operator,
    start_worker,
    stop_worker,
    wait_until,
    worker_env,
)
from tests.support.chain import TSR, dev_account, rpc, transact
from tests.support.contracts import TEST_PARAMS, deploy_tessera
from tests.support.market import STAKE, Market, publish_spec
from tests.worker import conftest as worker_conftest

pytestmark = [pytest.mark.anvil, pytest.mark.slow]
artifacts = worker_conftest.artifacts  # the compiled contracts (session fixture), reused

HONEST, LIARS, FRESH = 1, (3, 4), (5, 6, 7, 8, 9)  # dev accounts; 0 deploys, 2 posts the job
FEE, COLLATERAL = 10 * TSR, 10 * TSR
WINDOWS = (30, 30, 30)  # claim, commit, reveal: MIN_WINDOW each
SPEC = {
    "version": 1,
    "workload": {"name": "matmul", "n": 8, "seed": 23},
    "resources": {"max_runtime_s": 10},  # with a 5 s claim margin, it fits a 30 s commit window
}
FAST = {
    "TESSERA_CLAIM_MARGIN_S": "5",
    "TESSERA_FINALIZE_FALLBACK_S": "4",
    "TESSERA_CONFIRMATIONS": "0",
    "OMP_NUM_THREADS": "1",
}


@pytest.fixture
def market(tmp_path: Path, artifacts) -> Iterator[Market]:
    """A fresh anvil: eight operators staked alike, the requester funded; then a block a second."""
    governance = dev_account(0)
    with running_chain() as chain:
        w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
        manifest = deploy_tessera(w3, governance, artifacts, tmp_path / "deployments")
        market = Market(
            w3, chain.rpc_url, manifest, Tessera(w3, load_manifest(manifest)), tmp_path / "ipfs", tmp_path
        )
        transact(w3, governance, market.contracts.token, "transfer", dev_account(2).address, 100 * TSR)
        for n in (HONEST, *LIARS, *FRESH):
            stake_operator(market, governance, dev_account(n), STAKE)
        rpc(w3, "evm_setIntervalMining", 1)
        yield market


def start(
    market: Market, tmp_path: Path, n: int, start_block: int, *, liar: bool = False
) -> subprocess.Popen:
    env = worker_env(market, dev_account(n), tmp_path / f"w{n}" / "data", **FAST)
    env["TESSERA_START_BLOCK"] = str(start_block)
    if not liar:
        return start_worker(env, tmp_path / f"w{n}")
    cwd = tmp_path / f"w{n}"
    cwd.mkdir(parents=True, exist_ok=True)
    out = open(cwd / "worker.log", "ab")  # noqa: SIM115 - closed with the process
    command = [sys.executable, "-m", "offchain.cli", "demo", LIAR_FLAG]
    return subprocess.Popen(
        command, cwd=cwd, env={**env, "PYTHONPATH": str(REPO)}, stdout=out, stderr=subprocess.STDOUT
    )


def ready(tmp_path: Path, n: int) -> bool:
    """The worker finished its setup (its ledger is bound to the chain)."""
    return bool(ledger_rows(tmp_path / f"w{n}" / "data", "SELECT value FROM meta WHERE key='worker'"))


def post(market: Market, requester: LocalAccount) -> int:
    c = market.contracts
    cid, raw = publish_spec(market, SPEC)
    transact(market.w3, requester, c.token, "approve", c.registry.address, FEE)
    terms = (hashlib.sha256(raw).digest(), FEE, 3, 2, COLLATERAL, *WINDOWS)
    receipt = transact(market.w3, requester, c.registry, "post_job", cid, *terms)
    return c.job_id_from(receipt)


def job_events(market: Market, job_id: int) -> list:
    c = market.contracts
    logs = market.w3.eth.get_logs({"address": c.addresses, "fromBlock": 0, "toBlock": "latest"})
    events = [e for e in (c.decode_log(lg) for lg in logs) if e is not None]
    return [e for e in events if int(e.args.get("job_id", -1)) == job_id]


def reverted_from(market: Market, senders: set[str], first_block: int) -> list[tuple[str, int]]:
    """(sender, block) of every reverted transaction sent by ``senders`` since ``first_block``."""
    w3, found = market.w3, []
    for number in range(first_block, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] in senders and w3.eth.get_transaction_receipt(tx["hash"])["status"] != 1:
                found.append((tx["from"], number))
    return found


def state_of(tmp_path: Path, n: int, job_id: int) -> str | None:
    rows = ledger_rows(tmp_path / f"w{n}" / "data", "SELECT state FROM jobs WHERE job_id=?", (job_id,))
    return rows[0][0] if rows else None


def logs_of(tmp_path: Path) -> str:
    return "\n".join(
        f"--- worker {n}\n" + (tmp_path / f"w{n}" / "worker.log").read_text(errors="replace")[-3000:]
        for n in (HONEST, *LIARS, *FRESH)
        if (tmp_path / f"w{n}" / "worker.log").exists()
    )


def test_two_liars_lose_to_an_escalation_round_of_fresh_honest_workers(market: Market, tmp_path: Path):
    c, w3 = market.contracts, market.w3
    first_block = w3.eth.block_number
    address = {n: dev_account(n).address for n in (HONEST, *LIARS, *FRESH)}
    procs: dict[int, subprocess.Popen] = {}
    try:
        procs[HONEST] = start(market, tmp_path, HONEST, first_block)
        for n in LIARS:
            procs[n] = start(market, tmp_path, n, first_block, liar=True)
        assert wait_until(lambda: all(ready(tmp_path, n) for n in procs), timeout_s=60), logs_of(tmp_path)
        job_id = post(market, dev_account(2))
        round_zero = wait_until(lambda: c.get_job(job_id).claims == 3, timeout_s=30)
        assert round_zero, logs_of(tmp_path)
        assert set(c.claimants(job_id)) == {address[n] for n in (HONEST, *LIARS)}
        # round 0 is full: the fresh workers see the job but cannot take its slots
        for n in FRESH:
            procs[n] = start(market, tmp_path, n, first_block)
        settled = wait_until(lambda: c.get_job(job_id).phase.terminal, timeout_s=150, poll_s=1)
        assert settled, (c.get_job(job_id), state_of(tmp_path, HONEST, job_id), logs_of(tmp_path))
        honest = [n for n in (HONEST, *FRESH) if address[n] in c.claimants(job_id)]
        workers_done = wait_until(lambda: all(state_of(tmp_path, n, job_id) == "done" for n in honest), 30)
        assert workers_done, logs_of(tmp_path)
    finally:
        for proc in procs.values():
            stop_worker(proc)

    view = c.get_job(job_id)
    assert view.phase == Phase.COMPLETED and view.round == 1 and view.replicas == 5, view
    claimants = c.claimants(job_id)
    escalation_round = claimants[view.first_slot :]
    assert view.first_slot == 3 and set(escalation_round) <= {address[n] for n in FRESH}
    assert len(escalation_round) >= view.quorum

    events = job_events(market, job_id)
    names = [e.name for e in events]
    assert names.count("JobEscalated") == 1
    completed = next(e for e in events if e.name == "JobCompleted")
    honest_digest = bytes(
        ledger_rows(
            tmp_path / f"w{HONEST}" / "data", "SELECT result_digest FROM jobs WHERE job_id=?", (job_id,)
        )[0][0]
    )
    assert bytes(completed.args["result_digest"]) == honest_digest
    assert all(c.worker_entry(job_id, w).seal == honest_digest for w in escalation_round)
    for n in LIARS:
        entry = c.worker_entry(job_id, address[n])
        assert entry.revealed and entry.seal != honest_digest  # they did lie, and alike
    assert c.worker_entry(job_id, address[LIARS[0]]).seal == c.worker_entry(job_id, address[LIARS[1]]).seal

    slashes = [e for e in events if e.name == "OperatorSlashed"]
    assert {(e.args["operator"], SlashReason(e.args["reason"])) for e in slashes} == {
        (address[n], SlashReason.WRONG_RESULT) for n in LIARS
    }
    now = w3.eth.get_block("latest")["timestamp"]
    assert all(c.jailed_until(address[n]) > now for n in LIARS)

    paid = {e.args["worker"]: int(e.args["amount"]) for e in events if e.name == "WorkerPaid"}
    assert set(paid) == {address[HONEST], *escalation_round}
    assert c.bonded(address[HONEST]) == STAKE and c.free_stake(address[HONEST]) == STAKE
    pool = FEE - FEE * TEST_PARAMS["protocol_fee_bps"] // BPS
    share = pool // len(paid)
    bounty = sum(int(e.args["reward"]) for e in slashes)
    assert (
        bounty
        == 2
        * COLLATERAL
        * TEST_PARAMS["wrong_result_slash_bps"]
        // BPS
        * TEST_PARAMS["slash_reward_bps"]
        // BPS
    )
    bounty_share = bounty // len(escalation_round)
    for worker in escalation_round:
        assert paid[worker] >= share + bounty_share, (worker, paid[worker], share, bounty_share)
    assert sum(paid.values()) == pool + bounty  # the pool and the whole bounty, nothing more

    rows = ledger_rows(
        tmp_path / f"w{HONEST}" / "data",
        "SELECT state, outcome, paid, round FROM jobs WHERE job_id=?",
        (job_id,),
    )
    assert rows == [("done", "completed", str(paid[address[HONEST]]), 0)]
    history = ledger_rows(
        tmp_path / f"w{HONEST}" / "data", "SELECT to_state FROM job_history WHERE job_id=?", (job_id,)
    )
    assert ("escalated",) in history  # it waited for the final settlement, collateral locked
    for n in FRESH:
        if address[n] in escalation_round:
            rows = ledger_rows(
                tmp_path / f"w{n}" / "data", "SELECT state, paid, round FROM jobs WHERE job_id=?", (job_id,)
            )
            assert rows == [("done", str(paid[address[n]]), 1)]
    assert reverted_from(market, set(address.values()), first_block) == []
