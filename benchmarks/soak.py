"""Soak: 3 workers against anvil for a bounded time with random faults, jobs posted continuously.

    .venv/bin/python benchmarks/soak.py --minutes 10        # what `make soak` runs
    .venv/bin/python benchmarks/soak.py --minutes 1 --seed 7

Setup: one anvil mining a block a second, the contracts deployed with the worker tests' helpers, three
staked operators each running the real worker (`python -m offchain.worker`) in a subprocess behind its
own loopback JSON-RPC proxy (`tests/faults/rpc_proxy.py`). A requester posts a small matmul job (3
replicas, quorum 2, windows of 30 s) every ``--post-every`` seconds. Every ``--fault-every`` seconds one
fault is switched on at random: for one worker's proxy, dropped answers after a raw transaction, 429,
500 or truncated JSON for a while; or a SIGKILL of one worker, restarted at once from its ledger.

After the run, posting stops, the workers get ``--drain`` seconds to settle what they hold, jobs past
their deadlines that no one settled are finalized or expired by the soak (anyone may), and it prints:
jobs posted, completed, failed by cause (the phase the job ended in), duplicates (a second
ResultCommitted or ResultRevealed for one (job, worker): must be 0), lost (a claim by one of our
workers without its reveal on a job that ended: must be 0), and faults injected by kind.
Exit status 1 when duplicates or lost are not 0.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for tests.support and tests.faults

from web3 import Web3  # noqa: E402

from offchain.chain.bindings import Phase, Tessera  # noqa: E402
from offchain.chain.manifest import load_manifest  # noqa: E402
from offchain.compute.spec import canonical_spec_bytes, parse_spec  # noqa: E402
from offchain.devchain import running_chain  # noqa: E402
from offchain.ipfs import LocalBlockStore  # noqa: E402
from tests.faults.conftest import start_worker, stop_worker, worker_env  # noqa: E402
from tests.faults.rpc_proxy import Fault, RpcProxy  # noqa: E402
from tests.support.chain import TSR, dev_account, rpc, transact  # noqa: E402
from tests.support.contracts import compile_artifacts, deploy_tessera  # noqa: E402
from tests.support.market import Market  # noqa: E402

OPERATORS = (3, 4, 5)  # dev account indices
REQUESTER = 2
STAKE = 1_000 * TSR
FEE = TSR
COLLATERAL = 10 * TSR
WINDOW_S = 30
PROXY_FAULTS = {
    "drop_after_send": lambda: Fault(
        "drop", every=2, methods=frozenset({"eth_sendRawTransaction"}), after=True
    ),
    "http_429": lambda: Fault("http_429", every=3, retry_after_s=0.2),
    "http_500": lambda: Fault("http_500", every=4),
    "truncated_json": lambda: Fault("truncate", every=5, after=True),
}


def spec(seed: int) -> dict:
    return {
        "version": 1,
        "workload": {"name": "matmul", "n": 8, "seed": seed},
        "resources": {"max_runtime_s": 10},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=None)
    # every job starts a fresh workload child in each of the 3 workers (~2.6 s of CPU for the interpreter
    # and torch import): a post every 4 s keeps 2 cores saturated, and jobs then miss deadlines for
    # capacity, not because of a fault; 6 s leaves headroom on 2 cores
    ap.add_argument("--post-every", type=float, default=6.0)
    ap.add_argument("--fault-every", type=float, default=8.0)
    ap.add_argument("--fault-for", type=float, default=5.0, help="seconds a proxy fault stays on")
    ap.add_argument("--drain", type=float, default=150.0)
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rnd = random.Random(seed)
    print(f"soak: {args.minutes:g} min, 3 workers, seed {seed}", flush=True)

    tmp = Path(tempfile.mkdtemp(prefix="tessera-soak-"))
    governance, requester = dev_account(0), dev_account(REQUESTER)
    faults: Counter[str] = Counter()
    posted: list[int] = []
    with running_chain() as chain:
        w3 = Web3(Web3.HTTPProvider(chain.rpc_url))
        manifest = deploy_tessera(w3, governance, compile_artifacts(), tmp / "deployments")
        c = Tessera(w3, load_manifest(manifest))
        market = Market(w3, chain.rpc_url, manifest, c, tmp / "ipfs", tmp)
        transact(w3, governance, c.token, "transfer", requester.address, 1_000_000 * TSR)
        transact(w3, requester, c.token, "approve", c.registry.address, 1_000_000 * TSR)
        operators = [dev_account(i) for i in OPERATORS]
        for op in operators:
            transact(w3, governance, c.token, "transfer", op.address, STAKE)
            transact(w3, op, c.token, "approve", c.staking.address, STAKE)
            transact(w3, op, c.staking, "register", "bafkreisoakoperator")
            transact(w3, op, c.staking, "stake", STAKE)
        rpc(w3, "evm_setIntervalMining", 1)
        store = LocalBlockStore(market.ipfs_dir)

        proxies = [RpcProxy(chain.rpc_url).start() for _ in operators]
        envs = [
            worker_env(
                market,
                op,
                tmp / f"w{i}",
                rpc_url=proxies[i].url,
                OMP_NUM_THREADS="1",
                # margins for a chain with a block a second (the defaults assume ~12 s blocks)
                TESSERA_CLAIM_MARGIN_S="15",
                TESSERA_COMMIT_RESERVE_S="5",
            )
            for i, op in enumerate(operators)
        ]
        procs = [start_worker(envs[i], tmp / f"run{i}") for i in range(len(operators))]
        clear_at: dict[int, float] = {}
        end = time.monotonic() + args.minutes * 60
        next_post = next_fault = time.monotonic()
        try:
            while time.monotonic() < end:
                now = time.monotonic()
                for i, at in list(clear_at.items()):
                    if now >= at:
                        proxies[i].fault = None
                        del clear_at[i]
                if now >= next_post:
                    raw = canonical_spec_bytes(parse_spec(json.dumps(spec(len(posted))).encode()))
                    cid = str(store.add_bytes(raw))
                    receipt = transact(
                        w3, requester, c.registry, "post_job", cid, hashlib.sha256(raw).digest(),
                        FEE, 3, 2, COLLATERAL, WINDOW_S, WINDOW_S, WINDOW_S,
                    )  # fmt: skip
                    posted.append(c.job_id_from(receipt))
                    next_post = now + args.post_every
                if now >= next_fault:
                    i = rnd.randrange(len(operators))
                    kind = rnd.choice([*PROXY_FAULTS, "sigkill"])
                    if kind == "sigkill":
                        procs[i].send_signal(signal.SIGKILL)
                        procs[i].wait()
                        procs[i] = start_worker(envs[i], tmp / f"run{i}")
                    else:
                        proxies[i].fault = PROXY_FAULTS[kind]()
                        clear_at[i] = now + args.fault_for
                    faults[kind] += 1
                    next_fault = now + args.fault_every
                for i, p in enumerate(procs):
                    if p.poll() is not None:  # a worker that died on its own: count it, restart it
                        faults[f"worker_exit_{p.returncode}"] += 1
                        procs[i] = start_worker(envs[i], tmp / f"run{i}")
                time.sleep(0.2)
            for p in proxies:
                p.fault = None
            drain_end = time.monotonic() + args.drain
            while time.monotonic() < drain_end:
                if all(c.get_job(j).phase.terminal for j in posted):
                    break
                time.sleep(1)
        finally:
            for p in procs:
                stop_worker(p)
            for p in proxies:
                p.stop()
        # settle what no one settled (anyone may), so every job ends
        rpc(w3, "evm_increaseTime", 4 * WINDOW_S)
        rpc(w3, "evm_mine")
        settled_by_soak = 0
        for j in posted:
            view = c.get_job(j)
            if not view.phase.terminal:
                fn = "expire" if view.phase == Phase.OPEN else "finalize"
                try:
                    transact(w3, governance, c.registry, fn, j)
                    settled_by_soak += 1
                except AssertionError:
                    pass
        phases: Counter[str] = Counter()
        for j in posted:
            view = c.get_job(j)
            name = view.phase.name.lower()
            if view.phase == Phase.FAILED:  # quorum not reached: say how far the job got
                name += f" ({view.claims} claims, {view.commits} commits, {view.reveals} reveals)"
            phases[name] += 1
        duplicates = lost = 0
        for j in posted:
            for op in operators:
                flt = {"job_id": j, "worker": op.address}
                commits = len(c.registry.events.ResultCommitted.get_logs(from_block=0, argument_filters=flt))
                reveals = len(c.registry.events.ResultRevealed.get_logs(from_block=0, argument_filters=flt))
                duplicates += max(0, commits - 1) + max(0, reveals - 1)
                entry = c.worker_entry(j, op.address)
                if entry.claimed and not entry.revealed and c.get_job(j).phase.terminal:
                    lost += 1
                    print(f"  lost: job {j} worker {op.address} committed={entry.committed}", flush=True)
    failed = {k: v for k, v in phases.items() if k != "completed"}
    rows = [
        ("jobs posted", len(posted)),
        ("completed", phases.get("completed", 0)),
        ("failed (by cause)", ", ".join(f"{k} {v}" for k, v in sorted(failed.items())) or "0"),
        ("settled by the soak (past deadline)", settled_by_soak),
        ("duplicates (must be 0)", duplicates),
        ("lost (must be 0)", lost),
        ("faults injected", ", ".join(f"{k} {v}" for k, v in sorted(faults.items())) or "0"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"\nsoak results (seed {seed}, {args.minutes:g} min, logs in {tmp})")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    return 1 if duplicates or lost else 0


if __name__ == "__main__":
    sys.exit(main())
