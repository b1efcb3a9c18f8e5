"""The finalize order every worker of a job computes alike: revealers first, then other claimants, each by
keccak256(abi.encode(job_id, worker)); it differs between jobs, so no worker finalizes everything."""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from offchain.worker.finalizer import finalize_key, finalize_order, finalize_rank

WORKERS = ["0x" + f"{n:040x}" for n in (0xA1, 0xB2, 0xC3, 0xD4)]


def test_the_key_is_keccak_of_the_abi_encoded_job_id_and_worker():
    assert finalize_key(7, WORKERS[0]) == keccak(encode(["uint256", "address"], [7, WORKERS[0]]))


def test_every_worker_computes_the_same_order_whatever_order_it_lists_them_in():
    order = finalize_order(7, WORKERS)
    assert finalize_order(7, list(reversed(WORKERS))) == order
    assert [finalize_rank(7, w, reversed(WORKERS)) for w in order] == [0, 1, 2, 3]


def test_revealers_come_before_claimants_that_did_not_reveal():
    revealers, silent = WORKERS[2:], WORKERS[:2]
    order = finalize_order(7, revealers, WORKERS)
    assert {w.lower() for w in order[:2]} == set(revealers) and {w.lower() for w in order[2:]} == set(silent)
    assert finalize_rank(7, "0x" + "ee" * 20, revealers, WORKERS) == 4  # not a claimant: after everyone


def test_the_first_finalizer_changes_from_job_to_job():
    firsts = {finalize_order(job_id, WORKERS)[0] for job_id in range(1, 40)}
    assert len(firsts) == len(WORKERS)
