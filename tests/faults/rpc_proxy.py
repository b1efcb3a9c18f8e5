"""A loopback JSON-RPC proxy in front of a node (anvil) that injects the faults hosted RPCs produce.

    with RpcProxy(upstream_url) as proxy:
        proxy.fault = Fault("http_429", every=3, retry_after_s=0.2)   # every 3rd request answered 429
        proxy.chain_id = 999                                           # eth_chainId lies
        proxy.max_log_range = 5                                        # eth_getLogs over 5 blocks refused
        proxy.pending_as_latest = True                                 # simulations ignore the pool
        ... point the worker at proxy.url ...

Fault kinds (``Fault.kind``):

* ``drop``      close the connection without an answer (the client sees a reset/empty reply);
* ``http_429``  HTTP 429 with ``Retry-After``;  ``http_500`` HTTP 500;
* ``truncate``  forward the request, then return only the first half of the node's JSON;
* ``stall``     wait ``stall_s`` before answering (longer than the client's timeout = a timeout).

``after=True`` forwards the request to the node *before* failing the answer: the node acted (a
transaction was accepted) but the client cannot know, the case that tempts a client to send twice.
``pending_as_latest`` answers `eth_call` and `eth_estimateGas` at "pending" as at "latest", as many hosted
RPCs do and as a worker on another node than the sender sees it: other senders' transactions still in
the pool are invisible to a simulation.

``methods`` restricts the fault to some JSON-RPC methods. Counters: ``calls`` by method, ``faults``
by kind, ``raw_txs`` (every raw transaction forwarded, with its hash).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from eth_utils import keccak


@dataclass
class Fault:
    kind: str  # drop | http_429 | http_500 | truncate | stall
    every: int = 1  # fault one request in ``every`` (of those matching ``methods``)
    methods: frozenset[str] | None = None
    after: bool = False
    retry_after_s: float = 0.2
    stall_s: float = 30.0
    limit: int | None = None  # stop after this many faults


class RpcProxy:
    """See the module docstring. Thread-safe; start with ``with`` or `start`/`stop`."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.fault: Fault | None = None
        self.chain_id: int | None = None
        self.max_log_range: int | None = None
        self.pending_as_latest = False
        self.calls: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.raw_txs: list[bytes] = []
        self._matching = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                proxy._handle(self, body)

        class Server(ThreadingHTTPServer):
            def handle_error(self, *_args: Any) -> None:
                pass  # resets from clients (and from the drop fault itself) are expected here

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> RpcProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> RpcProxy:
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ internals
    def _pick_fault(self, methods: list[str]) -> Fault | None:
        with self._lock:
            for m in methods:
                self.calls[m] += 1
            fault = self.fault
            if fault is None or (fault.methods is not None and not fault.methods & set(methods)):
                return None
            if fault.limit is not None and sum(self.faults.values()) >= fault.limit:
                return None
            self._matching += 1
            if self._matching % fault.every:
                return None
            self.faults[fault.kind] += 1
            return fault

    def _forward(self, body: bytes) -> bytes:
        request = urllib.request.Request(
            self.upstream, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def _handle(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        try:
            payload = json.loads(body)
        except ValueError:
            payload = {}
        batch = payload if isinstance(payload, list) else [payload]
        methods = [str(p.get("method", "")) for p in batch]
        fault = self._pick_fault(methods)
        if fault is not None and not fault.after and self._fail(h, fault, b""):
            return
        # answers the proxy gives itself
        answers = [self._local_answer(p) for p in batch]
        if all(a is not None for a in answers):
            out = json.dumps(answers if isinstance(payload, list) else answers[0]).encode()
        else:
            for p in batch:
                if p.get("method") == "eth_sendRawTransaction":
                    raw = bytes.fromhex(str(p["params"][0]).removeprefix("0x"))
                    with self._lock:
                        self.raw_txs.append(keccak(raw))
            if self.pending_as_latest:
                body = self._pending_as_latest(payload, batch) or body
            out = self._forward(body)
            if self.chain_id is not None and "eth_chainId" in methods:
                out = self._rewrite_chain_id(out)
        if fault is not None and fault.after and self._fail(h, fault, out):
            return
        self._send(h, 200, out)

    def _local_answer(self, p: dict) -> dict | None:
        if p.get("method") == "eth_getLogs" and self.max_log_range is not None:
            flt = (p.get("params") or [{}])[0]
            start, end = flt.get("fromBlock"), flt.get("toBlock")
            if not (isinstance(start, str) and isinstance(end, str)):
                return None
            if (
                start.startswith("0x")
                and end.startswith("0x")
                and (int(end, 16) - int(start, 16) + 1 > self.max_log_range)
            ):
                with self._lock:
                    self.faults["log_range"] += 1
                return {
                    "jsonrpc": "2.0",
                    "id": p.get("id"),
                    "error": {
                        "code": -32005,
                        "message": "query returned more than 10000 results; block range too large "
                        f"(max {self.max_log_range})",
                    },
                }
        return None

    @staticmethod
    def _pending_as_latest(payload: Any, batch: list[dict]) -> bytes | None:
        """The request with every simulation at "pending" asked at "latest" (None: nothing to change)."""
        changed = False
        for p in batch:
            params = p.get("params")
            simulation = p.get("method") in ("eth_call", "eth_estimateGas") and isinstance(params, list)
            if simulation and len(params) > 1 and params[1] == "pending":
                params[1] = "latest"
                changed = True
        return json.dumps(payload).encode() if changed else None

    def _rewrite_chain_id(self, out: bytes) -> bytes:
        data = json.loads(out)
        items = data if isinstance(data, list) else [data]
        for item in items:
            result = item.get("result")
            if isinstance(result, str) and result.startswith("0x") and len(result) <= 10:
                item["result"] = hex(self.chain_id)  # type: ignore[arg-type]
        return json.dumps(data).encode()

    def _fail(self, h: BaseHTTPRequestHandler, fault: Fault, out: bytes) -> bool:
        """Answer with the fault; False if the request should go on normally (stall)."""
        if fault.kind == "drop":
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.connection.shutdown(2)
            return True
        if fault.kind in ("http_429", "http_500"):
            status = 429 if fault.kind == "http_429" else 500
            headers = {"Retry-After": f"{fault.retry_after_s:g}"} if status == 429 else {}
            self._send(h, status, b'{"error":"injected"}', headers)
            return True
        if fault.kind == "truncate":
            data = out or b'{"jsonrpc":"2.0","id":1,"result":"0x1234567890abcdef"}'
            self._send(h, 200, data[: max(1, len(data) // 2)])
            return True
        if fault.kind == "stall":
            time.sleep(fault.stall_s)
            return False
        raise ValueError(f"unknown fault kind {fault.kind!r}")

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)
