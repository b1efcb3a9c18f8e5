"""The worker's write-ahead job ledger: the ``jobs`` tables of the worker's SQLite file.

The file (`offchain.chain.store.SqliteFile`, WAL, synchronous=FULL) also holds the chain layer's
transactions and log cursor (`offchain.chain.store.ChainStore`), so one file is all a restart needs;
this module keeps only what is about jobs:

* ``jobs``: each job the worker has seen, its `JobState`, the terms from its JobPosted event, the salt,
  the result digest/CID and, when it failed, a stable error code. State changes are compare-and-swap
  (`transition` returns False when the row was not in the expected state), and every change is appended
  to ``job_history``.
* ``meta`` (the file's): what the ledger is bound to (chain id, registry, worker address).

A job's ``round``, ``replicas``, ``quorum`` and deadlines are those of the round the worker acts in: the
posted ones, replaced by a ``JobEscalated`` event's while the worker has not claimed the job (`escalate`);
once claimed, the round it claimed in.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from offchain.chain.store import SqliteFile, to_db
from offchain.errors import ConfigError

_SCHEMA = """
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
    round INTEGER NOT NULL DEFAULT 0,
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
    ESCALATED = "escalated"  # our round escalated: collateral locked until the job's final settlement
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
    round: int
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


@dataclass(frozen=True)
class EscalatedRound:
    """The new round of a ``JobEscalated`` event, as the ledger records it for a job not claimed yet."""

    job_id: int
    round: int
    replicas: int
    quorum: int
    claim_deadline: int
    commit_deadline: int
    reveal_deadline: int


# Where a job goes when its round escalates: not claimed (never claimed, or the claim never landed) ->
# SEEN, to decide again on the new round; claimed and not over -> ESCALATED, to wait for the settlement.
NOT_CLAIMED = frozenset({JobState.SEEN, JobState.SKIPPED})
CLAIMED_OPEN = frozenset(ACTIVE - {JobState.ESCALATED})

_JOB_FIELDS = [f.name for f in fields(JobRecord)]
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


def _job(row: sqlite3.Row) -> JobRecord:
    d = dict(row)
    for name in ("fee", "collateral", "paid"):
        d[name] = None if d[name] is None else int(d[name])
    d["state"] = JobState(d["state"])
    d["emission_claimed"] = bool(d["emission_claimed"])
    return JobRecord(**d)


class Ledger:
    """The SQLite ledger; see the module docstring. Safe to share between threads of one process."""

    def __init__(self, file: SqliteFile | str | Path, *, clock: Callable[[], float] = time.time) -> None:
        """``file``: the worker's `SqliteFile` (shared with its `ChainStore`), or a path to open one."""
        self._owned = not isinstance(file, SqliteFile)
        self.file = file if isinstance(file, SqliteFile) else SqliteFile(file)
        self.path = self.file.path
        self._clock = clock
        self.file.create(_SCHEMA)
        self._migrate()
        self._write = self.file.write
        self._read = self.file.read

    def _migrate(self) -> None:
        """Add the columns a ledger written by an older worker lacks (``round``: 0, the posted round)."""
        with self.file.write() as db:
            have = {row[1] for row in db.execute("PRAGMA table_info(jobs)").fetchall()}
            if "round" not in have:
                db.execute("ALTER TABLE jobs ADD COLUMN round INTEGER NOT NULL DEFAULT 0")

    def close(self) -> None:
        """Close the file if this ledger opened it (a shared one is closed by its opener)."""
        if self._owned:
            self.file.close()

    # ------------------------------------------------------------------ meta
    def get_meta(self, key: str) -> str | None:
        return self.file.get_meta(key)

    def set_meta(self, key: str, value: str) -> None:
        self.file.set_meta(key, value)

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
        values = {f.name: to_db(f.name, getattr(job, f.name)) for f in fields(PostedJob)}
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
        posted = {f.name: to_db(f.name, getattr(job, f.name)) for f in fields(PostedJob)}
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

    def escalate(self, new: EscalatedRound) -> JobState | None:
        """Record that ``new.job_id`` escalated to ``new.round``, in one write. A job this worker has not
        claimed takes the new round's terms and goes back to SEEN (decide again); a claimed job still in
        progress goes to ESCALATED (it waits for the final settlement, collateral locked). Returns the
        state the job is in afterwards, None if unknown; an event seen before changes nothing."""
        now = self._clock()
        with self._write() as db:
            row = db.execute("SELECT state, round FROM jobs WHERE job_id=?", (new.job_id,)).fetchone()
            if row is None:
                return None
            state, recorded = JobState(row[0]), int(row[1])
            sets: dict[str, Any] = {}
            if state in NOT_CLAIMED and recorded < new.round:
                sets.update(
                    round=new.round,
                    state=JobState.SEEN.value,
                    replicas=new.replicas,
                    quorum=new.quorum,
                    claim_deadline=new.claim_deadline,
                    commit_deadline=new.commit_deadline,
                    reveal_deadline=new.reveal_deadline,
                    error_code=None,
                    error_message=None,
                    retries=0,
                )
            elif state in CLAIMED_OPEN and recorded < new.round:
                sets["state"] = JobState.ESCALATED.value  # ``round`` stays the one it claimed in
            if not sets:
                return state
            assignments = ", ".join(f"{k}=?" for k in sets)
            update = f"UPDATE jobs SET {assignments}, updated_at=? WHERE job_id=?"
            db.execute(update, [*sets.values(), now, new.job_id])
            after = JobState(sets.get("state", state))
            if after != state:
                db.execute("INSERT INTO job_history VALUES (?, ?, ?, ?)", (new.job_id, state, after, now))
            return after

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
        args: list[Any] = [JobState(to_state).value, now] + [to_db(k, v) for k, v in updates.items()]
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
                [*(to_db(k, v) for k, v in updates.items()), self._clock(), job_id],
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
