"""Prometheus metrics and the local HTTP endpoint serving /metrics, /healthz and /readyz.

Every metric lives in a registry owned by one `WorkerMetrics` (no process-global registry), so tests
can run several workers in one process. The server binds 127.0.0.1 only: nothing leaves the machine.

/healthz answers 200 while the worker's loop is alive; /readyz answers 200 once setup passed and the
last successful log poll is recent (``ready_after_s``), 503 otherwise, with the reason in the body.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

STAGES = ("detect", "fetch", "compute", "upload", "commit", "reveal", "finalize")


class WorkerMetrics:
    """The worker's metrics, in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.jobs = Counter("tessera_jobs_total", "Jobs by final local outcome.", ["outcome"], registry=r)
        self.skips = Counter(
            "tessera_jobs_skipped_total", "Jobs declined, by reason code.", ["reason"], registry=r
        )
        self.failures = Counter(
            "tessera_job_failures_total", "Job failures by error code.", ["code"], registry=r
        )
        self.txs = Counter("tessera_txs_total", "Transactions sent, by kind.", ["kind"], registry=r)
        self.stage_seconds = Histogram(
            "tessera_stage_seconds",
            "Seconds spent per pipeline stage.",
            ["stage"],
            registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
        )
        self.escalations = Counter(
            "tessera_escalations_total",
            "Jobs this worker claimed whose round escalated (it waits for the final settlement).",
            registry=r,
        )
        self.in_flight = Gauge("tessera_jobs_in_flight", "Jobs holding collateral.", registry=r)
        self.head = Gauge("tessera_chain_head_block", "Latest block seen.", registry=r)
        self.cursor = Gauge("tessera_log_cursor_block", "Last block whose logs were handled.", registry=r)
        self.reorgs = Counter("tessera_reorgs_total", "Chain reorganisations detected.", registry=r)
        self.last_poll = Gauge(
            "tessera_last_poll_timestamp_seconds", "Unix time of the last good poll.", registry=r
        )
        self.balance = Gauge("tessera_account_balance_wei", "Native balance of the worker key.", registry=r)
        self.free_stake = Gauge("tessera_free_stake_wei", "Stake available for new collateral.", registry=r)
        self.emission = Counter(
            "tessera_emission_claimed_wei_total", "TSR minted to this worker.", registry=r
        )
        self.slashed = Counter(
            "tessera_slashed_wei_total",
            "TSR slashed from this operator's stake, by reason.",
            ["reason"],
            registry=r,
        )
        self.jailed_until = Gauge(
            "tessera_jailed_until_timestamp_seconds", "Unix time this operator's last jail ends.", registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        return


class HealthServer:
    """/metrics, /healthz, /readyz on 127.0.0.1:``port``, served from a daemon thread."""

    def __init__(
        self,
        metrics: WorkerMetrics,
        *,
        port: int,
        alive: Callable[[], bool],
        ready: Callable[[], tuple[bool, str]],
        host: str = "127.0.0.1",
    ) -> None:
        self._metrics = metrics
        self._alive = alive
        self._ready = ready
        self._server: WSGIServer = make_server(host, port, self._app, handler_class=_QuietHandler)
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="tessera-http", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _app(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            body = self._metrics.render()
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
            return [body]
        if path == "/healthz":
            ok = self._alive()
            start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"ok\n" if ok else b"worker loop stopped\n"]
        if path == "/readyz":
            ok, reason = self._ready()
            start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")])
            return [(reason or "ready").encode() + b"\n"]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: try /metrics, /healthz or /readyz\n"]
