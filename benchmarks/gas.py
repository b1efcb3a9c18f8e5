"""Gas of every Tessera operation and of whole job lifecycles, from real receipts on a real anvil.

    make bench-gas                      # prints the tables
    .venv/bin/python benchmarks/gas.py --results benchmarks/RESULTS.md   # also rewrites its `## Gas` section

The contracts are compiled by `ape compile` (the artifacts `ape run deploy` deploys) and deployed with
web3.py, with `scripts/params/default.json` (1-day epochs, so the whole run stays inside epoch 0 until the
final time jump). Every figure is a receipt's `gasUsed`: intrinsic cost, calldata and refunds included.

Steady state: a warm-up round (a 1-replica and a 3-replica job by the same requester and operators) runs
first in the same epoch, so the figures are for an operator's next job, not its first (the first job of
an epoch also creates the operator's and the epoch's work-point slots; that cold cost is printed too).
The requester has approved the registry once for the maximum amount, as dApps do.

Scaling: the same measured round runs with 10 staked operators and 10 earlier jobs, again after 9,990
more jobs are posted (10,000 earlier jobs), and again after 990 more operators stake (1,000 operators).
That state is built with real transactions, batched (automine off, one block per batch), in about a
minute.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path

from common import print_table  # benchmarks/ is on sys.path when this runs as a script
from eth_utils import keccak, to_checksum_address
from web3 import Web3

from offchain.chain.protocol import Phase
from offchain.deployment import deploy_and_wire
from offchain.devchain import free_port, running_chain

REPO = Path(__file__).resolve().parent.parent

TSR = 10**18
DAY = 86_400
MAX_UINT = 2**256 - 1
PARAMS = json.loads((REPO / "scripts" / "params" / "default.json").read_text())
SPEC_CID = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"  # CIDv0, 46 characters
RESULT_CID = "bafkreidgvpkjawlxz6sffxzwgooowe5yt7i6wsyg236mfoks77nywkptdq"  # CIDv1, 59 characters
FEE = 10 * TSR
COLLATERAL = 10 * TSR
WINDOW = 600
BULK_GAS = 1_000_000
OPERATORS_SMALL, OPERATORS_LARGE, JOBS_SMALL, JOBS_LARGE = 10, 1_000, 10, 10_000

# Targets (the gas issue) and anchors (shared/reference/protocol-anchors.md).
TARGET_LIFECYCLE_1, TARGET_EXTRA_REPLICA, TARGET_RATIO = 300_000, 110_000, 1.05
ANCHORS = [
    ("iExec PoCo nominal task, 1 worker", "matchOrders+initialize+contribute+reveal+finalize", 1_820_000),
    ("iExec PoCo, 3 workers", "nominal task + 2 × (contribute+reveal) ≈ 425k", 1_820_000 + 2 * 425_000),
    ("Chainlink Operator", "request 250,165 + fulfil 326,881 (Foundry test totals)", 577_046),
    ("Ritual Infernet", "create 142,471 + deliver 352,544 (Foundry test totals)", 495_015),
    ("ORA opML callback", "~1.66M, as issue 9 cites it", 1_660_000),
]
PEERS = [
    (ANCHORS[i][0].split(" PoCo")[0].split(" Operator")[0].split(" Infernet")[0], "", ANCHORS[i][2])
    for i in (0, 2, 3, 4)
]  # iExec 1 worker, Chainlink, Ritual, ORA


# ---------------------------------------------------------------- chain access
class Node:
    """web3 for single transactions and reads; raw JSON-RPC batches for building state quickly."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 300}))
        self.sent: list[str] = []  # hashes of the transactions sent one by one, in order

    def rpc(self, method: str, params: list | None = None):
        return self.batch([(method, params or [])])[0]

    def batch(self, calls: Sequence[tuple[str, list]]) -> list:
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        req = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=600) as resp:
            replies = sorted(json.loads(resp.read()), key=lambda r: r["id"])
        errors = [r["error"] for r in replies if "error" in r]
        if errors:
            raise RuntimeError(f"{len(errors)} of {len(calls)} calls failed, first: {errors[0]}")
        return [r["result"] for r in replies]

    def send(self, fn, sender: str) -> int:
        """Send one transaction (automine) and return its gasUsed; raise if it reverted."""
        tx_hash = fn.transact({"from": sender, "gas": 5_000_000})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.005)
        self.sent.append(tx_hash.to_0x_hex())
        if receipt.status != 1:
            raise RuntimeError(f"{fn.fn_name} from {sender} reverted")
        return int(receipt.gasUsed)

    def bulk(self, txs: Iterable[tuple[str, str, str]], chunk: int = 50) -> int:
        """Send many (sender, to, data) transactions with automine off, one block per chunk (small chunks:
        anvil's pool slows down quadratically with pending transactions); check them all."""
        started = time.perf_counter()
        txs = list(txs)
        senders = sorted({s for s, _, _ in txs})
        counts = self.batch([("eth_getTransactionCount", [s, "pending"]) for s in senders])
        nonces = {s: int(n, 16) for s, n in zip(senders, counts, strict=True)}
        self.rpc("evm_setAutomine", [False])
        hashes: list[str] = []
        try:
            for start in range(0, len(txs), chunk):
                calls = []
                for sender, to, data in txs[start : start + chunk]:
                    tx = {
                        "from": sender,
                        "to": to,
                        "data": data,
                        "gas": hex(BULK_GAS),
                        "nonce": hex(nonces[sender]),
                    }
                    nonces[sender] += 1
                    calls.append(("eth_sendTransaction", [tx]))
                hashes += self.batch(calls)
                self.rpc("anvil_mine", ["0x1"])
        finally:
            self.rpc("evm_setAutomine", [True])
        for start in range(0, len(hashes), chunk):
            receipts = self.batch([("eth_getTransactionReceipt", [h]) for h in hashes[start : start + chunk]])
            failed = [r for r in receipts if r is None or r["status"] != "0x1"]
            if failed:
                raise RuntimeError(f"{len(failed)} bulk transactions failed or were not mined")
        print(
            f"  (state: {len(hashes):,} transactions in {time.perf_counter() - started:.1f} s)",
            file=sys.stderr,
        )
        return len(hashes)

    def jump(self, seconds: int) -> None:
        self.rpc("evm_increaseTime", [seconds])
        self.rpc("evm_mine")


def address_of(label: str) -> str:
    return to_checksum_address(keccak(text=label)[:20])


def artifacts() -> dict:
    """The compiled contracts, as `ape run deploy` deploys them (forced: ape once kept a stale artifact)."""
    ape = Path(sys.executable).parent / "ape"
    subprocess.run([str(ape), "compile", "--force"], cwd=REPO, check=True, capture_output=True, text=True)
    return json.loads((REPO / ".build" / "__local__.json").read_text())["contractTypes"]


# ---------------------------------------------------------------- the protocol
class Tessera:
    def __init__(self, node: Node, types: dict, deployer: str) -> None:
        self.node, self.w3, self.deployer = node, node.w3, deployer
        w3 = self.w3

        class Backend:  # `offchain.deployment.DeployBackend` over the node's unlocked deployer account
            def deploy(self, name: str, args: tuple):
                ct = types[name]
                factory = w3.eth.contract(abi=ct["abi"], bytecode=ct["deploymentBytecode"]["bytecode"])
                tx_hash = factory.constructor(*args).transact({"from": deployer})
                receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.005)
                assert receipt.status == 1, name
                return w3.eth.contract(address=receipt.contractAddress, abi=ct["abi"])

            def address(self, contract) -> str:
                return contract.address

            def call(self, contract, function: str, args: tuple):
                return node.send(getattr(contract.functions, function)(*args), deployer)

        deployed = deploy_and_wire(Backend(), PARAMS, deployer).contracts
        self.token, self.staking = deployed["TesseraToken"], deployed["Staking"]
        self.emitter, self.registry = deployed["RewardEmitter"], deployed["JobRegistry"]

    # --- bulk state
    def stake_operators(self, operators: Sequence[str], amount: int = 1_000 * TSR) -> None:
        self.node.batch([("anvil_setBalance", [op, hex(10**20)]) for op in operators])
        token, staking = self.token.address, self.staking.address
        self.node.bulk(
            (self.deployer, token, self.token.encode_abi("transfer", [op, amount])) for op in operators
        )
        txs = []
        for op in operators:
            txs.append((op, token, self.token.encode_abi("approve", [staking, amount])))
            txs.append((op, staking, self.staking.encode_abi("register", [f"bafkrei-operator-{op}"])))
            txs.append((op, staking, self.staking.encode_abi("stake", [amount])))
        self.node.bulk(txs)

    def post_fillers(self, requester: str, until_job_count: int) -> int:
        n = until_job_count - self.registry.functions.job_count().call()
        data = self.registry.encode_abi(
            "post_job", [SPEC_CID, SPEC_DIGEST, FEE, 1, 1, COLLATERAL, WINDOW, WINDOW, WINDOW]
        )
        self.node.bulk([(requester, self.registry.address, data)] * n)
        assert self.registry.functions.job_count().call() == until_job_count
        return n

    # --- selection and time
    def now(self) -> int:
        return int(self.w3.eth.get_block("latest").timestamp)

    def until(self, timestamp: int) -> None:
        """Jump so that the next transaction's block is at or after `timestamp`."""
        if timestamp > self.now():
            self.node.jump(timestamp - self.now())

    def await_selection(self, job_id: int, workers: Sequence[str]) -> None:
        """Wait (jump time) until every one of `workers` passes the registry's selection for the job's
        current round: they claim only once `selected_at` has passed, as the worker does."""
        reg = self.registry.functions
        deadline = reg.get_job(job_id).call()[9]  # claim_deadline
        at = max(reg.selected_at(job_id, w).call() for w in workers)
        assert at < deadline, f"job {job_id}: a chosen worker is not selected before the claim deadline"
        self.until(at)

    # --- one job, every step measured
    def run_job(
        self,
        requester: str,
        workers: Sequence[str],
        fold: bool | str = False,
        merge: bool = False,
        results: Sequence[bytes] | None = None,
    ) -> dict[str, list[int]]:
        """``fold``: the last worker reveals with `reveal_and_finalize`, settling the job (no finalize);
        ``fold="all"``: every worker reveals with `reveal_and_finalize`, as the worker does.
        ``merge``: each worker claims and commits in one `claim_and_commit` transaction. Every worker
        claims once the registry's selection admits it (time jumps to its `selected_at`)."""
        reg, send = self.registry, self.node.send
        n = len(workers)
        gas: dict[str, list[int]] = {"post_job": [], "claim": [], "commit": [], "reveal": [], "finalize": []}
        post = reg.functions.post_job(
            SPEC_CID, SPEC_DIGEST, FEE, n, n // 2 + 1, COLLATERAL, WINDOW, WINDOW, WINDOW
        )
        gas["post_job"].append(send(post, requester))
        job_id = reg.functions.job_count().call()
        self.play_round(job_id, workers, gas, fold, merge, results)
        if not (fold or gas["finalize"]):
            gas["finalize"].append(send(reg.functions.finalize(job_id), requester))
        assert reg.functions.get_job(job_id).call()[1] == Phase.COMPLETED, "job did not complete"
        return gas

    def play_round(
        self,
        job_id: int,
        workers: Sequence[str],
        gas: dict[str, list[int]],
        fold: bool | str = False,
        merge: bool = False,
        results: Sequence[bytes] | None = None,
    ) -> None:
        """The current round's claims, commits and reveals (see `run_job`), gas appended to `gas`."""
        reg, send = self.registry, self.node.send
        self.await_selection(job_id, workers)
        result = hashlib.sha256(b"tessera benchmark result").digest()
        digests = list(results) if results else [result] * len(workers)
        if merge:
            gas.setdefault("claim_and_commit", [])
            for w, digest in zip(workers, digests, strict=True):
                commitment = reg.functions.commitment_for(job_id, w, digest, RESULT_CID, salt_of(w)).call()
                gas["claim_and_commit"].append(send(reg.functions.claim_and_commit(job_id, commitment), w))
        for w in [] if merge else workers:
            gas["claim"].append(send(reg.functions.claim(job_id), w))
        for w, digest in [] if merge else zip(workers, digests, strict=True):
            commitment = reg.functions.commitment_for(job_id, w, digest, RESULT_CID, salt_of(w)).call()
            gas["commit"].append(send(reg.functions.commit(job_id, commitment), w))
        plain = [] if fold == "all" else workers[:-1] if fold else workers
        for w, digest in zip(workers, digests, strict=True):
            if w in plain:
                gas["reveal"].append(send(reg.functions.reveal(job_id, digest, RESULT_CID, salt_of(w)), w))
            else:
                call = reg.functions.reveal_and_finalize(job_id, digest, RESULT_CID, salt_of(w))
                gas.setdefault("reveal_and_finalize", []).append(send(call, w))

    def run_escalated_job(self, requester: str, first: Sequence[str], second: Sequence[str]) -> dict:
        """A 3-replica job whose last worker reveals another digest (the worker's flow: claim, commit,
        `reveal_and_finalize`); at the reveal deadline `finalize` escalates it to 5 fresh replicas
        (`second`), who agree; the last one's `reveal_and_finalize` settles: the liar slashed, half of its
        slash paid to the new round. Returns gas by round and step."""
        reg, send = self.registry, self.node.send
        gas0: dict[str, list[int]] = {"post_job": [], "claim": [], "commit": [], "reveal": [], "finalize": []}
        post = reg.functions.post_job(SPEC_CID, SPEC_DIGEST, FEE, 3, 2, COLLATERAL, WINDOW, WINDOW, WINDOW)
        gas0["post_job"].append(send(post, requester))
        job_id = reg.functions.job_count().call()
        result = hashlib.sha256(b"tessera benchmark result").digest()
        lie = hashlib.sha256(b"a wrong result").digest()
        self.play_round(job_id, first, gas0, fold="all", results=[result, result, lie])
        self.until(reg.functions.get_job(job_id).call()[11])  # reveal_deadline
        gas0["finalize"].append(send(reg.functions.finalize(job_id), requester))
        view = reg.functions.get_job(job_id).call()
        assert (view[12], view[4]) == (1, 5), f"job {job_id} did not escalate to 5 replicas: {view}"
        gas1: dict[str, list[int]] = {"claim": [], "commit": [], "reveal": [], "finalize": []}
        self.play_round(job_id, second, gas1, fold="all")
        assert reg.functions.get_job(job_id).call()[1] == Phase.COMPLETED, "escalated job did not complete"
        return {"round 0": gas0, "round 1": gas1}

    def run_optimistic_job(self, requester: str, worker: str) -> dict[str, list[int]]:
        """An optimistic job nobody challenges (the worker's flow): `post_job_optimistic`, claim, commit,
        a `reveal_and_finalize` that cannot settle it, then `finalize` once the challenge window closed."""
        reg, send = self.registry, self.node.send
        gas: dict[str, list[int]] = {"post_job": [], "claim": [], "commit": [], "reveal": [], "finalize": []}
        post = reg.functions.post_job_optimistic(
            SPEC_CID, SPEC_DIGEST, FEE, COLLATERAL, WINDOW, WINDOW, WINDOW
        )
        gas["post_job"].append(send(post, requester))
        job_id = reg.functions.job_count().call()
        self.play_round(job_id, [worker], gas, fold="all")
        settled = reg.functions.get_job(job_id).call()[1] == Phase.COMPLETED
        assert not settled, "the optimistic job settled inside its challenge window"
        self.until(reg.functions.get_job(job_id).call()[11])  # reveal_deadline: the window closes
        gas["finalize"].append(send(reg.functions.finalize(job_id), requester))
        assert reg.functions.get_job(job_id).call()[1] == Phase.COMPLETED, "optimistic job did not complete"
        return gas


SPEC_DIGEST = hashlib.sha256(b"tessera benchmark spec").digest()


def salt_of(worker: str) -> bytes:
    return hashlib.sha256(b"salt" + bytes.fromhex(worker[2:])).digest()


def total(gas: dict[str, list[int]]) -> int:
    return sum(sum(v) for v in gas.values())


# ---------------------------------------------------------------- the benchmark
def measure() -> dict:
    types = artifacts()
    args = ["--disable-block-gas-limit"]
    with running_chain(port=free_port(), extra_args=args) as chain:
        node = Node(chain.rpc_url)
        node.rpc("anvil_autoImpersonateAccount", [True])
        hardfork = node.rpc("anvil_nodeInfo").get("hardFork", "?")
        client = node.rpc("web3_clientVersion")
        deployer, requester, stranger = node.w3.eth.accounts[:3]
        t = Tessera(node, types, deployer)
        send = node.send
        ops: dict[str, tuple[int, str]] = {}

        send(t.token.functions.transfer(requester, 10_000_000 * TSR), deployer)
        approve = send(t.token.functions.approve(t.registry.address, MAX_UINT), requester)
        ops["approve (requester, once)"] = (approve, "TSR approval of the registry for the maximum amount")

        operators = [address_of(f"tessera-operator-{i}") for i in range(OPERATORS_LARGE)]
        t.stake_operators(operators[: OPERATORS_SMALL - 1])
        # the 10th operator goes step by step: register and stake are measured
        newcomer = operators[OPERATORS_SMALL - 1]
        node.rpc("anvil_setBalance", [newcomer, hex(10**20)])
        send(t.token.functions.transfer(newcomer, 1_000 * TSR), deployer)
        send(t.token.functions.approve(t.staking.address, 1_000 * TSR), newcomer)
        ops["register"] = (
            send(t.staking.functions.register(f"bafkrei-operator-{newcomer}"), newcomer),
            "first registration, 59-character metadata CID",
        )
        ops["stake"] = (send(t.staking.functions.stake(1_000 * TSR), newcomer), "first stake of an operator")

        one, three = operators[:1], operators[1:4]
        cold = {"1": t.run_job(requester, one), "3": t.run_job(requester, three)}  # warm-up round
        t.post_fillers(requester, JOBS_SMALL)

        rounds: dict[str, dict[str, dict[str, list[int]]]] = {}
        rounds["A"] = {"1": t.run_job(requester, one), "3": t.run_job(requester, three)}
        rounds["A"]["1f"] = t.run_job(requester, one, fold=True)
        rounds["A"]["3f"] = t.run_job(requester, three, fold=True)
        rounds["A"]["1c"] = t.run_job(requester, one, fold=True, merge=True)
        rounds["A"]["3c"] = t.run_job(requester, three, fold=True, merge=True)
        # the worker's flow: claim, commit, and every reveal a `reveal_and_finalize`
        rounds["A"]["1w"] = t.run_job(requester, one, fold="all")
        rounds["A"]["3w"] = t.run_job(requester, three, fold="all")

        # escalated: 3 replicas, the third lies; 5 fresh replicas decide. A warm-up job first (its liar is
        # jailed, so each job has its own), then the measured one; the new round's workers have worked
        # this epoch by then, as in the rest of the steady state.
        fresh = [operators[0], operators[3], *operators[4:7]]
        t.run_escalated_job(requester, [three[0], three[1], operators[7]], fresh)
        escalated = t.run_escalated_job(requester, [three[0], three[1], operators[8]], fresh)
        optimistic = t.run_optimistic_job(requester, one[0])

        # cancel and expire, steady state (the registry and the requester keep non-zero balances)
        post = t.registry.functions.post_job(
            SPEC_CID, SPEC_DIGEST, FEE, 1, 1, COLLATERAL, WINDOW, WINDOW, WINDOW
        )
        send(post, requester)
        ops["cancel"] = (
            send(t.registry.functions.cancel(t.registry.functions.job_count().call()), requester),
            "requester withdraws an unclaimed job; fee refunded",
        )
        short = t.registry.functions.post_job(
            SPEC_CID, SPEC_DIGEST, FEE, 1, 1, COLLATERAL, 30, WINDOW, WINDOW
        )
        send(short, requester)
        node.jump(31)
        ops["expire"] = (
            send(t.registry.functions.expire(t.registry.functions.job_count().call()), stranger),
            "anyone, after a claim window with no claims; fee refunded",
        )

        # unbonding: three operators queue an unstake; the second request and withdrawal are measured
        unbonders = operators[4:7]
        send(t.staking.functions.request_unstake(100 * TSR), unbonders[0])
        ops["request_unstake"] = (
            send(t.staking.functions.request_unstake(100 * TSR), unbonders[1]),
            "fills one of 8 lock slots",
        )
        send(t.staking.functions.request_unstake(100 * TSR), unbonders[2])

        jobs_filled = t.post_fillers(requester, JOBS_LARGE)
        rounds["B"] = {"1": t.run_job(requester, one), "3": t.run_job(requester, three)}
        t.stake_operators(operators[OPERATORS_SMALL:])
        assert t.staking.functions.total_bonded().call() >= (OPERATORS_LARGE - 3) * 900 * TSR
        # With 1,000 equal stakes, factor 2 selects an operator for a 1-replica job with probability
        # 2/1,000 at opening and 32/1,000 by the deadline: the measured operators would mostly never be
        # selected. Governance raises the factor to its maximum (64: 1.02 by the deadline) so the same
        # operators run the same jobs; the selection check costs the same whatever the factor.
        send(t.registry.functions.set_selection_factor(64), deployer)
        rounds["C"] = {"1": t.run_job(requester, one), "3": t.run_job(requester, three)}

        # after the unbonding period (7 days; epoch 0 has ended too)
        node.jump(PARAMS["unbonding_period"] + 1)
        send(t.staking.functions.withdraw(0), unbonders[0])
        ops["withdraw"] = (send(t.staking.functions.withdraw(0), unbonders[1]), "after the unbonding period")
        send(t.emitter.functions.claim([0]), three[0])
        ops["emitter claim"] = (
            send(t.emitter.functions.claim([0]), three[1]),
            "one ended epoch; mints the operator's share",
        )

    meta = {"hardfork": hardfork, "fillers": jobs_filled, "client": client}
    return {
        "ops": ops,
        "cold": cold,
        "rounds": rounds,
        "escalated": escalated,
        "optimistic": optimistic,
        "meta": meta,
    }


def tables(m: dict) -> str:
    ops, cold, rounds = m["ops"], m["cold"], m["rounds"]
    a = rounds["A"]
    out = []

    rows = []
    for step in ("post_job", "claim", "commit", "reveal", "finalize"):
        rows.append(
            [step, a["1"][step][0], a["3"][step][0], "" if step in ("post_job", "finalize") else "per worker"]
        )
    rows += [[name, gas, "", note] for name, (gas, note) in ops.items()]
    out.append(
        print_table(
            "Gas per operation (steady state, 10 operators, 10 earlier jobs)",
            ["operation", "gas (1-replica job)", "gas (3-replica job)", "notes"],
            rows,
        )
    )

    one, three = total(a["1"]), total(a["3"])
    extra = (three - one) / 2
    ok = lambda value, target: "yes" if value <= target else "NO"  # noqa: E731
    rows = []
    for step in ("post_job", "claim", "commit", "reveal", "finalize"):
        rows.append([step, sum(a["1"][step]), sum(a["3"][step]), ""])
    rows.append(
        [
            "**whole lifecycle**",
            one,
            three,
            f"1 replica ≤ {TARGET_LIFECYCLE_1:,}: {ok(one, TARGET_LIFECYCLE_1)}",
        ]
    )
    rows.append(
        [
            "per extra replica",
            "",
            int(extra),
            f"≤ {TARGET_EXTRA_REPLICA:,}: {ok(extra, TARGET_EXTRA_REPLICA)}",
        ]
    )
    rows.append(
        ["first job of a fresh deployment (cold)", total(cold["1"]), total(cold["3"]), "warm-up round"]
    )
    out.append(
        print_table(
            "Job lifecycle (post + claims + commits + reveals + finalize)",
            ["step", "1 replica", "3 replicas", "target"],
            rows,
        )
    )

    rows = []
    for label, key, base, other, what in (
        (
            "claim",
            "claim",
            "A",
            "B",
            f"{JOBS_SMALL} vs {JOBS_LARGE:,} earlier jobs ({OPERATORS_SMALL} operators)",
        ),
        ("finalize (1 replica)", "finalize", "A", "B", f"{JOBS_SMALL} vs {JOBS_LARGE:,} earlier jobs"),
        ("finalize (3 replicas)", "finalize", "A", "B", f"{JOBS_SMALL} vs {JOBS_LARGE:,} earlier jobs"),
        ("claim", "claim", "B", "C", f"{OPERATORS_SMALL} vs {OPERATORS_LARGE:,} staked operators"),
        (
            "finalize (1 replica)",
            "finalize",
            "B",
            "C",
            f"{OPERATORS_SMALL} vs {OPERATORS_LARGE:,} staked operators",
        ),
        (
            "finalize (3 replicas)",
            "finalize",
            "B",
            "C",
            f"{OPERATORS_SMALL} vs {OPERATORS_LARGE:,} staked operators",
        ),
    ):
        size = "3" if "3 replicas" in label else "1"
        g0, g1 = rounds[base][size][key][0], rounds[other][size][key][0]
        ratio = g1 / g0
        rows.append([label, what, g0, g1, f"{ratio:.4f}", ok(ratio, TARGET_RATIO)])
    out.append(
        print_table(
            "Scaling (same job, same operators, more state)",
            ["operation", "comparison", "gas (small)", "gas (large)", "ratio", "≤ 1.05"],
            rows,
        )
    )

    one_f, three_f = total(rounds["A"]["1f"]), total(rounds["A"]["3f"])
    one_c, three_c = total(rounds["A"]["1c"]), total(rounds["A"]["3c"])
    rows = [
        ["Tessera, 1 replica", "post+claim+commit+reveal+finalize", one, "1.00", ""],
        ["Tessera, 3 replicas", "same, 3 workers, quorum 2", three, "", "1.00"],
        [
            "Tessera, 1 replica, folded",
            "post+claim+commit+reveal_and_finalize",
            one_f,
            f"{one_f / one:.2f}",
            "",
        ],
        [
            "Tessera, 1 replica, compact",
            "post+claim_and_commit+reveal_and_finalize",
            one_c,
            f"{one_c / one:.2f}",
            "",
        ],
        [
            "Tessera, 3 replicas, compact",
            "same, 3 workers; claim+commit merged, last reveal settles",
            three_c,
            "",
            f"{three_c / three:.2f}",
        ],
        [
            "Tessera, 3 replicas, folded",
            "same, 3 workers; the last reveal settles",
            three_f,
            "",
            f"{three_f / three:.2f}",
        ],
    ]
    one_w, three_w, esc = total(a["1w"]), total(a["3w"]), escalated_total(m["escalated"])
    rows += [
        [
            "**Tessera, 1 replica, worker**",
            "post+claim+commit+reveal_and_finalize (unchecked)",
            one_w,
            f"{one_w / one:.2f}",
            "",
        ],
        [
            "**Tessera, 3 replicas, worker**",
            "same, 3 workers, quorum 2; each reveal a reveal_and_finalize",
            three_w,
            "",
            f"{three_w / three:.2f}",
        ],
        [
            "**Tessera, escalated, worker**",
            "3 replicas disputed, finalize escalates, 5 fresh replicas decide",
            esc,
            "",
            f"{esc / three:.2f}",
        ],
    ]
    for system, flow, gas in ANCHORS:
        rows.append([system, flow, gas, f"{one / gas:.2f}", f"{three / gas:.2f}"])
    out.append(
        print_table(
            "Reference points (ours / theirs)",
            ["system", "flow", "gas", "Tessera 1-replica / theirs", "Tessera 3-replica / theirs"],
            rows,
        )
    )

    rows = []
    levels = (
        ("1 replica, unchecked", a["1w"]),
        ("optimistic, unchallenged", m["optimistic"]),
        ("3 replicas, quorum 2", a["3w"]),
    )
    for label, gas in levels:
        rows.append([label, total(gas)] + [f"{(total(gas) / peer):.2f}" for _, _, peer in PEERS])
    rows.append(["escalated (3 disputed, then 5)", esc] + [f"{esc / peer:.2f}" for _, _, peer in PEERS])
    out.append(
        print_table(
            "Gas per verified result, by verification level (the worker's flow; ours / theirs)",
            ["level", "gas", *[name for name, _, _ in PEERS]],
            rows,
        )
    )

    e = m["escalated"]
    rows = []
    for rnd, steps in e.items():
        for step, values in steps.items():
            if values:
                rows.append([rnd, step, len(values), sum(values)])
    rows.append(["**whole job**", "", sum(len(v) for st in e.values() for v in st.values()), esc])
    out.append(
        print_table(
            "Escalated job (3 replicas, one reveals another digest; 5 fresh replicas agree)",
            ["round", "step", "transactions", "gas"],
            rows,
        )
    )
    return "\n".join(out)


def escalated_total(e: dict) -> int:
    return sum(total(steps) for steps in e.values())


# ---------------------------------------------------------------- where the gas goes
CALL_OPS = {"CALL", "STATICCALL", "DELEGATECALL", "CALLCODE"}
ACCESS_OPS = {"EXTCODESIZE", "EXTCODEHASH", "EXTCODECOPY", "BALANCE"}  # account access before a call


def own_costs(logs: list[dict]) -> list[int]:
    """Each step's own gas: for a call, the access and memory cost without what the callee spent."""
    n = len(logs)
    own = [0] * n
    calls: list[tuple[int, int]] = []
    for i, step in enumerate(logs):
        nxt = logs[i + 1] if i + 1 < n else None
        if nxt is None or nxt["depth"] < step["depth"]:
            own[i] = step["gasCost"]  # the frame's last step
        elif nxt["depth"] == step["depth"]:
            own[i] = step["gas"] - nxt["gas"]
        else:
            j = next(k for k in range(i + 1, n) if logs[k]["depth"] == step["depth"])
            calls.append((i, j))
    for i, j in sorted(calls, key=lambda c: -logs[c[0]]["depth"]):  # innermost first
        own[i] = logs[i]["gas"] - logs[j]["gas"] - sum(own[i + 1 : j])
    return own


def trace_gas(node: Node, tx_hash: str, names: dict[str, str]) -> dict:
    """Split one transaction's gasUsed: intrinsic (21,000 + calldata), SSTORE, SLOAD, external calls,
    LOG, other execution, refund; and its SSTORE gas per contract. Needs anvil --steps-tracing."""
    tx = node.w3.eth.get_transaction(tx_hash)
    used = int(node.w3.eth.get_transaction_receipt(tx_hash).gasUsed)
    logs = node.rpc("debug_traceTransaction", [tx_hash, {"disableMemory": True, "disableStorage": True}])[
        "structLogs"
    ]
    own = own_costs(logs)
    cats = {"SSTORE": 0, "SLOAD": 0, "calls": 0, "LOG": 0, "other": 0}
    counts = {"SSTORE": 0, "SLOAD": 0, "calls": 0}
    fresh = 0  # SSTOREs that turn a zero slot non-zero (20,000 gas, plus 2,100 if cold)
    writes: dict[str, int] = {}
    frame = {1: names.get(tx["to"].lower(), tx["to"])}
    for i, step in enumerate(logs):
        op, cost, depth = step["op"], own[i], step["depth"]
        if op in CALL_OPS and i + 1 < len(logs) and logs[i + 1]["depth"] > depth:
            target = "0x" + step["stack"][-2][2:].rjust(40, "0")[-40:]
            frame[depth + 1] = names.get(target.lower(), target)
        if op == "SSTORE":
            cats["SSTORE"] += cost
            counts["SSTORE"] += 1
            fresh += cost >= 20_000
            writes[frame[depth]] = writes.get(frame[depth], 0) + cost
        elif op == "SLOAD":
            cats["SLOAD"] += cost
            counts["SLOAD"] += 1
        elif op in CALL_OPS:
            cats["calls"] += cost
            counts["calls"] += 1
        elif op in ACCESS_OPS:
            cats["calls"] += cost
        elif op.startswith("LOG"):
            cats["LOG"] += cost
        else:
            cats["other"] += cost
    intrinsic = int(tx["gas"]) - logs[0]["gas"]
    refund = intrinsic + sum(own) - used
    return {
        "used": used,
        "intrinsic": intrinsic,
        **cats,
        "refund": refund,
        "counts": counts,
        "writes": writes,
        "fresh": fresh,
    }


def breakdown(types: dict) -> dict:
    """Trace the steady-state 1-replica job and the 3-replica finalize on a small chain with step tracing."""
    with running_chain(port=free_port(), extra_args=["--steps-tracing"]) as chain:
        node = Node(chain.rpc_url)
        node.rpc("anvil_autoImpersonateAccount", [True])
        deployer, requester = node.w3.eth.accounts[:2]
        t = Tessera(node, types, deployer)
        node.send(t.token.functions.transfer(requester, 10_000_000 * TSR), deployer)
        node.send(t.token.functions.approve(t.registry.address, MAX_UINT), requester)
        operators = [address_of(f"tessera-operator-{i}") for i in range(4)]
        t.stake_operators(operators)
        t.post_fillers(requester, 1)  # an open job keeps escrow in the registry, as in the measured run
        t.run_job(requester, operators[:1])
        t.run_job(requester, operators[1:])
        names = {
            c.address.lower(): n
            for c, n in (
                (t.token, "TesseraToken"),
                (t.staking, "Staking"),
                (t.emitter, "RewardEmitter"),
                (t.registry, "JobRegistry"),
            )
        }
        mark = len(node.sent)
        t.run_job(requester, operators[:1])
        steps = ["post_job", "claim", "commit", "reveal", "finalize"]
        traced = {step: trace_gas(node, h, names) for step, h in zip(steps, node.sent[mark:], strict=True)}
        t.run_job(requester, operators[1:])
        traced["finalize, 3 replicas"] = trace_gas(node, node.sent[-1], names)
    return traced


def breakdown_tables(traced: dict) -> str:
    def cell(step: dict, key: str) -> str:
        n = step["counts"].get(key)
        return f"{step[key]:,}" + (f" ({n})" if n is not None else "")

    rows = []
    for label, step in traced.items():
        rows.append(
            [
                label,
                step["used"],
                f"{step['intrinsic']:,}",
                cell(step, "SSTORE"),
                cell(step, "SLOAD"),
                cell(step, "calls"),
                f"{step['LOG']:,}",
                f"{step['other']:,}",
                f"-{step['refund']:,}",
            ]
        )
    one = [traced[k] for k in ("post_job", "claim", "commit", "reveal", "finalize")]
    rows.append(
        ["**1-replica lifecycle**", sum(s["used"] for s in one)]
        + [f"{sum(s[k] for s in one):,}" for k in ("intrinsic", "SSTORE", "SLOAD", "calls", "LOG", "other")]
        + [f"-{sum(s['refund'] for s in one):,}"]
    )
    text = print_table(
        "Where the gas goes (steady state; (n) = count of SSTORE / SLOAD / external calls; external calls "
        "include the callee's account access, not what the callee spends)",
        [
            "transaction",
            "gasUsed",
            "intrinsic + calldata",
            "SSTORE",
            "SLOAD",
            "external calls",
            "LOG",
            "other",
            "refund",
        ],
        rows,
    )
    contracts = ["JobRegistry", "Staking", "TesseraToken", "RewardEmitter"]
    rows = [[label] + [f"{step['writes'].get(c, 0):,}" for c in contracts] for label, step in traced.items()]
    text += "\n" + print_table("SSTORE gas by contract", ["transaction", *contracts], rows)
    return text


def findings(m: dict, traced: dict) -> str:
    """A few sentences computed from the figures: targets, and which calls and costs dominate."""
    a = m["rounds"]["A"]
    one, three = total(a["1"]), total(a["3"])
    extra = (three - one) // 2
    one_f, three_f = total(a["1f"]), total(a["3f"])
    extra_f = (three_f - one_f) // 2
    one_c, three_c = total(a["1c"]), total(a["3c"])
    extra_c = (three_c - one_c) // 2
    ratios = [
        rounds_b[size][op][0] / rounds_a[size][op][0]
        for rounds_a, rounds_b in ((m["rounds"]["A"], m["rounds"]["B"]), (m["rounds"]["B"], m["rounds"]["C"]))
        for size in ("1", "3")
        for op in ("claim", "finalize")
    ]
    steps = [traced[k] for k in ("post_job", "claim", "commit", "reveal", "finalize")]
    used = sum(s["used"] for s in steps)
    share = {k: sum(s[k] for s in steps) for k in ("intrinsic", "SSTORE", "SLOAD")}
    fresh = sum(s["fresh"] for s in steps)
    order = sorted(("post_job", "claim", "commit", "reveal", "finalize"), key=lambda k: -traced[k]["used"])
    fin = traced["finalize"]

    def verdict(value: float, target: float) -> str:
        return "met" if value <= target else f"missed by {value - target:,.0f}"

    one_w, three_w = total(a["1w"]), total(a["3w"])
    extra_w = (three_w - one_w) // 2
    esc = escalated_total(m["escalated"])
    e0, e1 = m["escalated"]["round 0"], m["escalated"]["round 1"]
    escalating_finalize = e0["finalize"][0]
    claim = a["1"]["claim"][0]
    n_escalated = sum(len(v) for steps in m["escalated"].values() for v in steps.values())

    worst = max(ratios)
    costliest = ", ".join(f"{k} {traced[k]['used']:,}" for k in order[:3])
    lines = [
        f"- The worker's flow (claim, commit, and every reveal a `reveal_and_finalize`, the last one "
        f"settling): 1-replica lifecycle {one_w:,} gas, target {TARGET_LIFECYCLE_1:,} "
        f"{verdict(one_w, TARGET_LIFECYCLE_1)}; each extra replica {extra_w:,}, target "
        f"{TARGET_EXTRA_REPLICA:,} {verdict(extra_w, TARGET_EXTRA_REPLICA)}. Gas per verified result: "
        f"{one_w:,} (1 replica, unchecked), {total(m['optimistic']):,} (optimistic, unchallenged: its "
        f"`finalize` after the window is one more transaction), {three_w:,} (3 replicas, quorum 2), "
        f"{esc:,} (escalated: 3 "
        f"replicas disputed, then 5 fresh ones; {n_escalated} "
        f"transactions), against iExec 1,820,000, Chainlink 577,046, Ritual 495,015 and ORA opML ~1,660,000.",
        f"- Escalation: the escalating `finalize` costs {escalating_finalize:,}; the new round "
        f"{total(e1):,} for 5 replicas (the settling reveal pays the 7 agreeing workers of both "
        f"rounds and slashes the liar, half of its slash "
        f"to the new round). Round 0 cost {total(e0) - escalating_finalize:,}, as a 3-replica job does.",
        f"- Why the worker's flow misses the targets: a replica is three transactions (claim, commit, "
        f"reveal: 63,000 of intrinsic cost alone) that write a claimant slot and a seal slot (22,100 each "
        f"when new), and the settling call pays and unlocks every replica; the non-last reveals, sent as "
        f"`reveal_and_finalize` so that whichever is last settles, cost "
        f"{(three_w - total(a['3f'])) // 2:+,} each against a plain `reveal`.",
        f"- A claim costs {claim:,}: it now also passes stake-weighted selection (a staticcall to "
        f"`Staking.stake_share`, a keccak256 ticket and the threshold arithmetic: "
        f"{claim - 75_805:+,} gas against the first-come claim of commit 6012b19, 75,805).",
        f"- 1-replica lifecycle {one:,} gas: target {TARGET_LIFECYCLE_1:,} "
        f"{verdict(one, TARGET_LIFECYCLE_1)}. Each extra replica {extra:,}: target "
        f"{TARGET_EXTRA_REPLICA:,} {verdict(extra, TARGET_EXTRA_REPLICA)}. Scaling ratios at most "
        f"{worst:.4f}: target {TARGET_RATIO} {verdict(worst, TARGET_RATIO)}.",
        f"- Of the 1-replica lifecycle, the five transactions' intrinsic cost and calldata take "
        f"{share['intrinsic']:,} ({share['intrinsic'] / used:.0%}), storage writes {share['SSTORE']:,} "
        f"({share['SSTORE'] / used:.0%}; {fresh} of them create a slot, at least 20,000 each) and "
        f"storage reads {share['SLOAD']:,} ({share['SLOAD'] / used:.0%}).",
        f"- The costliest calls: {costliest}. finalize spends {fin['SLOAD']:,} on "
        f"{fin['counts']['SLOAD']} storage reads for one replica "
        f"({traced['finalize, 3 replicas']['counts']['SLOAD']} for three).",
        f"- An extra replica costs a claim, a commit and a reveal transaction (each at least 21,000 before "
        f"execution) plus {(traced['finalize, 3 replicas']['used'] - fin['used']) // 2:,} more in finalize.",
        f"- Folded (the last revealer calls `reveal_and_finalize`, no finalize transaction): 1-replica "
        f"lifecycle {one_f:,} gas, target {TARGET_LIFECYCLE_1:,} {verdict(one_f, TARGET_LIFECYCLE_1)}; "
        f"each extra replica {extra_f:,}, target {TARGET_EXTRA_REPLICA:,} "
        f"{verdict(extra_f, TARGET_EXTRA_REPLICA)}. "
        f"Gas per verified result: {one_f:,} (1 replica, unchecked), {three_f:,} (3 replicas, quorum 2).",
        f"- Compact (each worker sends `claim_and_commit`, the last revealer `reveal_and_finalize`): "
        f"1-replica lifecycle {one_c:,} gas, target {TARGET_LIFECYCLE_1:,} "
        f"{verdict(one_c, TARGET_LIFECYCLE_1)}; each extra replica {extra_c:,}, target "
        f"{TARGET_EXTRA_REPLICA:,} {verdict(extra_c, TARGET_EXTRA_REPLICA)}. Gas per verified result: "
        f"{one_c:,} (1 replica, unchecked), {three_c:,} (3 replicas, quorum 2).",
        "- Not yet lower: each replica still sends two transactions (at least 21,000 each) and creates two "
        "slots (claimant and seal, 22,100 each), and a job creates two (its packed words); the worker does "
        "not use the merged calls yet (it claims before it computes). Next: a claim that is the commitment "
        "itself, and batching several jobs' reveals in one transaction (issue 9, phase 4).",
    ]
    return "### Findings\n\n" + "\n".join(lines) + "\n"


def write_results(path: Path, text: str, meta: dict) -> None:
    """Replace the `## Gas` section of `path` (other sections are kept), creating the file if needed."""
    section = (
        "## Gas\n\n"
        f"Measured {dt.date.today().isoformat()} on {meta['client']} (hardfork {meta['hardfork']}), "
        "vyper 0.4.3 as compiled by `ape compile`, parameters `scripts/params/default.json`. Every figure "
        "is a receipt's `gasUsed` (intrinsic cost, calldata and refunds included). Steady state: measured "
        "after a warm-up round in the same epoch (1-day epochs); the requester approved the registry once "
        "for the maximum amount. Selection: the registry's default factor (2); a worker claims once "
        "`selected_at` has passed (the benchmark jumps time to it), and no job has more than 5 replicas "
        "in a round. For the 1,000-operator scaling rows governance sets the factor to 64 first, so the "
        "same operators are selected (a claim's selection check costs the same whatever the factor).\n\n"
        "Reproduce: `make bench-gas` (prints these tables; about two and a half minutes), or "
        "`.venv/bin/python benchmarks/gas.py --results benchmarks/RESULTS.md` to rewrite this section.\n\n"
        f"{text.rstrip()}\n"
    )
    old = path.read_text() if path.exists() else "# Benchmark results\n"
    if re.search(r"(?m)^## Gas\s*$", old):
        new = re.sub(r"(?ms)^## Gas\s*$.*?(?=^## |\Z)", section + "\n", old, count=1)
    else:
        new = old.rstrip() + "\n\n" + section
    path.write_text(new.rstrip() + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--results", type=Path, help="also rewrite the `## Gas` section of this Markdown file"
    )
    args = parser.parse_args(argv)
    m = measure()
    traced = breakdown(artifacts())
    text = findings(m, traced) + "\n" + tables(m) + "\n" + breakdown_tables(traced)
    print(findings(m, traced))
    if args.results:
        write_results(args.results, text, m["meta"])
        print(f"wrote the Gas section of {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
