"""Metrics and health endpoints on 127.0.0.1, and structured log lines carrying job id, tx hash and CID."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request

from offchain.devchain import free_port
from offchain.worker.logsetup import JsonFormatter, TextFormatter
from offchain.worker.metrics import HealthServer, WorkerMetrics


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_metrics_health_and_readiness_are_served_locally():
    metrics = WorkerMetrics()
    metrics.skips.labels("E_FEE_TOO_LOW").inc()
    state = {"alive": True, "ready": (False, "no log poll has succeeded yet")}
    server = HealthServer(
        metrics, port=free_port(), alive=lambda: state["alive"], ready=lambda: state["ready"]
    )
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        status, body = get(base + "/metrics")
        assert status == 200 and 'tessera_jobs_skipped_total{reason="E_FEE_TOO_LOW"} 1.0' in body
        assert get(base + "/healthz") == (200, "ok\n")
        assert get(base + "/readyz") == (503, "no log poll has succeeded yet\n")
        state["ready"] = (True, "ready")
        assert get(base + "/readyz")[0] == 200
        state["alive"] = False
        assert get(base + "/healthz")[0] == 503
        assert get(base + "/nope")[0] == 404
    finally:
        server.stop()


def test_two_workers_in_one_process_keep_separate_metrics():
    a, b = WorkerMetrics(), WorkerMetrics()
    a.reorgs.inc()
    assert b"tessera_reorgs_total 0.0" in b.render()


def record(**extra) -> logging.LogRecord:
    rec = logging.LogRecord("offchain.worker.pipeline", logging.INFO, __file__, 1, "commit sent", (), None)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_json_lines_carry_the_job_context():
    line = JsonFormatter().format(record(job_id=7, tx_hash="0xabc", cid="QmX"))
    entry = json.loads(line)
    assert entry["msg"] == "commit sent" and entry["job_id"] == 7 and entry["tx_hash"] == "0xabc"
    assert entry["cid"] == "QmX" and entry["level"] == "info"


def test_text_lines_append_the_job_context():
    line = TextFormatter().format(record(job_id=7, cid="QmX"))
    assert line.endswith("commit sent job_id=7 cid=QmX")
    assert "tx_hash" not in line
