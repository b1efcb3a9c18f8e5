"""T23-T26 through the real worker: one worker process on a real anvil is fed a row of hostile jobs, then an
ordinary matmul job, and must refuse or kill each hostile one with its own code and cause, send no commit
for any of them, write nothing outside its folders, stay alive and finish the ordinary job.

The worker reads IPFS through a loopback trustless gateway (`hostile_gateway`, ``TESSERA_IPFS=gateway:``)
that serves the market's store honestly except for the blocks a case names, which it answers with 404,
504, a 1 B/s drip, an endless stream, wrong bytes or a redirect loop (T23). The other cases are hostile
content served honestly: a 100 MB spec, a spec nested 10,000 deep, ``../`` in input names and CIDs; as
weights, a pickle whose unpickling writes a canary file, a torch.save checkpoint that needs an unsafe
global, a zip bomb (4 GiB from 100 KB) with ``../`` and absolute member paths, a safetensors header nested
10,000 deep, an input over ``TESSERA_MAX_INPUT_BYTES`` (T24); workloads that exhaust their memory (T25),
run past their time limit, or ignore SIGTERM and leave a grandchild behind (T26).

What the design says happens (`offchain/worker/pipeline.py`): the spec is fetched, sha256-checked and
parsed, and every input fetched, CID-verified and checked as safetensors, *before* the claim, so every
spec or input fault ends SKIPPED with no transaction at all (a transient one after ``max_fetch_retries``
tries, as E_SPEC_UNAVAILABLE or E_INPUT_UNAVAILABLE naming the last error): a requester's bad input
costs the requester its job, never the worker its collateral. Only the workload runs *after* the claim,
so its faults end FAILED after exactly one transaction (the claim) and no commit; the claim's collateral
then waits for the job to settle, where the protocol's liveness slash applies (docs/SPEC.md, Settlement).

The worker is `tests.faults.stubborn_worker`: ``python -m offchain.worker``'s own `main` with one
test-only change, a workload child that ignores SIGTERM for one magic matmul seed (every other job runs
the real child). One gateway, chain and worker serve the whole row, so it is one test, which reports every
case that went wrong at once; `test_the_hostile_payloads_are_live` shows the fixtures really are hostile.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from offchain.chain.bindings import Phase
from offchain.compute import demo_models
from offchain.compute.spec import canonical_spec_bytes, parse_spec
from offchain.ipfs import LocalBlockStore
from offchain.worker.pipeline import SPEC_MAX_BYTES, Policy
from tests.compute.support import running
from tests.faults.conftest import ledger_rows, new_job, stop_worker, wait_until, worker_env
from tests.faults.hostile_gateway import DRIP_INTERVAL_S, HostileGateway
from tests.faults.stubborn_worker import PIDS_FILE, STUBBORN_SEED
from tests.support.chain import dev_account, send_raw, transact
from tests.support.market import COLLATERAL, FEE, Market

pytestmark = pytest.mark.anvil

MiB = 1 << 20
IPFS_TIMEOUT_S = 2.0  # each gateway request and each whole read
MAX_INPUT_BYTES = 4 * MiB  # TESSERA_MAX_INPUT_BYTES: the zip bomb fits, the oversized input does not
SPEC_BIG_BYTES = 100 * 1000 * 1000  # "100 MB JSON"
DEEP = 10_000
FETCH_TRIES = Policy().max_fetch_retries
TERMINAL = ("skipped", "failed", "done")


# ------------------------------------------------------------------------------------------ payloads
class Canary:
    """Unpickling this opens ``path`` for writing (it stands in for arbitrary code execution)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (str(self.path), "w")


def pickle_weights(canary: Path) -> bytes:
    """A legacy ``.pt`` (a bare pickle) whose loading creates ``canary``."""
    return pickle.dumps({"layers.0.weight": Canary(canary)}, protocol=2)


def torch_checkpoint(canary: Path) -> bytes:
    """A torch.save zip checkpoint that only loads with an unsafe global allowed (``builtins.open``)."""
    import torch

    buffer = io.BytesIO()
    torch.save({"layers.0.weight": torch.zeros(2, 2), "hook": Canary(canary)}, buffer)
    return buffer.getvalue()


def zip_bomb(outside: Path) -> bytes:
    """A zip that unpacks to 4 GiB (16 copies of a zip holding 256 MiB of zeros, deflated twice) and has
    members named ``../`` up and out and by absolute path; about 100 KB."""
    zero = bytes(MiB)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("../../../../../../canary-zip-inner", b"written outside the job folder")
        with archive.open("zeros.bin", "w", force_zip64=True) as member:
            for _ in range(256):
                member.write(zero)
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for depth in (1, 3, 6, 9):
            archive.writestr("../" * depth + "canary-zip", b"written outside the job folder")
        archive.writestr(str(outside / "canary-zip-absolute"), b"written by absolute path")
        for i in range(16):
            archive.writestr(f"part{i}.zip", inner.getvalue())
    return outer.getvalue()


def deep_safetensors() -> bytes:
    """A safetensors length prefix and a header that nests 10,000 deep."""
    header = b'{"w":' + b"[" * DEEP + b"]" * DEEP + b"}"
    return len(header).to_bytes(8, "little") + header


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def canonical(document: dict) -> bytes:
    return canonical_spec_bytes(parse_spec(json.dumps(document).encode()))


def matmul(n: int, seed: int, iterations: int = 1, **resources: int) -> bytes:
    return canonical(
        {
            "version": 1,
            "workload": {"name": "matmul", "n": n, "seed": seed, "iterations": iterations},
            "resources": {"max_runtime_s": 60, **resources},
        }
    )


# ------------------------------------------------------------------------------------------ the cases
@dataclass
class Case:
    """One hostile job: the spec bytes as published, what the worker must record, and where it stops."""

    name: str
    stage: str  # "spec"/"input": refused before the claim; "workload": after it
    code: str
    says: str  # the ledger's message must name the cause
    spec: bytes = b""
    spec_cid: str = ""
    digest: bytes = b""  # what the job posts as spec_digest: sha256 of the spec bytes
    gateway: dict[str, str] = field(default_factory=dict)  # CID -> hostile gateway mode
    windows: tuple[int, int, int] = (600, 600, 600)  # claim, commit, reveal (seconds)
    job_id: int = 0


@dataclass
class Row:
    cases: list[Case]
    roots: set[str]  # every CID the worker has a reason to ask for (a spec or an input root)
    canaries: list[Path]


def build_row(store: LocalBlockStore, outside: Path, scratch: Path) -> Row:
    cases: list[Case] = []
    roots: set[str] = set()

    def add(data: bytes) -> str:
        cid = str(store.add_bytes(data))
        roots.add(cid)
        return cid

    good_input = add(demo_models.mlp_input())

    def weights_job(
        name: str, weights: bytes, code: str, says: str, mode: str = "ok", max_runtime_s: int = 60
    ) -> Case:
        cid = add(weights)
        document = demo_models.mlp_infer_spec(weights_cid=cid, input_cid=good_input).model_dump(mode="json")
        document["resources"]["max_runtime_s"] = max_runtime_s
        gateway = {cid: mode} if mode != "ok" else {}
        return Case(name, "input", code, says, canonical(document), gateway=gateway)

    # T23 for an input the gateway does not have: retried before any claim, then given up with the cause
    cases.append(
        weights_job(
            "gateway-input-missing",
            demo_models.mlp_weights(seed=3),
            "E_INPUT_UNAVAILABLE",
            "HTTP 404",
            "missing",
            max_runtime_s=1,
        )
    )

    # T24: hostile specs, refused before any transaction
    big = scratch / "big.json"
    with open(big, "wb") as handle:  # a real 100 MB JSON document, streamed to disk
        handle.write(b'{"version":1,"workload":{"name":"matmul","n":8,"seed":1},"pad":"')
        for _ in range(-(-SPEC_BIG_BYTES // MiB)):
            handle.write(b"x" * MiB)
        handle.write(b'"}')
    big_cid = str(store.add_file(big))
    roots.add(big_cid)
    big_digest = hashlib.sha256()
    with open(big, "rb") as handle:
        while piece := handle.read(MiB):
            big_digest.update(piece)
    big.unlink()
    cases.append(
        Case(
            "spec-100MB",
            "spec",
            "E_SPEC_TOO_LARGE",
            f"over the limit of {SPEC_MAX_BYTES}",
            spec_cid=big_cid,
            digest=big_digest.digest(),
        )
    )
    deep = b'{"version":1,"workload":' + b"[" * DEEP + b"]" * DEEP + b"}"
    cases.append(Case("spec-nested-10000", "spec", "E_SPEC_MALFORMED", f"nests {DEEP + 1} levels", deep))
    mlp = json.loads(
        canonical_spec_bytes(demo_models.mlp_infer_spec(weights_cid=good_input, input_cid=good_input))
    )
    dotdot_name = {**mlp, "inputs": {"input": good_input, "../../../outside/canary-name": good_input}}
    cases.append(
        Case(
            "spec-../-input-name",
            "spec",
            "E_SPEC_MALFORMED",
            "is not an input name",
            json.dumps(dotdot_name).encode(),
        )
    )
    dotdot_cid = {**mlp, "inputs": {"input": good_input, "weights": "../../../../outside/canary-cid"}}
    cases.append(
        Case(
            "spec-../-input-cid", "spec", "E_SPEC_MALFORMED", "is not a CID", json.dumps(dotdot_cid).encode()
        )
    )

    # T23: the gateway misbehaves for the spec itself (refused before any transaction)
    for i, (mode, code, says) in enumerate(
        [
            ("missing", "E_SPEC_UNAVAILABLE", "HTTP 404"),
            ("busy", "E_SPEC_UNAVAILABLE", "HTTP 504"),
            ("drip", "E_SPEC_UNAVAILABLE", "still sending"),
            ("endless", "E_SPEC_TOO_LARGE", "sent more than"),
            ("wrong", "E_CID_MISMATCH", "hash to"),
            ("loop", "E_SPEC_UNAVAILABLE", "redirect"),
        ]
    ):
        spec = matmul(8, 100 + i)
        cid = add(spec)
        cases.append(Case(f"gateway-spec-{mode}", "spec", code, says, spec, cid, _sha(spec), {cid: mode}))

    # T24: hostile weights, refused after the claim, before any child starts
    canaries = [outside / "canary-pickle", outside / "canary-torch", outside / "canary-zip-absolute"]
    cases.append(
        weights_job(
            "weights-pickle-canary", pickle_weights(canaries[0]), "E_UNSAFE_WEIGHTS", "a Python pickle"
        )
    )
    cases.append(
        weights_job(
            "weights-torch-unsafe-global", torch_checkpoint(canaries[1]), "E_UNSAFE_WEIGHTS", "a zip archive"
        )
    )
    cases.append(weights_job("weights-zip-bomb-../", zip_bomb(outside), "E_UNSAFE_WEIGHTS", "a zip archive"))
    cases.append(
        weights_job(
            "weights-header-nested-10000",
            deep_safetensors(),
            "E_UNSAFE_WEIGHTS",
            f"nests {DEEP + 1:,} levels",
        )
    )
    cases.append(
        weights_job(
            "weights-over-max-input-bytes",
            bytes(MAX_INPUT_BYTES + MiB),
            "E_INPUT_TOO_LARGE",
            f"over the limit of {MAX_INPUT_BYTES}",
        )
    )
    # T23 for an input: the spec is fine, the gateway lies about the weights
    real_weights = demo_models.mlp_weights()
    cases.append(weights_job("gateway-input-wrong", real_weights, "E_CID_MISMATCH", "hash to", "wrong"))
    cases.append(
        weights_job(
            "gateway-input-endless", real_weights + b"\x00", "E_INPUT_TOO_LARGE", "sent more than", "endless"
        )
    )

    # T25/T26: workloads that exhaust memory, overrun, or ignore SIGTERM (killed after the claim)
    cases.append(
        Case("workload-oom", "workload", "E_WORKLOAD_OOM", "memory", matmul(4096, 1, max_memory_mb=64))
    )
    cases.append(
        Case(
            "workload-timeout",
            "workload",
            "E_WORKLOAD_TIMEOUT",
            "max_runtime_s=1",
            matmul(1024, 2, 10_000, max_runtime_s=1),
        )
    )
    cases.append(
        Case(
            "workload-ignores-sigterm",
            "workload",
            "E_WORKLOAD_TIMEOUT",
            "SIGKILL",
            matmul(8, STUBBORN_SEED, max_runtime_s=1),
        )
    )

    for case in cases:
        if not case.spec_cid:
            case.spec_cid = add(case.spec)
            case.digest = _sha(case.spec)
    return Row(cases, roots, canaries)


# ------------------------------------------------------------------------------------------ plumbing
def post_jobs(market: Market, jobs: list[tuple[str, bytes, tuple[int, int, int]]]) -> list[int]:
    """Post every (spec CID, digest, windows) as a job of the requester: one approval, then all at once."""
    requester, c = dev_account(2), market.contracts
    transact(market.w3, requester, c.token, "approve", c.registry.address, FEE * len(jobs))
    hashes = [
        send_raw(
            market.w3,
            requester,
            {
                "to": c.registry.address,
                "data": c.registry.encode_abi(
                    "post_job", args=[cid, digest, FEE, 1, 1, COLLATERAL, *windows]
                ),
                "gas": 1_000_000,
            },
        )
        for cid, digest, windows in jobs
    ]
    ids = []
    for tx_hash in hashes:
        receipt = market.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)
        assert receipt["status"] == 1
        ids.append(c.job_id_from(receipt))
    return ids


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def proc_status(pid: int, field_name: str) -> int:
    """A ``kB`` field of /proc/<pid>/status (VmRSS, VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field_name)


def children_of(pid: int) -> dict[int, str]:
    """Direct children of ``pid``: their pid and state letter (Z: a zombie nobody reaped)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            tail = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(tail[1]) == pid:
            found[int(stat.parent.name)] = tail[0]
    return found


def job_rows(data_dir: Path) -> dict[int, tuple[str, str | None, str | None]]:
    rows = ledger_rows(data_dir, "SELECT job_id, state, error_code, error_message FROM jobs")
    return {job_id: (state, code, message) for job_id, state, code, message in rows}


def start_stubborn_worker(env: dict[str, str], cwd: Path) -> subprocess.Popen:
    cwd.mkdir(parents=True, exist_ok=True)
    out = open(cwd / "worker.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults.stubborn_worker"],
        cwd=cwd,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def _print_summary(row: Row, rows: dict, served: list, data_dir: Path) -> None:
    """One line per case (seen with ``-s``): state, code, seconds from JobPosted seen to the end, requests."""
    history = ledger_rows(data_dir, "SELECT job_id, MIN(at), MAX(at) FROM job_history GROUP BY job_id")
    took = {job_id: last - first for job_id, first, last in history}
    for case in row.cases:
        state, code, _ = rows[case.job_id]
        asked = sum(1 for s in served if s.cid in case.gateway)
        seconds = took.get(case.job_id, 0.0)
        print(f"{case.name:32} {state:8} {code:20} {seconds:6.1f} s {asked:4} gateway requests")


# ------------------------------------------------------------------------------------------ the tests
def test_the_hostile_payloads_are_live(tmp_path):
    """The fixtures are what they claim: loading the pickles runs code, the checkpoint needs an unsafe
    global, the zip bomb unpacks to 4 GiB and names paths outside its folder (so refusing them matters)."""
    import torch

    canary = tmp_path / "live"
    pickle.loads(pickle_weights(canary))
    assert canary.exists()
    canary.unlink()
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global: GLOBAL (io|builtins).open"):
        torch.load(io.BytesIO(torch_checkpoint(canary)), weights_only=True)
    assert not canary.exists()
    torch.load(io.BytesIO(torch_checkpoint(canary)), weights_only=False)
    assert canary.exists()

    bomb = zip_bomb(tmp_path / "outside")
    with zipfile.ZipFile(io.BytesIO(bomb)) as outer:
        names = outer.namelist()
        inner = zipfile.ZipFile(io.BytesIO(outer.read("part0.zip")))
        unpacked = sum(i.file_size for i in inner.infolist()) * sum(n.endswith(".zip") for n in names)
    assert len(bomb) < 1 * MiB and unpacked >= 4 << 30
    assert any(n.startswith("../") for n in names) and any(n.startswith("/") for n in names)
    deep = deep_safetensors()  # a well-formed length prefix: only the header's nesting is wrong
    assert int.from_bytes(deep[:8], "little") == len(deep) - 8 and deep[8:9] == b"{"


def test_a_row_of_hostile_jobs_is_refused_and_the_next_job_completes(shared_market, tmp_path):
    market, operator = shared_market, dev_account(1)
    w3, c = market.w3, market.contracts
    outside = tmp_path / "outside"  # where the canaries would land; nothing may ever appear here
    outside.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    row = build_row(LocalBlockStore(market.ipfs_dir), outside, scratch)
    by_name = {case.name: case for case in row.cases}

    worker_dir = tmp_path / "worker"
    data_dir, home, tmpdir = worker_dir / "data", worker_dir / "home", worker_dir / "tmp"
    for folder in (home, tmpdir):
        folder.mkdir(parents=True)
    problems: list[str] = []
    with HostileGateway(market.ipfs_dir) as gateway:
        for case in row.cases:
            for cid, mode in case.gateway.items():
                gateway.behave(cid, mode)
        env = worker_env(
            market,
            operator,
            data_dir,
            TESSERA_IPFS=f"gateway:{gateway.url}",
            TESSERA_IPFS_DIR=str(worker_dir / "ipfs"),
            TESSERA_IPFS_TIMEOUT_S=str(IPFS_TIMEOUT_S),
            TESSERA_MAX_INPUT_BYTES=str(MAX_INPUT_BYTES),
            TESSERA_DEVICE="cpu",
            TESSERA_MAX_IN_FLIGHT="6",
            TESSERA_CLAIM_MARGIN_S="5",  # the short-window case must still be claimed on a loaded box
            HOME=str(home),
            TMPDIR=str(tmpdir),
        )
        first_block = w3.eth.block_number + 1
        nonce_before = w3.eth.get_transaction_count(operator.address)
        ids = post_jobs(market, [(case.spec_cid, case.digest, case.windows) for case in row.cases])
        for case, job_id in zip(row.cases, ids, strict=True):
            case.job_id = job_id
        files_before = files_under(tmp_path)

        worker = start_stubborn_worker(env, worker_dir)
        try:
            wait_until(lambda: len(job_rows(data_dir)) > 0, timeout_s=120)  # set up and polling
            rss_ready = proc_status(worker.pid, "VmRSS") if worker.poll() is None else -1
            settled = wait_until(
                lambda: all(job_rows(data_dir).get(job_id, ("",))[0] in TERMINAL for job_id in ids),
                timeout_s=300,
                poll_s=0.5,
            )
            alive = worker.poll() is None
            peak_rss = proc_status(worker.pid, "VmHWM") if alive else -1
            stubborn = data_dir / "jobs" / str(by_name["workload-ignores-sigterm"].job_id) / "run" / PIDS_FILE
            pids = json.loads(stubborn.read_text()) if stubborn.exists() else {}
            orphans_gone = wait_until(lambda: not any(running(pid) for pid in pids.values()), timeout_s=30)
            streams_closed = wait_until(lambda: gateway.in_flight() == 0, timeout_s=3 * DRIP_INTERVAL_S + 10)
            no_zombie = wait_until(lambda: "Z" not in children_of(worker.pid).values(), timeout_s=10)
            zombies = {pid: s for pid, s in children_of(worker.pid).items() if s == "Z" and not no_zombie}

            good = new_job(market)  # an ordinary job after the hostile row
            done = wait_until(lambda: job_rows(data_dir).get(good, ("",))[0] == "done", timeout_s=180)
        finally:
            code = stop_worker(worker)
        served = gateway.served()
    log = (worker_dir / "worker.log").read_text(errors="replace")
    rows = job_rows(data_dir)
    assert settled, f"not every hostile job ended: {rows}\n{log[-4000:]}"

    # ---- each hostile job: its own code, its cause in the message, the expected transactions only
    txs = ledger_rows(data_dir, "SELECT key, job_id, status FROM txs")
    for case in row.cases:
        state, error_code, message = rows[case.job_id]
        before_claim = case.stage in ("spec", "input")
        expected_state = "skipped" if before_claim else "failed"
        keys = sorted(key for key, job, _ in txs if job == case.job_id)
        expected_keys = [] if before_claim else [f"claim:{case.job_id}"]
        entry = c.worker_entry(case.job_id, operator.address)
        if (state, error_code) != (expected_state, case.code):
            problems.append(f"{case.name}: {state} {error_code}, expected {expected_state} {case.code}")
        if case.says not in (message or ""):
            problems.append(f"{case.name}: the message does not say {case.says!r}: {message!r}")
        if keys != expected_keys:
            problems.append(f"{case.name}: transactions {keys}, expected {expected_keys}")
        if entry.committed or entry.claimed != (not before_claim):
            problems.append(f"{case.name}: on chain claimed={entry.claimed} committed={entry.committed}")

    # ---- T23: every hostile answer was cut off, in bounded bytes and tries; nothing else was fetched
    for case in row.cases:
        for cid, mode in case.gateway.items():
            answers = [s for s in served if s.cid == cid]
            tries = FETCH_TRIES * (6 if mode == "loop" else 1)  # a loop: the first request + 5 redirects
            if not 1 <= len(answers) <= tries:
                problems.append(f"{case.name}: {len(answers)} requests for {mode}, expected 1..{tries}")
            # the server counts what it wrote before noticing the hang-up (a starved client notices late)
            if mode == "drip" and any(s.sent > IPFS_TIMEOUT_S / DRIP_INTERVAL_S + 10 for s in answers):
                problems.append(f"{case.name}: a drip was read too long: {[s.sent for s in answers]}")
            if mode == "endless" and any(s.sent > 2 * MiB + 32 * MiB for s in answers):
                problems.append(
                    f"{case.name}: an endless stream was read too far: {[s.sent for s in answers]}"
                )
    good_spec = ledger_rows(data_dir, "SELECT spec_cid FROM jobs WHERE job_id=?", (good,))
    stray = sorted({s.cid for s in served} - row.roots - {cid for (cid,) in good_spec})
    if stray:
        problems.append(f"the worker fetched blocks no job named (the 100 MB spec's leaves?): {stray[:5]}")
    if not streams_closed:
        problems.append(f"{gateway.in_flight()} gateway streams were never hung up on")

    # ---- T26: the SIGTERM-ignoring child and its grandchild are gone; no zombie under the worker
    if sorted(pids) != ["child", "grandchild"]:
        problems.append(f"the stubborn workload never ran ({stubborn} missing)")
    if not orphans_gone:
        problems.append(f"the stubborn workload's processes survive: {pids}")
    if zombies:
        problems.append(f"zombie children of the worker: {zombies}")

    # ---- T24: no canary, nothing written outside the worker's folders, nothing unpacked
    canaries = sorted({*tmp_path.rglob("*canary*"), *(p for p in row.canaries if p.exists())})
    if canaries:
        problems.append(f"canary files exist: {canaries}")
    new_files = files_under(tmp_path) - files_before
    allowed = (data_dir, worker_dir / "ipfs", worker_dir / "worker.log")
    outside_files = sorted(p for p in new_files if not any(p == a or a in p.parents for a in allowed))
    if outside_files:
        problems.append(f"files written outside the worker's data, store and log: {outside_files[:10]}")
    for job_file in (p for p in new_files if (data_dir / "jobs") in p.parents):
        job_id = int(job_file.relative_to(data_dir / "jobs").parts[0])
        if job_id not in rows:
            problems.append(f"{job_file} belongs to no job")
    written = sum(p.stat().st_size for p in new_files if p.exists())
    if written > 64 * MiB:
        problems.append(f"the worker wrote {written / MiB:.0f} MiB: something was unpacked or read whole")
    if any(home.iterdir()) or any(tmpdir.iterdir()):
        problems.append(
            f"the worker wrote into HOME or TMPDIR: {list(home.iterdir()) + list(tmpdir.iterdir())}"
        )

    # ---- the parent: alive through the row, bounded memory, and it serves the next job
    if not alive:
        problems.append(f"the worker died during the hostile row (exit {worker.returncode})")
    if peak_rss - rss_ready > 64 * MiB:  # far below the 100 MB spec, the 4 GiB bomb, an endless stream
        problems.append(f"the worker's RSS grew from {rss_ready / MiB:.0f} to {peak_rss / MiB:.0f} MiB")
    _print_summary(row, rows, served, data_dir)
    print(f"worker RSS {rss_ready / MiB:.0f} MiB when polling, peak {peak_rss / MiB:.0f} MiB")
    assert not problems, "\n".join(problems) + f"\n--- worker log tail:\n{log[-3000:]}"

    assert done, f"the ordinary job after the row did not complete: {rows.get(good)}\n{log[-4000:]}"
    assert code == 0
    assert c.get_job(good).phase == Phase.COMPLETED
    txs = ledger_rows(data_dir, "SELECT key, job_id, status FROM txs")
    good_keys = sorted(key for key, job, _ in txs if job == good)
    assert good_keys == sorted(f"{k}:{good}" for k in ("claim", "commit", "reveal_and_finalize"))
    # one nonce per recorded transaction, every one mined; nothing but claims, the good job and emission
    last_block = w3.eth.block_number
    sent = [
        tx
        for n in range(first_block, last_block + 1)
        for tx in w3.eth.get_block(n, full_transactions=True)["transactions"]
        if tx["from"].lower() == operator.address.lower()
    ]
    assert w3.eth.get_transaction_count(operator.address) - nonce_before == len(sent) == len(txs), txs
    # every recorded transaction landed: asked of the chain, not of the ledger's status column (which the
    # transaction manager can set to "dropped" for a transaction mined between its receipt and nonce reads)
    on_chain = {bytes(tx["hash"]) for tx in sent}
    hashes = ledger_rows(data_dir, "SELECT key, hash FROM tx_hashes")
    landed = {key for key, tx_hash in hashes if bytes(tx_hash) in on_chain}
    assert landed == {key for key, _, _ in txs}, (sorted(landed), txs)
    assert all(w3.eth.get_transaction_receipt(tx_hash)["status"] == 1 for tx_hash in on_chain)
    commits = c.registry.events.ResultCommitted.get_logs(
        from_block=first_block, to_block=last_block, argument_filters={"worker": operator.address}
    )
    assert [int(e["args"]["job_id"]) for e in commits] == [good]
