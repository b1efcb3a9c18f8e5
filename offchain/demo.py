"""`make demo` (`tessera demo`): the whole market on one machine, started and stopped in a few minutes.

1. a throw-away anvil (chain id 1337) and an embedded IPFS store, both in a temporary folder;
2. the contracts deployed by the real deploy script (`scripts/deploy.py`, local parameters) into a
   temporary deployments folder (the repository's `deployments/` is never touched);
3. three operators (anvil dev accounts 1-3) funded, registered and staked; a requester (account 4) funded;
   with ``--faulty`` two more honest operators (5, 6) and a Sybil pair (7, 8: two identities of one
   attacker, each with an honest operator's stake, 2/7 of the total, so selection picks them into most
   runs' jobs; both report the same wrong result);
4. a worker process per operator (`python -m offchain.worker`), each with its own key, ledger and log,
   sharing the IPFS store. With ``--faulty`` a job whose first round the Sybils disturb escalates at its
   reveal deadline to five fresh replicas, which settle it: the Sybils are slashed and jailed, the
   honest workers of both rounds are paid;
5. one job per workload (matmul, mlp-infer, mlp-train, and export:gpt: the reference GPT as a .pt2
   archive) with 3 replicas, specs and seeded demo models
   generated locally and added to IPFS (nothing is downloaded); progress while they run;
6. a table of the jobs, then time moved past the epoch end and the emission claimed for each operator,
   then the balances; everything started is stopped, on success, error or Ctrl-C alike.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from offchain import devchain
from offchain.errors import TesseraError

if TYPE_CHECKING:
    from offchain.requester import JobStatus

TSR = 10**18
WORKLOADS = ("matmul", "mlp-infer", "mlp-train", "export:gpt")
OPERATOR_INDICES = (1, 2, 3)
# --faulty: enough honest operators that an escalation round always has a fresh honest quorum (3 of 5)
EXTRA_HONEST_INDICES = (5, 6)
SYBIL_INDICES = (7, 8)
REQUESTER_INDEX = 4
OPERATOR_FUNDS = 1_000 * TSR
OPERATOR_STAKE = 500 * TSR
REQUESTER_FUNDS = 100 * TSR
JOB_FEE = 3 * TSR
JOB_COLLATERAL = 20 * TSR
REPLICAS, QUORUM = 3, 2
# claim, commit, reveal (seconds). A worker claims only if the commit deadline leaves the spec's runtime
# bound plus a margin (120 + 30 s for the demo specs); phases open early once every claimant has acted.
WINDOWS = (60, 180, 120)
# --faulty: a disputed round escalates only at its reveal deadline, so the windows are as short as the
# runtime bound allows (a claim a few seconds after posting still leaves 120 + 30 s to the commit deadline)
FAULTY_WINDOWS = (30, 160, 30)
JOB_TIMEOUT_S = 240.0
FAULTY_JOB_TIMEOUT_S = 480.0
WORKER_READY_TIMEOUT_S = 90.0


@dataclass
class Operator:
    index: int
    account: object  # LocalAccount
    faulty: bool = False
    stake: int = OPERATOR_STAKE
    process: subprocess.Popen | None = None
    data_dir: Path | None = None
    log: Path | None = None
    metrics_port: int = 0

    @property
    def name(self) -> str:
        return f"operator {self.index}" + (" (Sybil)" if self.faulty else "")

    @property
    def address(self) -> str:
        return self.account.address  # type: ignore[attr-defined]


@dataclass
class DemoJob:
    workload: str
    job_id: int
    spec_cid: str
    posted_at: float
    settled_at: float | None = None
    status: JobStatus = None  # type: ignore[assignment] - set once the job is settled
    gas_used: int = 0
    rounds: int = 1


@dataclass
class Demo:
    console: Console
    faulty: bool = False
    root: Path = field(default_factory=Path)
    chain: devchain.Chain | None = None
    operators: list[Operator] = field(default_factory=list)
    jobs: list[DemoJob] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def step(self, text: str):
        """A spinner for one step, then a tick line with its duration."""
        return _step(self.console, text)


@contextmanager
def _step(console: Console, text: str) -> Iterator[None]:
    t0 = time.monotonic()
    with console.status(text + " ..."):
        yield
    console.print(f"[green]✓[/] {text} [dim]({time.monotonic() - t0:.1f} s)[/]")


def dev_account(index: int):
    """anvil's public development account ``index`` (local chains only)."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(devchain.DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def _clean_env() -> dict[str, str]:
    """The caller's environment without any TESSERA_* (the demo sets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}


def _settings(demo: Demo, **extra):
    from offchain.settings import Settings

    assert demo.chain is not None
    return Settings(
        _env_file=None,
        rpc_url=demo.chain.rpc_url,
        deployments_dir=demo.root / "deployments",
        ipfs="local",
        ipfs_dir=demo.root / "ipfs",
        confirmations=0,
        keystore=None,
        **extra,
    )


def _rpc(url: str, method: str, *params: object) -> object:
    return devchain.rpc_call(url, method, list(params))


# ---------------------------------------------------------------------------------------------- steps
def start_chain(demo: Demo, stack: ExitStack) -> None:
    with demo.step("local chain (anvil, chain id 1337)"):
        chain, proc = devchain.start(log_file=demo.root / "anvil.log")
        stack.callback(devchain.stop_process, proc)
        demo.chain = chain


def deploy(demo: Demo) -> None:
    from offchain.deploy_script import run_deploy_script

    assert demo.chain is not None
    with demo.step("contracts deployed by scripts/deploy.py (scripts/params/local.json)"):
        run_deploy_script(
            network=f"ethereum:local:{demo.chain.rpc_url}",
            deployments_dir=demo.root / "deployments",
            env=_clean_env(),
        )


def fund_and_stake(demo: Demo) -> None:
    from offchain.ipfs import LocalBlockStore
    from offchain.requester import Client

    settings = _settings(demo)
    governance = Client.connect(settings, account=dev_account(0))
    requester = dev_account(REQUESTER_INDEX)
    store = LocalBlockStore(demo.root / "ipfs")
    stakes = ", ".join(sorted({f"{op.stake // TSR} TSR" for op in demo.operators}, reverse=True))
    with demo.step(f"{len(demo.operators)} operators funded, registered and staked ({stakes})"):
        for op in demo.operators:
            governance.send(governance.contracts.transfer(op.address, OPERATOR_FUNDS))
        governance.send(governance.contracts.transfer(requester.address, REQUESTER_FUNDS))
        for op in demo.operators:
            client = Client.connect(settings, account=op.account)
            meta = f'{{"name": "demo operator {op.index}", "hardware": "cpu"}}\n'.encode()
            client.register(str(store.add_bytes(meta)))
            client.stake(op.stake)


def start_workers(demo: Demo, stack: ExitStack) -> None:
    assert demo.chain is not None
    with demo.step(f"{len(demo.operators)} workers started (python -m offchain.worker)"):
        for op in demo.operators:
            op.data_dir = demo.root / f"worker-{op.index}"
            op.data_dir.mkdir(parents=True, exist_ok=True)
            op.log = demo.root / f"worker-{op.index}.log"
            op.metrics_port = devchain.free_port()
            env = {
                **_clean_env(),
                "TESSERA_RPC_URL": demo.chain.rpc_url,
                "TESSERA_DEPLOYMENTS_DIR": str(demo.root / "deployments"),
                "TESSERA_PRIVATE_KEY": "0x" + bytes(op.account.key).hex(),  # type: ignore[attr-defined]
                "TESSERA_DATA_DIR": str(op.data_dir),
                "TESSERA_IPFS": "local",
                "TESSERA_IPFS_DIR": str(demo.root / "ipfs"),
                "TESSERA_CONFIRMATIONS": "0",
                "TESSERA_POLL_INTERVAL_S": "0.5",
                "TESSERA_METRICS_PORT": str(op.metrics_port),
                "TESSERA_DEVICE": "cpu",
                # Every worker takes every job at once: with fewer slots than jobs, the liar could be
                # jailed by the first settlements before it claimed the last job, which then never filled.
                "TESSERA_MAX_IN_FLIGHT": str(len(WORKLOADS)),
                "TESSERA_MAX_CLAIMED_UNCOMPUTED": str(len(WORKLOADS)),
                "OMP_NUM_THREADS": "1",
            }
            # The honest workers are exactly what an operator runs; a Sybil is the same Worker service
            # with a compute port that corrupts every result the same way (see `LyingCompute`).
            command = ["-m", "offchain.cli", "demo", LIAR_FLAG] if op.faulty else ["-m", "offchain.worker"]
            out = open(op.log, "ab")  # noqa: SIM115 - owned by the child
            op.process = subprocess.Popen(
                [sys.executable, *command],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            out.close()
            stack.callback(_stop_worker, op)
        deadline = time.monotonic() + WORKER_READY_TIMEOUT_S
        for op in demo.operators:
            _wait_ready(op, deadline)


def _wait_ready(op: Operator, deadline: float) -> None:
    url = f"http://127.0.0.1:{op.metrics_port}/readyz"
    while True:
        assert op.process is not None
        if op.process.poll() is not None:
            raise TesseraError(
                f"worker {op.index} exited with code {op.process.returncode} while starting: {_tail(op.log)}",
                hint=f"see {op.log}",
            )
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TesseraError(f"worker {op.index} was not ready within {WORKER_READY_TIMEOUT_S:.0f} s",
                               hint=f"see {op.log}")  # fmt: skip
        time.sleep(0.2)


def _tail(path: Path | None, lines: int = 3) -> str:
    if path is None or not path.exists():
        return "(no log)"
    text = path.read_text(errors="replace").strip().splitlines()
    return " | ".join(text[-lines:]) or "(empty log)"


def _stop_worker(op: Operator) -> None:
    proc = op.process
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stop_workers(demo: Demo) -> None:
    with demo.step("workers stopped"):
        for op in demo.operators:
            _stop_worker(op)


def demo_specs(store) -> dict[str, bytes]:
    """One spec per workload (inputs seeded, added to ``store``): workload -> canonical spec bytes."""
    from offchain.compute import demo_models
    from offchain.compute.models.reference import example_export_specs
    from offchain.compute.spec import canonical_spec_bytes

    weights = str(store.add_bytes(demo_models.mlp_weights(seed=0)))
    batch = str(store.add_bytes(demo_models.mlp_input(seed=1)))
    data = str(store.add_bytes(demo_models.training_data(seed=2)))
    specs = {
        "matmul": demo_models.matmul_spec(n=256, seed=7),
        "mlp-infer": demo_models.mlp_infer_spec(weights_cid=weights, input_cid=batch),
        "mlp-train": demo_models.mlp_train_spec(steps=50, seed=3, weights_cid=weights, data_cid=data),
    }
    exported = example_export_specs(store, names=("gpt",))  # the reference GPT as a .pt2 archive
    return {name: canonical_spec_bytes(spec) for name, spec in specs.items()} | exported


def submit_jobs(demo: Demo) -> None:
    from offchain.ipfs import LocalBlockStore
    from offchain.requester import Client

    settings = _settings(demo)
    client = Client.connect(settings, account=dev_account(REQUESTER_INDEX))
    store = LocalBlockStore(demo.root / "ipfs")
    with demo.step(f"demo models generated from seeds and added to IPFS; {len(WORKLOADS)} jobs posted"):
        specs = demo_specs(store)
        for workload in WORKLOADS:
            spec_bytes = specs[workload]
            spec_cid = str(store.add_bytes(spec_bytes))
            job_id, _ = client.post_job(
                spec_cid,
                spec_bytes,
                fee=JOB_FEE,
                replicas=REPLICAS,
                quorum=QUORUM,
                collateral=JOB_COLLATERAL,
                windows=FAULTY_WINDOWS if demo.faulty else WINDOWS,
            )
            demo.jobs.append(DemoJob(workload, job_id, spec_cid, posted_at=time.monotonic()))


def follow_jobs(demo: Demo) -> None:
    from offchain.requester import Client

    client = Client.connect(_settings(demo))
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        TextColumn("{task.fields[phase]}"),
        TimeElapsedColumn(),
        console=demo.console,
    )
    steps = ("claims", "commits", "reveals")
    timeout = FAULTY_JOB_TIMEOUT_S if demo.faulty else JOB_TIMEOUT_S
    deadline = time.monotonic() + timeout
    with progress:
        tasks = {
            job.job_id: progress.add_task(
                f"job {job.job_id} {job.workload:<9}", total=3 * REPLICAS + 1, phase="open"
            )
            for job in demo.jobs
        }
        while True:
            pending = [j for j in demo.jobs if j.settled_at is None]
            if not pending:
                break
            for job in pending:
                view = client.contracts.get_job(job.job_id)
                done = sum(getattr(view, s) for s in steps) + (1 if view.phase.terminal else 0)
                if view.round > 0 and not view.phase.terminal:
                    done = 0  # a new round: the bar starts again
                phase = (
                    f"{view.phase.name.lower():<10} {view.claims} claimed · {view.commits} committed · "
                    f"{view.reveals} revealed" + (f" · round {view.round} (escalated)" if view.round else "")
                )
                job.rounds = view.round + 1
                progress.update(tasks[job.job_id], completed=done, phase=phase)
                if view.phase.terminal:
                    job.settled_at = time.monotonic()
            for op in demo.operators:
                if op.process is not None and op.process.poll() is not None:
                    code = op.process.returncode
                    raise TesseraError(f"worker {op.index} exited with code {code}: {_tail(op.log)}",
                                       hint=f"see {op.log}")  # fmt: skip
            if time.monotonic() > deadline:
                raise TesseraError(f"jobs not settled within {timeout:.0f} s",
                                   hint=f"see the worker logs in {demo.root}")  # fmt: skip
            time.sleep(0.5)
    for job in demo.jobs:
        job.status = client.job_status(job.job_id)
        job.gas_used = client.gas_used(job.status.tx_hashes)


def jobs_table(demo: Demo) -> Table:
    from offchain.requester import format_tsr

    names = {op.address: f"op{op.index}" for op in demo.operators}
    table = Table(title="Jobs", title_justify="left")
    for column in (
        "job",
        "workload",
        "state",
        "rounds",
        "agreeing workers",
        "slashed",
        "result CID",
        "fee paid",
        "gas used",
        "seconds",
    ):
        table.add_column(
            column, justify="right" if column in ("job", "fee paid", "gas used", "seconds") else "left"
        )
    for job in demo.jobs:
        st = job.status
        agreeing = ", ".join(sorted(names.get(w.worker, w.worker[:8]) for w in st.agreeing))
        slashed = [
            f"{names.get(w.worker, w.worker[:8])}: {', '.join(w.slash_reasons)}"
            for w in st.workers
            if w.slashed
        ]
        state = st.phase
        table.add_row(
            str(job.job_id),
            job.workload,
            f"[green]{state}[/]" if state == "Completed" else f"[red]{state}[/]",
            "1" if job.rounds == 1 else f"[yellow]{job.rounds} (escalated)[/]",
            f"{len(st.agreeing)}/{len(st.workers)}: {agreeing}",
            f"[red]{'; '.join(slashed)}[/]" if slashed else "—",
            st.result_cid or "—",
            format_tsr(st.fee_paid, 2),
            f"{job.gas_used:,}",
            f"{(job.settled_at or job.posted_at) - job.posted_at:.1f}",
        )
    return table


def advance_epoch_and_claim(demo: Demo) -> None:
    """Move anvil's clock past the current epoch and claim each operator's emission."""
    from offchain.requester import Client, NothingToClaim

    assert demo.chain is not None
    settings = _settings(demo)
    with demo.step("time moved past the epoch end (evm_increaseTime + evm_mine); emission claimed"):
        client = Client.connect(settings)
        length = int(client.contracts.emitter.functions.EPOCH_LENGTH().call())
        _rpc(demo.chain.rpc_url, "evm_increaseTime", length + 1)
        _rpc(demo.chain.rpc_url, "evm_mine")
        for op in demo.operators:
            with suppress(NothingToClaim):  # the liar earned nothing (or its worker claimed already)
                Client.connect(settings, account=op.account).claim_rewards()


def balances_table(demo: Demo) -> Table:
    """Each operator's work, payouts, slashes, emission and standing; the requester's spend."""
    from offchain.requester import Client, format_tsr

    client = Client.connect(_settings(demo))
    table = Table(title="Operators and balances", title_justify="left")
    for column in ("account", "address", "agreed", "fees earned", "slashed", "emission", "wallet", "bonded",
                   "net change", "status"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("account", "address", "status") else "right")
    for op in demo.operators:
        st = client.operator_status(op.address)
        mine = [w for job in demo.jobs for w in job.status.workers if w.worker == op.address]
        agreed = sum(1 for job in demo.jobs for w in job.status.agreeing if w.worker == op.address)
        slashed = sum(w.slashed for w in mine)
        net = st.tsr_balance + st.bonded - OPERATOR_FUNDS
        table.add_row(
            op.name,
            _short_address(op.address),
            f"{agreed}/{len(mine)}",
            format_tsr(sum(w.paid or 0 for w in mine), 3),
            f"[red]{format_tsr(slashed, 2)}[/]" if slashed else "—",
            format_tsr(client.emission_claimed(op.address), 3),
            format_tsr(st.tsr_balance, 2),
            format_tsr(st.bonded, 2),
            _signed(net),
            f"[red]jailed for {(st.jailed_until - st.now) // 60} min[/]"
            if st.jailed_until > st.now
            else "[green]eligible[/]",
        )
    requester = dev_account(REQUESTER_INDEX).address
    wallet = client.contracts.balance_of(requester)
    table.add_row("requester", _short_address(requester), "", "", "", "", format_tsr(wallet, 2), "",
                  _signed(wallet - REQUESTER_FUNDS), "")  # fmt: skip
    return table


def demo_operators(faulty: bool) -> list[Operator]:
    """Three honest operators; with ``faulty`` two more, and a Sybil pair with an honest operator's stake
    each: with 2/7 of the stake a Sybil takes a slot of some job in nearly every run (half that stake left
    many runs without a Sybil in any job, and nothing to show)."""
    if not faulty:
        return [Operator(i, dev_account(i)) for i in OPERATOR_INDICES]
    honest = [Operator(i, dev_account(i)) for i in OPERATOR_INDICES + EXTRA_HONEST_INDICES]
    sybils = [Operator(i, dev_account(i), faulty=True) for i in SYBIL_INDICES]
    return honest + sybils


def escalation_story(demo: Demo) -> list[str]:
    """One paragraph per job the Sybils took part in: who disputed round 0, who settled it, who paid."""
    from offchain.requester import format_tsr

    names = {op.address: f"op{op.index}" for op in demo.operators}
    sybils = {op.address for op in demo.operators if op.faulty}
    lines = []
    for job in demo.jobs:
        workers = job.status.workers
        if not any(w.worker in sybils for w in workers):
            continue
        first = [names.get(w.worker, w.worker[:8]) for w in workers[:REPLICAS]]
        later = [names.get(w.worker, w.worker[:8]) for w in workers[REPLICAS:]]
        slashed = [f"{names.get(w.worker)} {format_tsr(w.slashed, 2)}" for w in workers if w.slashed]
        honest_first = [names.get(w.worker) for w in workers[:REPLICAS] if w.worker not in sybils]
        text = f"job {job.job_id} ({job.workload}): round 0 was {', '.join(first)}"
        if job.rounds > 1:
            text += (
                f"; their reveals disagreed, so at the reveal deadline it escalated to fresh replicas "
                f"({', '.join(later) or 'none came'})"
            )
        text += f"; ended {job.status.phase}"
        if slashed:
            text += f"; slashed and jailed: {', '.join(slashed)}"
        if honest_first and job.status.phase == "Completed":
            kept = all(not w.slashed for w in workers if w.worker not in sybils)
            whose = "its" if len(honest_first) == 1 else "their"
            outcome = f"kept {whose} stake" if kept else "[red]LOST STAKE[/]"
            text += f"; honest {', '.join(honest_first)} {outcome}"
        lines.append(text + ".")
    if demo.faulty and not lines:
        lines.append("The Sybil pair was never selected into a job this run: every job settled in one round.")
    return lines


def _signed(wei: int) -> str:
    from offchain.requester import format_tsr

    text = format_tsr(abs(wei), 3)
    return f"[green]+{text}[/]" if wei > 0 else f"[red]-{text}[/]" if wei < 0 else text


def _short_address(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}"


NEXT_STEPS = """\
[bold]Next:[/]
  make demo ARGS=--faulty       # with a Sybil pair lying: watch a job escalate and the pair get slashed
  make chain && make deploy     # a persistent local chain with the contracts (state in .tessera/)
  tessera worker doctor         # check a worker's set-up (chain, contracts, key, stake, IPFS, device)
  tessera job schema            # the job spec format; `tessera job submit SPEC --fee 1 --replicas 3`
  make test                     # the whole test suite"""


# ------------------------------------------------------------------------------------------------ main
def run_demo(
    *, faulty: bool = False, keep: bool = False, dashboard: bool = False, console: Console | None = None
) -> None:
    """Run the demo end to end; raises `TesseraError` on failure (after stopping everything)."""
    # Not a terminal (CI, a pipe, a test): wide enough that a table row never wraps or truncates.
    console = console or Console(highlight=False, width=None if sys.stdout.isatty() else 240)
    demo = Demo(console=console, faulty=faulty)
    mode = " with a Sybil pair" if faulty else ""
    workers = "seven workers (two of them one Sybil)" if faulty else "three workers"
    console.print(f"[bold]Tessera demo{mode}[/]: local chain, IPFS, {workers}, one job per workload")
    root = Path(tempfile.mkdtemp(prefix="tessera-demo-"))
    demo.root = root
    try:
        with ExitStack() as stack:
            demo.operators = demo_operators(faulty)
            start_chain(demo, stack)
            deploy(demo)
            fund_and_stake(demo)
            start_workers(demo, stack)
            submit_jobs(demo)
            follow_jobs(demo)
            stop_workers(demo)
            console.print(jobs_table(demo))
            for line in escalation_story(demo):
                console.print(line, soft_wrap=True)  # one line each in a log; the terminal wraps it
            advance_epoch_and_claim(demo)
            console.print(balances_table(demo))
            if dashboard:
                serve_dashboard(demo)
    except BaseException:
        keep = True
        raise
    finally:
        if keep:
            console.print(f"Logs, ledgers and the IPFS store are kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    console.print(
        f"Demo finished in {time.monotonic() - demo.started:.0f} s; everything it started is stopped."
    )
    console.print(NEXT_STEPS)


def serve_dashboard(demo: Demo) -> None:
    """Serve the dashboard over the demo's chain and IPFS store until Ctrl-C (`--dashboard`)."""
    from offchain.dashboard import run_dashboard

    demo.console.print("[bold]Dashboard[/] over the demo's chain; Ctrl-C stops it and then the demo.")
    run_dashboard(_settings(demo))  # returns on Ctrl-C or SIGTERM


# ------------------------------------------------------------------------------------ the lying worker
LIAR_FLAG = "--run-lying-worker"


class LyingCompute:
    """A `ComputePort` that runs the real workload, then corrupts the result (one byte of its tensor
    data) and reports the corrupted file's digest: a self-consistent but wrong answer, as a cheater would
    give. Used only by ``--faulty``; the chain must slash and jail the worker that reveals it."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def parse(self, raw: bytes):
        return self.inner.parse(raw)

    def check_inputs(self, summary, inputs) -> None:
        self.inner.check_inputs(summary, inputs)

    def run(self, summary, inputs, job_dir: Path, *, timeout_s: float):
        import hashlib

        from offchain.worker.compute_port import ComputeOutput

        honest = self.inner.run(summary, inputs, job_dir, timeout_s=timeout_s)
        data = bytearray(honest.path.read_bytes())
        data[-1] ^= 0x01
        forged = honest.path.with_name("forged-" + honest.path.name)
        forged.write_bytes(data)
        return ComputeOutput(digest=hashlib.sha256(data).digest(), path=forged)


def run_lying_worker() -> int:
    """`tessera demo --run-lying-worker` (hidden; the demo starts it): the `Worker` service from the
    environment's settings, with `LyingCompute`; the same lifecycle as `python -m offchain.worker`."""
    from offchain.settings import load_settings
    from offchain.worker.logsetup import configure_logging
    from offchain.worker.service import Worker, default_compute

    settings = load_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    worker = Worker(settings, compute=LyingCompute(default_compute(settings)))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: worker.request_stop())
    try:
        worker.setup()
        worker.run()
    except TesseraError as err:
        print(err, file=sys.stderr)
        return 2
    finally:
        worker.close()
    return 0
