"""The read-only pages in a real browser show what the chain holds.

Operators and a requester act by sending transactions directly: a 3-replica job whose round 0 disagrees
(one of three operators lies), so at its reveal deadline finalize escalates it (JobEscalated) to five fresh
operators who agree in round 1 and the settling finalize pays, slashes and jails the liar; a cancelled job,
one whose spec does not match its digest, one being worked on; then an epoch ends and two operators claim
their emission. The browser must show the same numbers the contracts and their events give (the job page's
round, Escalation table and each claimant's round included), pick up a job posted while the jobs page is
open without a reload, fit a phone's screen, and log no console errors.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from offchain.chain.protocol import SlashReason
from offchain.chain.reliability import read_records
from offchain.devchain import LOCAL_CHAIN_ID
from tests.browser.market import MATMUL_SPEC, Market, market
from tests.support.chain import TSR, dev_account

pytestmark = [pytest.mark.anvil, pytest.mark.browser]

PAGES = [
    {"name": "network", "hash": "", "page": "network"},
    {"name": "operators", "hash": "operators", "page": "operators"},
    {"name": "jobs", "hash": "jobs", "page": "jobs"},
    {"name": "job-completed", "hash": "jobs/1", "page": "job",
     "wait": ['[data-testid="spec-check"]', '[data-testid="result-check"]']},
    {"name": "job-spec-mismatch", "hash": "jobs/3", "page": "job", "wait": ['[data-testid="spec-check"]']},
    {"name": "post", "hash": "post", "page": "post"},
]  # fmt: skip


def populate(m: Market) -> dict:
    """Put jobs in every interesting state; return what the pages should show."""
    operators = [dev_account(i) for i in (1, 2, 3)]
    fresh = [dev_account(i) for i in (5, 6, 7, 8, 9)]  # round 1's replicas, staked once round 0 is over
    for op in operators:
        m.stake_operator(op)
    m.fund(m.requester, 100 * TSR)
    good, bad = b"the agreed result bytes", b"a wrong result"

    completed = m.post_job(fee=3 * TSR, replicas=3, quorum=2)
    cids = m.work(
        completed, {operators[0].address: good, operators[1].address: good, operators[2].address: bad}
    )
    # Round 0 disagrees: finalize escalates it, but only once its reveal deadline has passed.
    round0 = m.contracts.get_job(completed)
    m.advance(round0.reveal_deadline - m.w3.eth.get_block("latest")["timestamp"] + 1)
    escalated = m.finalize(completed)
    assert [e.name for e in m.contracts.events_in(escalated)] == ["JobEscalated"]
    for op in fresh:
        m.stake_operator(op)
    m.work(completed, {op.address: good for op in fresh})
    finalized = m.finalize(completed)
    assert "JobCompleted" in [e.name for e in m.contracts.events_in(finalized)]
    cancelled = m.post_job()
    m.send(m.requester, "JobRegistry", "cancel", cancelled)
    mismatched = m.post_job(digest=hashlib.sha256(b"some other spec").digest())
    working = m.post_job(replicas=1, quorum=1)
    m.send(operators[0], "JobRegistry", "claim", working)

    c = m.contracts
    epoch_length = c.emitter.functions.EPOCH_LENGTH().call()
    genesis = c.emitter.functions.GENESIS().call()
    finalized_at = m.w3.eth.get_block(finalized["blockNumber"])["timestamp"]
    m.advance(epoch_length + 1)
    epoch = (finalized_at - genesis) // epoch_length
    for op in operators[:2]:
        m.send(op, "RewardEmitter", "claim", [epoch])

    operators = operators + fresh
    events = all_events(m)
    fees = {op.address: 0 for op in operators}
    emission = {op.address: 0 for op in operators}
    for e in events:
        if e.name == "WorkerPaid":
            fees[e.args["worker"]] += e.args["amount"]
        elif e.name == "EmissionClaimed":
            emission[e.args["operator"]] += e.args["amount"]
    assert all(emission[op.address] > 0 for op in operators[:2]), "the setup should mint emission"
    return {
        "operators": operators,
        "jobs": {
            "completed": completed,
            "cancelled": cancelled,
            "mismatched": mismatched,
            "working": working,
        },
        "result_cid": cids[operators[0].address],
        "fees": fees,
        "emission": emission,
        "protocol_fee": sum(e.args["protocol_fee"] for e in events if e.name == "JobCompleted"),
        "gas": _gas_per_step(m, completed, events),
    }


def all_events(m: Market) -> list:
    c = m.contracts
    logs = m.w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": c.addresses})
    return [e for e in (c.decode_log(log) for log in logs) if e is not None]


def _gas_per_step(m: Market, job_id: int, events) -> dict[str, int]:
    steps: dict[str, bytes] = {}
    for e in events:
        if e.args.get("job_id") != job_id:
            continue
        if e.name == "JobPosted":
            steps["post_job"] = e.tx_hash
        elif e.name in ("JobClaimed", "ResultCommitted", "ResultRevealed"):
            index = m.contracts.claimants(job_id).index(e.args["worker"])
            verb = {"JobClaimed": "claim", "ResultCommitted": "commit", "ResultRevealed": "reveal"}[e.name]
            steps[f"{verb} #{index}"] = e.tx_hash
        elif e.name == "JobEscalated":  # the finalize that closed the disputed round
            steps[f"escalate to round {e.args['round']}"] = e.tx_hash
        elif e.name == "JobCompleted":
            steps["finalize"] = e.tx_hash
    return {step: m.w3.eth.get_transaction_receipt(tx)["gasUsed"] for step, tx in steps.items()}


def test_pages_show_what_the_chain_holds(tmp_path: Path, artifacts, frontend_build, run_driver):
    with market(tmp_path, artifacts, build_dir=frontend_build) as m:
        expected = populate(m)
        c = m.contracts
        head = m.w3.eth.block_number
        jobs = expected["jobs"]
        spec_cid, spec_digest = m.publish_spec(
            {**MATMUL_SPEC, "workload": {"name": "matmul", "n": 8, "seed": 1}}
        )
        fee = TSR
        live_txs = [
            m.calldata("TesseraToken", "approve", c.registry.address, fee),
            m.calldata("JobRegistry", "post_job", spec_cid, spec_digest, fee, 1, 1, 10 * TSR, 600, 600, 600),
        ]
        report = run_driver("pages", {
            "url": m.dashboard.url,
            "rpc_url": m.rpc_url,
            "block": head,
            "pages": PAGES,
            "live": {"from": m.requester.address, "txs": live_txs, "expect_job": 5},
        })  # fmt: skip

        # --- network
        network = report["pages"]["network"]
        values = {k: v["value"] for k, v in network["testids"].items()}
        assert (
            int(values["total-staked"]) == c.staking.functions.total_bonded().call() == 3_990 * TSR
        )  # eight operators staked 500 each; the liar lost its 10 of collateral
        assert int(values["job-count"]) == 4
        assert int(values["current-epoch"]) == c.emitter.functions.current_epoch().call()
        assert int(values["total-minted"]) == c.emitter.functions.total_minted().call() > 0
        assert int(values["total-supply"]) == c.token.functions.totalSupply().call()
        assert int(values["fees-burned"]) == expected["protocol_fee"] > 0
        assert int(values["operators-count"]) == len(expected["operators"]) == 8
        states = {k: int(v) for k, v in network["states"].items()}
        assert states == {"Open": 1, "Claimed": 0, "Committing": 1, "Revealing": 0, "Completed": 1,
                          "Failed": 0, "Cancelled": 1, "Expired": 0}  # fmt: skip
        params = {k: int(v) for k, v in network["params"].items()}
        assert params["min_stake"] == c.staking.functions.min_stake().call()
        assert params["protocol_fee_bps"] == c.registry.functions.protocol_fee_bps().call()
        assert params["min_fee"] == c.registry.functions.min_fee().call()
        assert params["epoch_length"] == c.emitter.functions.EPOCH_LENGTH().call()
        assert params["halving_epochs"] == c.emitter.functions.HALVING_EPOCHS().call()
        assert "emission-chart" in network["testids"] and "epochs-chart" in network["testids"]

        # --- operators
        rows = report["pages"]["operators"]["operators"]
        liar = expected["operators"][2].address
        for op in expected["operators"]:
            row = rows[op.address]
            assert int(row["bonded"]) == c.staking.functions.bonded(op.address).call(), op.address
            assert int(row["locked"]) == c.staking.functions.locked(op.address).call(), op.address
            assert int(row["jobs-completed"]) == (0 if op.address == liar else 1)
            assert int(row["slashes"]) == (1 if op.address == liar else 0)
            assert int(row["jailed"]) == (1 if op.address == liar else 0)
            assert int(row["fees"]) == expected["fees"][op.address]
            assert int(row["emission"]) == expected["emission"][op.address]
            assert int(row["earnings"]) == expected["fees"][op.address] + expected["emission"][op.address]
        assert int(rows[expected["operators"][0].address]["locked"]) == 10 * TSR  # the job being worked on
        # reliability records: the browser folds the events as offchain.chain.reliability does
        records = read_records(c)
        for op in expected["operators"]:
            row, record = rows[op.address], records[op.address]
            shown = {k: int(row[k]) for k in ("agreed", "settled", "misses")}
            assert shown == {"agreed": record.agreed, "settled": record.settled, "misses": record.misses}
            assert shown == {"agreed": 0 if op.address == liar else 1, "settled": 1, "misses": 0}
            assert {r: int(row[f"slashed-{r.name.lower().replace('_', '-')}"]) for r in SlashReason} == {
                r: n for r, n in record.slashes.items()
            }
            assert int(row["slashed-wrong-result"]) == (1 if op.address == liar else 0)
            assert row["agreed-share"] == str(record.agreed_bps) == ("0" if op.address == liar else "10000")

        # --- jobs
        assert report["pages"]["jobs"]["jobs"] == {
            str(jobs["completed"]): "Completed", str(jobs["cancelled"]): "Cancelled",
            str(jobs["mismatched"]): "Open", str(jobs["working"]): "Committing",
        }  # fmt: skip
        done = report["pages"]["job-completed"]["testids"]
        assert done["phase"]["text"] == "Completed"
        assert done["result"]["value"] == expected["result_cid"]
        assert done["spec-check"]["value"] == "match"
        assert done["result-check"]["value"] == "match"
        assert expected["result_cid"] in done["result-download"]["href"]
        assert "download=true" in done["result-download"]["href"]
        gas = {k: int(v) for k, v in report["pages"]["job-completed"]["gas"].items()}
        assert gas == expected["gas"]
        assert int(done["gas-total"]["value"]) == sum(expected["gas"].values())
        assert "escalate to round 1" in gas and "finalize" in gas  # the escalating and the settling finalize

        # --- the job's rounds, as the chain holds them
        page = report["pages"]["job-completed"]
        job_id = jobs["completed"]
        view = c.get_job(job_id)
        assert done["job-round"]["value"] == str(view.round) == "1"
        assert done["job-round"]["text"] == f"{view.round} · {view.replicas} · {view.quorum}"
        assert done["job-replicas"]["text"] == "3 · 2"  # as posted
        assert done["job-progress"]["text"] == (
            f"{view.claims} claimed · {view.commits} committed · {view.reveals} revealed"
        )
        escalations = [e for e in all_events(m) if e.name == "JobEscalated" and e.args["job_id"] == job_id]
        assert done["escalations"]["value"] == str(len(escalations)) == "1"
        claimants = c.claimants(job_id)
        assert page["replicaRounds"] == {
            str(i): str(0 if i < view.first_slot else view.round) for i in range(len(claimants))
        }
        assert view.first_slot == 3 and len(claimants) == 8
        posted = next(e for e in all_events(m) if e.name == "JobPosted" and e.args["job_id"] == job_id)
        rows = page["rounds"]
        assert set(rows) == {"0", "1"}
        assert rows["0"]["Replicas · quorum"] == f"{posted.args['replicas']} · {posted.args['quorum']}"
        assert rows["0"]["Claimed"] == str(view.first_slot)
        assert f"block {posted.block_number}" in rows["0"]["Opened"]
        (escalation,) = escalations
        assert escalation.args["round"] == view.round
        replicas, quorum = escalation.args["replicas"], escalation.args["quorum"]
        assert rows["1"]["Replicas · quorum"] == f"{replicas} · {quorum}"
        assert (replicas, quorum) == (view.replicas, view.quorum)
        assert rows["1"]["Claimed"] == str(len(claimants) - view.first_slot) == str(view.claims)
        assert f"block {escalation.block_number}" in rows["1"]["Opened"]
        assert "escalated" in rows["1"]["Opened"] and "posted" in rows["0"]["Opened"]
        assert report["pages"]["job-spec-mismatch"]["testids"]["spec-check"]["value"] == "mismatch"
        post = report["pages"]["post"]["testids"]
        assert post["spec-status"]["value"] == "valid"

        # --- live, phone, console, screenshots
        assert report["live"] == {"before": 4, "after": 5, "sameDocument": True, "phase": "Open"}
        assert {name: v["overflows"] for name, v in report["mobile"].items()} == {
            p["name"]: False for p in PAGES
        }
        assert report["console"] == [], report["console"]
        assert len(report["screenshots"]) == 2 * len(PAGES)
        assert all(Path(p).stat().st_size > 10_000 for p in report["screenshots"])
        assert m.w3.eth.chain_id == LOCAL_CHAIN_ID
