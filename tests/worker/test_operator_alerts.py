"""A worker makes its own operator's slash and jail loud (an error log and metrics) and ignores others'."""

from __future__ import annotations

import logging

from offchain.chain.bindings import Event
from offchain.settings import Settings
from offchain.worker.service import Worker
from tests.support.chain import dev_account

ME, OTHER = dev_account(1), dev_account(2)


def staking_event(name: str, **args) -> Event:
    return Event("Staking", name, args, "0x" + "11" * 20, 7, b"\x01" * 32, 0, b"\x02" * 32)


def worker(tmp_path) -> Worker:
    w = Worker(Settings(_env_file=None, data_dir=tmp_path), account=ME)
    w.account = ME  # what setup() would load; no chain is needed to handle a decoded event
    return w


def test_a_slash_of_this_operator_is_logged_and_counted_by_reason(tmp_path, caplog):
    w = worker(tmp_path)
    slashed = staking_event(
        "OperatorSlashed", operator=ME.address, job_id=9, reason=2, amount=10**18, reward=0, burned=0,
        beneficiary=OTHER.address,
    )  # fmt: skip
    with caplog.at_level(logging.ERROR):
        w._on_staking_event(slashed)
    assert "slashed 1000000000000000000 TSR wei for liveness on job 9" in caplog.text
    assert 'tessera_slashed_wei_total{reason="liveness"} 1e+18' in w.metrics.render().decode()


def test_a_jail_of_this_operator_is_logged_with_its_end(tmp_path, caplog):
    w = worker(tmp_path)
    with caplog.at_level(logging.ERROR):
        w._on_staking_event(staking_event("OperatorJailed", operator=ME.address, until=2_000_000_000))
    assert "jailed until 2033-05-18T03:33:20+00:00" in caplog.text
    assert "tessera_jailed_until_timestamp_seconds 2e+09" in w.metrics.render().decode()


def test_another_operators_slash_is_ignored(tmp_path, caplog):
    w = worker(tmp_path)
    other = staking_event(
        "OperatorSlashed", operator=OTHER.address, job_id=9, reason=1, amount=5, reward=0, burned=0,
        beneficiary=ME.address,
    )  # fmt: skip
    with caplog.at_level(logging.INFO):
        w._on_staking_event(other)
    assert caplog.text == ""
    assert "tessera_slashed_wei_total{" not in w.metrics.render().decode()
