"""The chain store: transactions and log cursors in the worker's SQLite file, beside the job ledger.

The tables are those the worker ledger held before the chain layer had its own store, so a data folder
written then opens unchanged, and the chain store and the ledger share one file (and one connection).
"""

from __future__ import annotations

import sqlite3

import pytest

from offchain.chain.store import ChainStore, SqliteFile
from offchain.chain.txmanager import TxRecord, TxStatus
from offchain.errors import ConfigError
from offchain.worker.ledger import JobState, Ledger, PostedJob

BIG = 2**200 + 7  # a uint256 far beyond SQLite's INTEGER


def posted() -> PostedJob:
    return PostedJob(1, "QmSpec", b"\x11" * 32, BIG, 3, 2, 10**19, 1_000, 2_000, 3_000, 5, b"\x22" * 32)


@pytest.fixture
def store(tmp_path):
    opened = ChainStore(tmp_path / "ledger.sqlite3")
    yield opened
    opened.close()


def tx(key: str = "claim:1", nonce: int = 0, tx_hash: bytes = b"\x01" * 32) -> TxRecord:
    return TxRecord(
        key=key,
        job_id=1,
        label="claim(1)",
        sender="0x" + "cd" * 20,
        nonce=nonce,
        to_address="0x" + "ab" * 20,
        data=b"\x12\x34",
        value=0,
        gas=100_000,
        max_fee=BIG,
        priority_fee=10**9,
        raw=b"\xf8raw",
        hash=tx_hash,
        status=TxStatus.SIGNED,
        error=None,
        mined_block=None,
        mined_hash=None,
        created_at=1.0,
        sent_at=None,
    )


def test_transactions_are_unique_per_key_and_keep_every_attempt(store):
    store.insert_tx(tx())
    with pytest.raises(sqlite3.IntegrityError):
        store.insert_tx(tx(tx_hash=b"\x02" * 32))
    store.replace_tx("claim:1", raw=b"\xf8bumped", tx_hash=b"\x03" * 32, max_fee=BIG + 1, priority_fee=2)
    record = store.tx("claim:1")
    assert (record.raw, record.hash, record.max_fee, record.status) == (
        b"\xf8bumped",
        b"\x03" * 32,
        BIG + 1,
        TxStatus.SIGNED,
    )
    assert store.tx_hashes("claim:1") == [b"\x01" * 32, b"\x03" * 32]
    assert store.tx_by_hash(b"\x01" * 32).key == "claim:1"
    store.set_tx_status("claim:1", TxStatus.SENT, sent_at=2.0)
    assert [r.key for r in store.txs([TxStatus.SENT])] == ["claim:1"]


def test_cursor_rewind_forgets_newer_blocks(store):
    store.advance_cursor("t", 10, {8: b"a" * 32, 10: b"b" * 32}, [(b"a" * 32, 0, 8)], keep=100)
    assert store.cursor("t") == 10
    assert store.unseen([(b"a" * 32, 0), (b"a" * 32, 1)]) == {(b"a" * 32, 1)}
    store.rewind_cursor("t", 7)
    assert store.cursor("t") == 7
    assert store.block_hashes("t") == {}
    assert store.unseen([(b"a" * 32, 0)]) == {(b"a" * 32, 0)}


def test_only_the_newest_block_hashes_are_kept(store):
    for n in range(1, 21):
        store.advance_cursor("t", n, {n: bytes([n]) * 32}, [], keep=5)
    assert sorted(store.block_hashes("t")) == [16, 17, 18, 19, 20]


def test_the_store_and_the_ledger_share_one_file_and_survive_a_restart(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    file = SqliteFile(path)
    store, ledger = ChainStore(file), Ledger(file)
    ledger.record_posted(posted())
    store.insert_tx(tx())
    store.advance_cursor("tessera", 10, {10: b"b" * 32}, [], keep=5)
    file.close()

    reopened = SqliteFile(path)
    assert ChainStore(reopened).tx("claim:1").max_fee == BIG
    assert ChainStore(reopened).cursor("tessera") == 10
    assert Ledger(reopened).get_job(1).state == JobState.SEEN
    reopened.close()


# The schema of the single-file ledger written before the chain store existed (schema_version 1), as a
# worker of that version left it: the chain store and the ledger must open it with every row intact.
_OLD_LEDGER = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO meta VALUES ('chain_id', '1337');
CREATE TABLE jobs (
    job_id INTEGER PRIMARY KEY, state TEXT NOT NULL, spec_cid TEXT NOT NULL, spec_digest BLOB NOT NULL,
    fee TEXT NOT NULL, replicas INTEGER NOT NULL, quorum INTEGER NOT NULL, collateral TEXT NOT NULL,
    claim_deadline INTEGER NOT NULL, commit_deadline INTEGER NOT NULL, reveal_deadline INTEGER NOT NULL,
    posted_block INTEGER NOT NULL, posted_block_hash BLOB NOT NULL, salt BLOB, result_digest BLOB,
    result_cid TEXT, result_path TEXT, outcome TEXT, paid TEXT, epoch INTEGER,
    emission_claimed INTEGER NOT NULL DEFAULT 0, error_code TEXT, error_message TEXT,
    retries INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE INDEX jobs_state ON jobs (state);
CREATE TABLE job_history (job_id INTEGER NOT NULL, from_state TEXT, to_state TEXT NOT NULL, at REAL NOT NULL);
INSERT INTO jobs VALUES (7, 'committing', 'QmSpec', x'11', '5', 3, 2, '10', 1000, 2000, 3000, 5, x'22',
    x'33', x'44', 'QmResult', NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, 1.0, 2.0);
CREATE TABLE txs (
    key TEXT PRIMARY KEY, job_id INTEGER, label TEXT NOT NULL, sender TEXT NOT NULL, nonce INTEGER NOT NULL,
    to_address TEXT NOT NULL, data BLOB NOT NULL, value TEXT NOT NULL, gas INTEGER NOT NULL,
    max_fee TEXT NOT NULL, priority_fee TEXT NOT NULL, raw BLOB NOT NULL, hash BLOB NOT NULL,
    status TEXT NOT NULL, error TEXT, mined_block INTEGER, mined_hash BLOB, created_at REAL NOT NULL,
    sent_at REAL
);
CREATE INDEX txs_status ON txs (status);
CREATE TABLE tx_hashes (hash BLOB PRIMARY KEY, key TEXT NOT NULL, raw BLOB NOT NULL);
INSERT INTO txs VALUES ('commit:7', 7, 'commit(7)', '0xcd', 4, '0xab', x'1234', '0', 90000,
    '1606938044258990275541962092341162602522202993782792835301383', '1000000000', x'f8', x'01', 'sent',
    NULL, NULL, NULL, 1.0, 2.0);
INSERT INTO tx_hashes VALUES (x'01', 'commit:7', x'f8');
CREATE TABLE cursors (name TEXT PRIMARY KEY, block INTEGER NOT NULL);
INSERT INTO cursors VALUES ('tessera', 42);
CREATE TABLE block_hashes (
    name TEXT NOT NULL, number INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (name, number)
);
CREATE TABLE seen_logs (
    block_hash BLOB NOT NULL, log_index INTEGER NOT NULL, block_number INTEGER NOT NULL,
    PRIMARY KEY (block_hash, log_index)
);
"""


def test_a_ledger_from_before_the_chain_store_opens_with_its_jobs_transactions_and_cursor(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(_OLD_LEDGER)
    old.close()

    file = SqliteFile(path)
    store, ledger = ChainStore(file), Ledger(file)
    assert ledger.get_job(7).state == JobState.COMMITTING
    assert ledger.get_job(7).salt == b"\x33"
    record = store.tx("commit:7")
    assert (record.status, record.nonce, record.max_fee) == (TxStatus.SENT, 4, 2**200 + 7)
    assert store.txs([TxStatus.SENT]) == [record]
    assert store.cursor("tessera") == 42
    ledger.bind(1337, "0x" + "ab" * 20, "0x" + "cd" * 20)  # the old binding holds
    file.close()


def test_a_file_of_another_schema_version_is_refused(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('schema_version', '2');"
    )
    old.close()
    with pytest.raises(ConfigError, match="schema 2"):
        ChainStore(path)
