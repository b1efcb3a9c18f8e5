"""The worker's write-ahead ledger: one SQLite file (WAL, synchronous=FULL) with all a restart needs.

* ``jobs``: each job the worker has seen, its `JobState`, the terms from its JobPosted event, the salt,
  the result digest/CID and, when it failed, a stable error code. State changes are compare-and-swap
  (`transition` returns False when the row was not in the expected state), and every change is appended
  to ``job_history``.
* ``txs`` / ``tx_hashes``: every transaction, keyed by an idempotency key (``claim:<job>``), with its
  nonce and the signed raw bytes, written *before* it is broadcast; replacements add hashes.
* ``cursors`` / ``block_hashes`` / ``seen_logs``: the log poller's position, recent block hashes (reorg
  detection) and the (block hash, log index) pairs already delivered.
* ``meta``: what the ledger is bound to (chain id, registry, worker address) and small counters.

One connection shared by the worker's threads, serialised by a lock; SQLite's own locking keeps a second
process (the CLI reading status) safe.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from offchain.chain.txmanager import TxRecord, TxStatus
from offchain.errors import ConfigError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    job_id INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    spec_cid TEXT NOT NULL,
    spec_digest BLOB NOT NULL,
    fee TEXT NOT NULL,
    replicas INTEGER NOT NULL,
    quorum INTEGER NOT NULL,
    collateral TEXT NOT NULL,
    claim_deadline INTEGER NOT NULL,
    commit_deadline INTEGER NOT NULL,
    reveal_deadline INTEGER NOT NULL,
    posted_block INTEGER NOT NULL,
    posted_block_hash BLOB NOT NULL,
    salt BLOB,
    result_digest BLOB,
    result_cid TEXT,
    result_path TEXT,
    outcome TEXT,
    paid TEXT,
    epoch INTEGER,
    emission_claimed INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    error_message TEXT,
    retries INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE TABLE IF NOT EXISTS job_history (
    job_id INTEGER NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS txs (
    key TEXT PRIMARY KEY,
    job_id INTEGER,
    label TEXT NOT NULL,
    sender TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    to_address TEXT NOT NULL,
    data BLOB NOT NULL,
    value TEXT NOT NULL,
    gas INTEGER NOT NULL,
    max_fee TEXT NOT NULL,
    priority_fee TEXT NOT NULL,
    raw BLOB NOT NULL,
    hash BLOB NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    mined_block INTEGER,
    mined_hash BLOB,
    created_at REAL NOT NULL,
    sent_at REAL
);
CREATE INDEX IF NOT EXISTS txs_status ON txs (status);
CREATE TABLE IF NOT EXISTS tx_hashes (hash BLOB PRIMARY KEY, key TEXT NOT NULL, raw BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS block_hashes (
    name TEXT NOT NULL, number INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (name, number)
);
CREATE TABLE IF NOT EXISTS seen_logs (
    block_hash BLOB NOT NULL, log_index INTEGER NOT NULL, block_number INTEGER NOT NULL,
    PRIMARY KEY (block_hash, log_index)
);
"""


class JobState(StrEnum):
    """Where the worker is with a job. The happy path reads top to bottom."""

    SEEN = "seen"  # JobPosted recorded
    SKIPPED = "skipped"  # the claim policy declined it (reason in error_code); no transaction sent
    CLAIMING = "claiming"  # claim transaction recorded / in flight
    CLAIMED = "claimed"  # claim mined
    COMPUTED = "computed"  # result bytes on disk, digest known
    UPLOADED = "uploaded"  # result on IPFS, CID known
    COMMITTING = "committing"  # salt stored, commit transaction recorded / in flight
    COMMITTED = "committed"
    REVEALING = "revealing"
    REVEALED = "revealed"
    FINALIZING = "finalizing"  # our finalize transaction in flight (someone else's may win)
    DONE = "done"  # the job is terminal on chain; outcome and payout recorded
    FAILED = "failed"  # given up, with error_code; no further transaction for this job


TERMINAL = frozenset({JobState.SKIPPED, JobState.DONE, JobState.FAILED})
# Where a job whose post a reorg replaced goes: back before its result (nothing of ours is committed).
_REPOSTED_TO = {
    JobState.SEEN: JobState.SEEN,
    JobState.SKIPPED: JobState.SEEN,  # a new job under the id: decide again
    JobState.CLAIMING: JobState.CLAIMING,
    JobState.CLAIMED: JobState.CLAIMED,
    JobState.COMPUTED: JobState.CLAIMED,
    JobState.UPLOADED: JobState.CLAIMED,
}
ACTIVE = frozenset(set(JobState) - TERMINAL - {JobState.SEEN})  # holding our collateral (or about to)


@dataclass(frozen=True)
class JobRecord:
    job_id: int
    state: JobState
    spec_cid: str
    spec_digest: bytes
    fee: int
    replicas: int
    quorum: int
    collateral: int
    claim_deadline: int
    commit_deadline: int
    reveal_deadline: int
    posted_block: int
    posted_block_hash: bytes
    salt: bytes | None
    result_digest: bytes | None
    result_cid: str | None
    result_path: str | None
    outcome: str | None
    paid: int | None
    epoch: int | None
    emission_claimed: bool
    error_code: str | None
    error_message: str | None
    retries: int
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class PostedJob:
    """The terms of a JobPosted event, as the ledger records them."""

    job_id: int
    spec_cid: str
    spec_digest: bytes
    fee: int
    replicas: int
    quorum: int
    collateral: int
    claim_deadline: int
    commit_deadline: int
    reveal_deadline: int
    posted_block: int
    posted_block_hash: bytes


_BIG_INT_FIELDS = {"fee", "collateral", "paid", "value", "max_fee", "priority_fee"}
_JOB_FIELDS = [f.name for f in fields(JobRecord)]
_TX_FIELDS = [f.name for f in fields(TxRecord)]
_JOB_UPDATABLE = frozenset(
    {
        "salt",
        "result_digest",
        "result_cid",
        "result_path",
        "outcome",
        "paid",
        "epoch",
        "emission_claimed",
        "error_code",
        "error_message",
        "retries",
    }
)


def _to_db(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _BIG_INT_FIELDS:
        return str(int(value))  # uint256 does not fit SQLite's INTEGER
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


def _job(row: sqlite3.Row) -> JobRecord:
    d = dict(row)
    for name in ("fee", "collateral", "paid"):
        d[name] = None if d[name] is None else int(d[name])
    d["state"] = JobState(d["state"])
    d["emission_claimed"] = bool(d["emission_claimed"])
    return JobRecord(**d)


def _tx(row: sqlite3.Row) -> TxRecord:
    d = dict(row)
    for name in ("value", "max_fee", "priority_fee"):
        d[name] = int(d[name])
    d["status"] = TxStatus(d["status"])
    return TxRecord(**d)


class Ledger:
    """The SQLite ledger; see the module docstring. Safe to share between threads of one process."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a tx row must survive power loss before broadcast
        self._db.execute("PRAGMA foreign_keys=ON")
        with self._write() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            found = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if found is None:
                db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(found[0]) != SCHEMA_VERSION:
                raise ConfigError(
                    f"ledger {self.path} has schema {found[0]}, this worker writes {SCHEMA_VERSION}",
                    hint="use a fresh TESSERA_DATA_DIR or the worker version that wrote it",
                )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT), rolled back on any error."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # ------------------------------------------------------------------ meta
    def get_meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    def bind(self, chain_id: int, registry: str, worker: str) -> None:
        """Tie this ledger to one chain, registry and worker; ConfigError if it was made for another."""
        want = {"chain_id": str(chain_id), "registry": registry.lower(), "worker": worker.lower()}
        with self._write() as db:
            for key, value in want.items():
                row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
                if row is None:
                    db.execute("INSERT INTO meta VALUES (?, ?)", (key, value))
                elif row[0] != value:
                    raise ConfigError(
                        f"the ledger {self.path} belongs to {key} {row[0]}, not {value}",
                        hint="give each chain, deployment and key its own TESSERA_DATA_DIR",
                    )

    # ------------------------------------------------------------------ jobs
    def record_posted(self, job: PostedJob) -> bool:
        """Insert a job in state SEEN; False if it is already known (the event was seen before)."""
        now = self._clock()
        values = {f.name: _to_db(f.name, getattr(job, f.name)) for f in fields(PostedJob)}
        values.update(state=JobState.SEEN.value, created_at=now, updated_at=now)
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._write() as db:
            cur = db.execute(f"INSERT OR IGNORE INTO jobs ({cols}) VALUES ({marks})", list(values.values()))
            if cur.rowcount:
                db.execute("INSERT INTO job_history VALUES (?, NULL, ?, ?)", (job.job_id, JobState.SEEN, now))
            return cur.rowcount == 1

    def repost(self, job: PostedJob) -> str:
        """Reconcile a JobPosted for an id the ledger already holds (a reorg moved or replaced the post).

        Returns "same" (the event was already recorded), "moved" (same spec, another block or deadlines:
        the posted fields are updated), "replaced" (another spec under this id, nothing of ours committed:
        the posted fields are replaced, any result dropped, a computed job goes back to CLAIMED and a
        skipped one to SEEN) or "kept" (another spec, but our commitment is out or the job is over:
        unchanged).
        """
        now = self._clock()
        posted = {f.name: _to_db(f.name, getattr(job, f.name)) for f in fields(PostedJob)}
        with self._write() as db:
            query = "SELECT state, spec_cid, spec_digest, posted_block_hash FROM jobs WHERE job_id=?"
            row = db.execute(query, (job.job_id,)).fetchone()
            if row is None:
                raise KeyError(f"job {job.job_id} is not in the ledger")
            state, spec_cid, spec_digest, block_hash = JobState(row[0]), row[1], bytes(row[2]), bytes(row[3])
            if block_hash == job.posted_block_hash:
                return "same"
            sets = dict(posted)
            if (spec_cid, spec_digest) == (job.spec_cid, job.spec_digest):
                outcome = "moved"
            elif state in _REPOSTED_TO:
                outcome = "replaced"
                sets.update(salt=None, result_digest=None, result_cid=None, result_path=None)
                sets.update(error_code=None, error_message=None, retries=0)
                if _REPOSTED_TO[state] != state:
                    sets["state"] = _REPOSTED_TO[state].value
            else:
                return "kept"
            assignments = ", ".join(f"{k}=?" for k in sets)
            update = f"UPDATE jobs SET {assignments}, updated_at=? WHERE job_id=?"
            db.execute(update, [*sets.values(), now, job.job_id])
            if "state" in sets:
                history = (job.job_id, state, sets["state"], now)
                db.execute("INSERT INTO job_history VALUES (?, ?, ?, ?)", history)
            return outcome

    def forget_unstarted(self, job_id: int) -> bool:
        """Drop a job still in SEEN (its JobPosted was reorged away); False if it had progressed."""
        with self._write() as db:
            cur = db.execute("DELETE FROM jobs WHERE job_id=? AND state=?", (job_id, JobState.SEEN.value))
            return cur.rowcount == 1

    def get_job(self, job_id: int) -> JobRecord | None:
        rows = self._read("SELECT * FROM jobs WHERE job_id=?", (job_id,))
        return _job(rows[0]) if rows else None

    def jobs(self, states: Iterable[JobState] | None = None) -> list[JobRecord]:
        """Jobs in any of ``states`` (all jobs when None), oldest first."""
        if states is None:
            return [_job(r) for r in self._read("SELECT * FROM jobs ORDER BY job_id")]
        wanted = [JobState(s).value for s in states]
        marks = ", ".join("?" for _ in wanted)
        return [
            _job(r)
            for r in self._read(f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY job_id", wanted)
        ]

    def count(self, states: Iterable[JobState]) -> int:
        wanted = [JobState(s).value for s in states]
        marks = ", ".join("?" for _ in wanted)
        return int(self._read(f"SELECT COUNT(*) FROM jobs WHERE state IN ({marks})", wanted)[0][0])

    def transition(
        self,
        job_id: int,
        from_state: JobState | Iterable[JobState],
        to_state: JobState,
        **updates: Any,
    ) -> bool:
        """Move a job from ``from_state`` (one state or several) to ``to_state``, setting ``updates`` in the
        same write. Returns False, changing nothing, when the job is not in an expected state (another
        thread or process moved it first)."""
        expected = [from_state] if isinstance(from_state, str) else list(from_state)
        spec_digest = updates.pop("for_spec", None)
        bad = set(updates) - _JOB_UPDATABLE
        if bad:
            raise ValueError(f"cannot set {sorted(bad)} in a transition")
        now = self._clock()
        sets = ["state=?", "updated_at=?"] + [f"{k}=?" for k in updates]
        args: list[Any] = [JobState(to_state).value, now] + [_to_db(k, v) for k, v in updates.items()]
        marks = ", ".join("?" for _ in expected)
        guard, guard_args = ("", []) if spec_digest is None else (" AND spec_digest=?", [spec_digest])
        with self._write() as db:
            row = db.execute("SELECT state FROM jobs WHERE job_id=?", (job_id,)).fetchone()
            cur = db.execute(
                f"UPDATE jobs SET {', '.join(sets)} WHERE job_id=? AND state IN ({marks}){guard}",
                [*args, job_id, *[JobState(s).value for s in expected], *guard_args],
            )
            if cur.rowcount != 1:
                return False
            db.execute(
                "INSERT INTO job_history VALUES (?, ?, ?, ?)", (job_id, row[0], JobState(to_state), now)
            )
            return True

    def update_job(self, job_id: int, **updates: Any) -> None:
        """Set non-state fields (retries, payout, epoch...) without a transition."""
        bad = set(updates) - _JOB_UPDATABLE
        if bad or not updates:
            raise ValueError(f"cannot set {sorted(bad) or 'nothing'}")
        sets = ", ".join(f"{k}=?" for k in updates)
        with self._write() as db:
            db.execute(
                f"UPDATE jobs SET {sets}, updated_at=? WHERE job_id=?",
                [*(_to_db(k, v) for k, v in updates.items()), self._clock(), job_id],
            )

    def ensure_salt(self, job_id: int, make_salt: Callable[[], bytes]) -> bytes:
        """The job's salt, created with ``make_salt`` and stored on first use; never replaced after."""
        with self._write() as db:
            row = db.execute("SELECT salt FROM jobs WHERE job_id=?", (job_id,)).fetchone()
            if row is None:
                raise KeyError(f"job {job_id} is not in the ledger")
            if row[0] is not None:
                return bytes(row[0])
            salt = make_salt()
            if len(salt) != 32:
                raise ValueError("a salt is 32 bytes")
            db.execute("UPDATE jobs SET salt=?, updated_at=? WHERE job_id=?", (salt, self._clock(), job_id))
            return salt

    def history(self, job_id: int) -> list[tuple[str | None, str]]:
        rows = self._read(
            "SELECT from_state, to_state FROM job_history WHERE job_id=? ORDER BY rowid", (job_id,)
        )
        return [(r[0], r[1]) for r in rows]

    # ------------------------------------------------------------------ transactions
    def tx(self, key: str) -> TxRecord | None:
        rows = self._read("SELECT * FROM txs WHERE key=?", (key,))
        return _tx(rows[0]) if rows else None

    def tx_by_hash(self, tx_hash: bytes) -> TxRecord | None:
        rows = self._read("SELECT t.* FROM txs t JOIN tx_hashes h ON h.key=t.key WHERE h.hash=?", (tx_hash,))
        return _tx(rows[0]) if rows else None

    def insert_tx(self, record: TxRecord) -> None:
        """Record a signed transaction before it is broadcast. IntegrityError if the key exists."""
        values = [_to_db(name, getattr(record, name)) for name in _TX_FIELDS]
        marks = ", ".join("?" for _ in values)
        with self._write() as db:
            db.execute(f"INSERT INTO txs ({', '.join(_TX_FIELDS)}) VALUES ({marks})", values)
            db.execute("INSERT INTO tx_hashes VALUES (?, ?, ?)", (record.hash, record.key, record.raw))

    def replace_tx(
        self,
        key: str,
        *,
        raw: bytes,
        tx_hash: bytes,
        max_fee: int,
        priority_fee: int,
        nonce: int | None = None,
        gas: int | None = None,
    ) -> None:
        """Record a new signed attempt (a fee bump, or a re-sign with a fresh nonce) before broadcasting it;
        earlier attempts' hashes stay known so any of them can still be found mined."""
        with self._write() as db:
            sets = "raw=?, hash=?, max_fee=?, priority_fee=?, status=?, sent_at=NULL"
            args: list[Any] = [raw, tx_hash, str(max_fee), str(priority_fee), TxStatus.SIGNED.value]
            if nonce is not None:
                sets += ", nonce=?"
                args.append(nonce)
            if gas is not None:
                sets += ", gas=?"
                args.append(gas)
            db.execute(f"UPDATE txs SET {sets} WHERE key=?", [*args, key])
            db.execute("INSERT OR IGNORE INTO tx_hashes VALUES (?, ?, ?)", (tx_hash, key, raw))

    def set_tx_status(self, key: str, status: TxStatus, **updates: Any) -> None:
        allowed = {"error", "mined_block", "mined_hash", "sent_at"}
        if set(updates) - allowed:
            raise ValueError(f"cannot set {sorted(set(updates) - allowed)}")
        sets = ", ".join(["status=?"] + [f"{k}=?" for k in updates])
        with self._write() as db:
            db.execute(f"UPDATE txs SET {sets} WHERE key=?", [TxStatus(status).value, *updates.values(), key])

    def tx_hashes(self, key: str) -> list[bytes]:
        """Every attempt's hash for ``key``, oldest first."""
        return [
            bytes(r[0]) for r in self._read("SELECT hash FROM tx_hashes WHERE key=? ORDER BY rowid", (key,))
        ]

    def txs(self, statuses: Iterable[TxStatus] | None = None) -> list[TxRecord]:
        if statuses is None:
            return [_tx(r) for r in self._read("SELECT * FROM txs ORDER BY nonce, created_at")]
        wanted = [TxStatus(s).value for s in statuses]
        marks = ", ".join("?" for _ in wanted)
        rows = self._read(f"SELECT * FROM txs WHERE status IN ({marks}) ORDER BY nonce, created_at", wanted)
        return [_tx(r) for r in rows]

    # ------------------------------------------------------------------ log cursor (see chain.logs)
    def cursor(self, name: str) -> int | None:
        rows = self._read("SELECT block FROM cursors WHERE name=?", (name,))
        return int(rows[0][0]) if rows else None

    def block_hashes(self, name: str) -> dict[int, bytes]:
        rows = self._read("SELECT number, hash FROM block_hashes WHERE name=? ORDER BY number", (name,))
        return {int(r[0]): bytes(r[1]) for r in rows}

    def unseen(self, keys: Iterable[tuple[bytes, int]]) -> set[tuple[bytes, int]]:
        """The (block hash, log index) pairs not delivered before."""
        keys = list(keys)
        if not keys:
            return set()
        with self._lock:
            seen = {
                (bytes(r[0]), int(r[1]))
                for k in keys
                for r in self._db.execute(
                    "SELECT block_hash, log_index FROM seen_logs WHERE block_hash=? AND log_index=?", k
                )
            }
        return set(keys) - seen

    def advance_cursor(
        self,
        name: str,
        to_block: int,
        hashes: dict[int, bytes],
        delivered: Iterable[tuple[bytes, int, int]],
        keep: int,
    ) -> None:
        """After a range was handled: mark its logs delivered, remember block hashes (keeping the newest
        ``keep``), and move the cursor to ``to_block`` — all in one write."""
        with self._write() as db:
            db.executemany("INSERT OR IGNORE INTO seen_logs VALUES (?, ?, ?)", list(delivered))
            db.executemany(
                "INSERT INTO block_hashes VALUES (?, ?, ?) "
                "ON CONFLICT(name, number) DO UPDATE SET hash=excluded.hash",
                [(name, n, h) for n, h in hashes.items()],
            )
            db.execute(
                "DELETE FROM block_hashes WHERE name=? AND number NOT IN "
                "(SELECT number FROM block_hashes WHERE name=? ORDER BY number DESC LIMIT ?)",
                (name, name, keep),
            )
            db.execute("DELETE FROM seen_logs WHERE block_number < ?", (to_block - 4 * keep,))
            db.execute(
                "INSERT INTO cursors VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET block=excluded.block",
                (name, to_block),
            )

    def rewind_cursor(self, name: str, to_block: int) -> None:
        """Forget everything after ``to_block`` (a reorg replaced it) and move the cursor back to it."""
        with self._write() as db:
            db.execute("DELETE FROM block_hashes WHERE name=? AND number > ?", (name, to_block))
            db.execute("DELETE FROM seen_logs WHERE block_number > ?", (to_block,))
            db.execute(
                "INSERT INTO cursors VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET block=excluded.block",
                (name, to_block),
            )
