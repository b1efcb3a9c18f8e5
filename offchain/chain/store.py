"""The chain layer's durable state: transactions (`TxStore`) and log cursors (`CursorStore`) in SQLite.

* `SqliteFile`: one database file (WAL, synchronous=FULL), one connection shared by a process's threads
  and serialised by a lock; SQLite's own locking keeps a second process (the CLI reading status) safe.
  It holds the ``meta`` table (schema version, and whatever its users bind the file to). Other layers
  keep their tables in the same file (the worker's jobs: `offchain.worker.ledger`), so one write-ahead
  file is all a restart needs.
* ``txs`` / ``tx_hashes``: every transaction, keyed by an idempotency key (``claim:<job>``), with its
  nonce and the signed raw bytes, written *before* it is broadcast; replacements add hashes.
* ``cursors`` / ``block_hashes`` / ``seen_logs``: a log poller's position, recent block hashes (reorg
  detection) and the (block hash, log index) pairs already delivered.

`ChainStore` implements `offchain.chain.txmanager.TxStore` and `offchain.chain.logs.CursorStore` over
those tables. The tables and ``schema_version`` 1 are those the worker ledger held before this module
existed, so a data folder written by an earlier worker opens unchanged.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from enum import StrEnum
from pathlib import Path
from typing import Any

from offchain.chain.txmanager import TxRecord, TxStatus
from offchain.errors import ConfigError

SCHEMA_VERSION = 1

_META = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"

_SCHEMA = """
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

BIG_INT_FIELDS = frozenset({"fee", "collateral", "paid", "value", "max_fee", "priority_fee"})
_TX_FIELDS = [f.name for f in fields(TxRecord)]


def to_db(name: str, value: Any) -> Any:
    """A Python value as SQLite stores it: uint256 amounts as decimal text, enums by value, bools as 0/1."""
    if value is None:
        return None
    if name in BIG_INT_FIELDS:
        return str(int(value))  # uint256 does not fit SQLite's INTEGER
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


class SqliteFile:
    """One SQLite file and its connection; see the module docstring. Safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a tx row must survive power loss before broadcast
        self._db.execute("PRAGMA foreign_keys=ON")
        with self.write() as db:
            db.execute(_META)
            found = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if found is None:
                db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(found[0]) != SCHEMA_VERSION:
                raise ConfigError(
                    f"ledger {self.path} has schema {found[0]}, this worker writes {SCHEMA_VERSION}",
                    hint="use a fresh TESSERA_DATA_DIR or the worker version that wrote it",
                )

    def create(self, schema: str) -> None:
        """Run ``schema``'s ``CREATE ... IF NOT EXISTS`` statements (``;``-separated) in one write."""
        with self.write() as db:
            for statement in schema.split(";"):
                if statement.strip():
                    db.execute(statement)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT), rolled back on any error."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for several reads under the lock (no transaction)."""
        with self._lock:
            yield self._db

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def get_meta(self, key: str) -> str | None:
        rows = self.read("SELECT value FROM meta WHERE key=?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as db:
            db.execute(
                "INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )


def _tx(row: sqlite3.Row) -> TxRecord:
    d = dict(row)
    for name in ("value", "max_fee", "priority_fee"):
        d[name] = int(d[name])
    d["status"] = TxStatus(d["status"])
    return TxRecord(**d)


class ChainStore:
    """Transactions and log cursors in a `SqliteFile` (opened here when given a path; ``":memory:"``
    for a one-shot command whose transactions need not outlive it)."""

    def __init__(self, file: SqliteFile | str | Path) -> None:
        self._owned = not isinstance(file, SqliteFile)
        self.file = file if isinstance(file, SqliteFile) else SqliteFile(file)
        self.file.create(_SCHEMA)

    @property
    def path(self) -> Path:
        return self.file.path

    def close(self) -> None:
        """Close the file if this store opened it (a shared one is closed by its opener)."""
        if self._owned:
            self.file.close()

    # ------------------------------------------------------------------ transactions (TxStore)
    def tx(self, key: str) -> TxRecord | None:
        rows = self.file.read("SELECT * FROM txs WHERE key=?", (key,))
        return _tx(rows[0]) if rows else None

    def tx_by_hash(self, tx_hash: bytes) -> TxRecord | None:
        rows = self.file.read(
            "SELECT t.* FROM txs t JOIN tx_hashes h ON h.key=t.key WHERE h.hash=?", (tx_hash,)
        )
        return _tx(rows[0]) if rows else None

    def insert_tx(self, record: TxRecord) -> None:
        """Record a signed transaction before it is broadcast. IntegrityError if the key exists."""
        values = [to_db(name, getattr(record, name)) for name in _TX_FIELDS]
        marks = ", ".join("?" for _ in values)
        with self.file.write() as db:
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
        with self.file.write() as db:
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
        with self.file.write() as db:
            db.execute(f"UPDATE txs SET {sets} WHERE key=?", [TxStatus(status).value, *updates.values(), key])

    def tx_hashes(self, key: str) -> list[bytes]:
        """Every attempt's hash for ``key``, oldest first."""
        rows = self.file.read("SELECT hash FROM tx_hashes WHERE key=? ORDER BY rowid", (key,))
        return [bytes(r[0]) for r in rows]

    def txs(self, statuses: Iterable[TxStatus] | None = None) -> list[TxRecord]:
        if statuses is None:
            return [_tx(r) for r in self.file.read("SELECT * FROM txs ORDER BY nonce, created_at")]
        wanted = [TxStatus(s).value for s in statuses]
        marks = ", ".join("?" for _ in wanted)
        rows = self.file.read(
            f"SELECT * FROM txs WHERE status IN ({marks}) ORDER BY nonce, created_at", wanted
        )
        return [_tx(r) for r in rows]

    # ------------------------------------------------------------------ log cursors (CursorStore)
    def cursor(self, name: str) -> int | None:
        rows = self.file.read("SELECT block FROM cursors WHERE name=?", (name,))
        return int(rows[0][0]) if rows else None

    def block_hashes(self, name: str) -> dict[int, bytes]:
        rows = self.file.read("SELECT number, hash FROM block_hashes WHERE name=? ORDER BY number", (name,))
        return {int(r[0]): bytes(r[1]) for r in rows}

    def unseen(self, keys: Iterable[tuple[bytes, int]]) -> set[tuple[bytes, int]]:
        """The (block hash, log index) pairs not delivered before."""
        keys = list(keys)
        if not keys:
            return set()
        with self.file.reading() as db:
            seen = {
                (bytes(r[0]), int(r[1]))
                for k in keys
                for r in db.execute(
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
        with self.file.write() as db:
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
        with self.file.write() as db:
            db.execute("DELETE FROM block_hashes WHERE name=? AND number > ?", (name, to_block))
            db.execute("DELETE FROM seen_logs WHERE block_number > ?", (to_block,))
            db.execute(
                "INSERT INTO cursors VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET block=excluded.block",
                (name, to_block),
            )
