"""The job ledger: compare-and-swap transitions, the salt kept across restarts, binding, uint256 round trips.

Transactions and log cursors live in the chain layer's store beside it: tests/worker/test_chain_store.py."""

from __future__ import annotations

import threading

import pytest

from offchain.errors import ConfigError
from offchain.worker.ledger import EscalatedRound, JobState, Ledger, PostedJob

BIG = 2**200 + 7  # a uint256 far beyond SQLite's INTEGER


def posted(job_id: int = 1, **overrides) -> PostedJob:
    values = dict(
        job_id=job_id,
        spec_cid="QmSpec",
        spec_digest=b"\x11" * 32,
        fee=BIG,
        replicas=3,
        quorum=2,
        collateral=10**19,
        claim_deadline=1_000,
        commit_deadline=2_000,
        reveal_deadline=3_000,
        posted_block=5,
        posted_block_hash=b"\x22" * 32,
    )
    values.update(overrides)
    return PostedJob(**values)


@pytest.fixture
def ledger(tmp_path):
    led = Ledger(tmp_path / "ledger.sqlite3", clock=lambda: 1_700_000_000.0)
    yield led
    led.close()


def test_a_job_is_recorded_once(ledger):
    assert ledger.record_posted(posted()) is True
    assert ledger.record_posted(posted()) is False
    job = ledger.get_job(1)
    assert job.state == JobState.SEEN
    assert job.fee == BIG
    assert job.spec_digest == b"\x11" * 32


def test_transition_is_compare_and_swap(ledger):
    ledger.record_posted(posted())
    assert ledger.transition(1, JobState.SEEN, JobState.CLAIMING) is True
    # a second mover expecting the old state loses, and nothing changes
    assert ledger.transition(1, JobState.SEEN, JobState.SKIPPED, error_code="E_X") is False
    job = ledger.get_job(1)
    assert job.state == JobState.CLAIMING
    assert job.error_code is None
    assert ledger.transition(1, (JobState.CLAIMING, JobState.CLAIMED), JobState.CLAIMED) is True
    assert ledger.history(1) == [(None, "seen"), ("seen", "claiming"), ("claiming", "claimed")]


def test_transition_of_an_unknown_job_is_refused(ledger):
    assert ledger.transition(99, JobState.SEEN, JobState.CLAIMING) is False


def test_only_one_of_many_threads_wins_a_transition(ledger):
    ledger.record_posted(posted())
    barrier = threading.Barrier(8)
    wins = []

    def contend(i: int) -> None:
        barrier.wait()
        if ledger.transition(1, JobState.SEEN, JobState.CLAIMING, retries=i):
            wins.append(i)

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert ledger.get_job(1).retries == wins[0]


def test_the_salt_is_created_once_and_survives_a_restart(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    calls = []

    def make_salt() -> bytes:
        calls.append(1)
        return bytes([len(calls)]) * 32

    led = Ledger(path)
    led.record_posted(posted())
    first = led.ensure_salt(1, make_salt)
    assert led.ensure_salt(1, make_salt) == first
    led.close()

    reopened = Ledger(path)
    assert reopened.get_job(1).salt == first
    assert reopened.ensure_salt(1, make_salt) == first
    assert len(calls) == 1
    reopened.close()


def test_a_ledger_refuses_another_chain_or_key(ledger):
    ledger.bind(1337, "0x" + "ab" * 20, "0x" + "cd" * 20)
    ledger.bind(1337, "0x" + "AB" * 20, "0x" + "cd" * 20)  # same, other case
    with pytest.raises(ConfigError, match="chain_id 1337"):
        ledger.bind(1, "0x" + "ab" * 20, "0x" + "cd" * 20)
    with pytest.raises(ConfigError, match="worker"):
        ledger.bind(1337, "0x" + "ab" * 20, "0x" + "ef" * 20)


def test_a_repost_in_another_block_with_the_same_spec_only_moves_the_job(ledger):
    ledger.record_posted(posted())
    assert ledger.repost(posted()) == "same"
    assert (
        ledger.repost(posted(posted_block=12, posted_block_hash=b"\x0c" * 32, commit_deadline=9_999))
        == "moved"
    )
    job = ledger.get_job(1)
    assert (job.posted_block, job.commit_deadline, job.state) == (12, 9_999, JobState.SEEN)


def test_another_spec_under_a_computed_job_id_drops_the_result_and_recomputes(ledger):
    ledger.record_posted(posted())
    for state in (JobState.CLAIMING, JobState.CLAIMED):
        ledger.transition(1, ledger.get_job(1).state, state)
    ledger.ensure_salt(1, lambda: b"\x05" * 32)
    ledger.transition(1, JobState.CLAIMED, JobState.COMPUTED, result_digest=b"\x01" * 32, result_path="/r")
    other = posted(spec_cid="QmOther", spec_digest=b"\x09" * 32, posted_block_hash=b"\x0d" * 32)
    assert ledger.repost(other) == "replaced"
    job = ledger.get_job(1)
    assert (job.state, job.spec_digest, job.result_digest, job.salt) == (
        JobState.CLAIMED,
        b"\x09" * 32,
        None,
        None,
    )
    # a compute that started on the old spec cannot attach its result any more
    old = ledger.transition(
        1, JobState.CLAIMED, JobState.COMPUTED, for_spec=posted().spec_digest, result_path="/o"
    )
    assert not old and ledger.get_job(1).state == JobState.CLAIMED


def test_another_spec_after_our_commitment_changes_nothing(ledger):
    ledger.record_posted(posted())
    for state in (
        JobState.CLAIMING,
        JobState.CLAIMED,
        JobState.COMPUTED,
        JobState.UPLOADED,
        JobState.COMMITTING,
    ):
        ledger.transition(1, ledger.get_job(1).state, state)
    other = posted(spec_cid="QmOther", spec_digest=b"\x09" * 32, posted_block_hash=b"\x0d" * 32)
    assert ledger.repost(other) == "kept"
    assert ledger.get_job(1).spec_digest == posted().spec_digest


ROUND_ONE = EscalatedRound(
    job_id=1,
    round=1,
    replicas=5,
    quorum=3,
    claim_deadline=4_000,
    commit_deadline=5_000,
    reveal_deadline=6_000,
)


def test_an_escalation_gives_an_unclaimed_job_the_new_round_and_decides_it_again(ledger):
    ledger.record_posted(posted())
    ledger.transition(1, JobState.SEEN, JobState.SKIPPED, error_code="E_JOB_NOT_CLAIMABLE")
    assert ledger.escalate(ROUND_ONE) == JobState.SEEN
    job = ledger.get_job(1)
    assert (job.round, job.replicas, job.quorum, job.claim_deadline, job.reveal_deadline) == (
        1,
        5,
        3,
        4_000,
        6_000,
    )
    assert job.error_code is None
    assert ledger.escalate(ROUND_ONE) == JobState.SEEN  # the same event again changes nothing
    assert ledger.history(1)[-1] == ("skipped", "seen")


def test_an_escalation_parks_a_claimed_job_in_its_own_round_until_the_settlement(ledger):
    ledger.record_posted(posted())
    ledger.transition(1, JobState.SEEN, JobState.REVEALED)
    assert ledger.escalate(ROUND_ONE) == JobState.ESCALATED
    job = ledger.get_job(1)
    assert (job.state, job.round, job.replicas, job.reveal_deadline) == (JobState.ESCALATED, 0, 3, 3_000)
    assert ledger.escalate(EscalatedRound(**{**ROUND_ONE.__dict__, "round": 2})) == JobState.ESCALATED
    assert ledger.escalate(EscalatedRound(**{**ROUND_ONE.__dict__, "job_id": 9})) is None  # unknown job


def test_a_ledger_written_before_rounds_gains_the_round_column(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    Ledger(path).close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE jobs DROP COLUMN round")
    db.commit()
    db.close()
    reopened = Ledger(path)
    reopened.record_posted(posted())
    assert reopened.get_job(1).round == 0
    reopened.close()


def test_a_job_claimed_in_the_escalated_round_is_not_parked_by_that_round_s_event(ledger):
    """The decide step may record the new round from get_job before the poller handles JobEscalated; the
    event, handled after the claim, must not park the job this worker claimed in that very round."""
    ledger.record_posted(posted())
    ledger.transition(1, JobState.SEEN, JobState.SKIPPED)
    ledger.escalate(ROUND_ONE)
    ledger.transition(1, JobState.SEEN, JobState.CLAIMED)
    assert ledger.escalate(ROUND_ONE) == JobState.CLAIMED
    assert ledger.get_job(1).round == 1
