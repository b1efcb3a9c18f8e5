"""A loopback trustless gateway for the worker-level IPFS fault tests (T23): honest for most blocks, hostile
for the ones a test names.

It serves ``GET /ipfs/<cid>?format=raw`` from a `LocalBlockStore` directory (the market's store, where
the tests publish specs and inputs). ``behave(cid, mode)`` makes every request for that block misbehave:

* ``ok``        the block, ``application/vnd.ipld.raw`` (the default)
* ``missing``   404
* ``busy``      504 Gateway Timeout (a gateway that could not find the block in time)
* ``drip``      a 200 that sends one byte a second, forever (until the client hangs up)
* ``endless``   a 200 without a length that sends 64 KiB pieces as fast as it can, forever
* ``wrong``     a 200 with bytes that do not hash to the CID (the right length, every byte flipped)
* ``loop``      302 to itself, forever

Every request is recorded (CID, mode, status, bytes written, seconds until the handler returned), so a
test can show that each hostile answer was cut off within bounded bytes and time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer
from urllib.parse import urlsplit

from offchain.errors import TesseraError
from offchain.ipfs import CID, LocalBlockStore

MODES = ("ok", "missing", "busy", "drip", "endless", "wrong", "loop")
DRIP_INTERVAL_S = 1.0
ENDLESS_PIECE = 65_536
RAW = "application/vnd.ipld.raw"


@dataclass(frozen=True)
class Served:
    """One request the gateway answered (or stopped answering)."""

    cid: str  # as requested (CIDv0 or v1 text)
    multihash: bytes
    mode: str
    status: int
    sent: int  # body bytes written before the handler returned
    seconds: float


@dataclass
class _State:
    store: LocalBlockStore
    modes: dict[bytes, str] = field(default_factory=dict)  # multihash -> mode
    served: list[Served] = field(default_factory=list)
    in_flight: int = 0  # requests whose handler has not returned yet
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(state: _State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet test output
            return

        def do_HEAD(self) -> None:  # noqa: N802 - the worker never asks; answer like a gateway would
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            if not path.startswith("/ipfs/"):
                self._send(404, b"not an /ipfs/ path")
                return
            text = path.removeprefix("/ipfs/").strip("/")
            try:
                cid = CID.parse(text)
            except (TesseraError, ValueError):
                self._send(400, b"not a CID")
                return
            with state.lock:
                mode = state.modes.get(cid.multihash, "ok")
                state.in_flight += 1
            started = time.monotonic()
            try:
                status, sent = self._answer(cid, mode)
            finally:
                with state.lock:
                    state.in_flight -= 1
            with state.lock:
                state.served.append(
                    Served(text, cid.multihash, mode, status, sent, time.monotonic() - started)
                )

        # -- behaviours ------------------------------------------------------------------------------
        def _answer(self, cid: CID, mode: str) -> tuple[int, int]:
            path = state.store.block_path(cid)
            block = path.read_bytes() if path.is_file() else None
            if mode == "missing" or (block is None and mode in ("ok", "wrong")):
                return self._send(404, f"no block {cid}".encode())
            if mode == "busy":
                return self._send(504, b"gateway timeout: no provider answered in time")
            if mode == "loop":
                self.send_response(302)
                self.send_header("Location", self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return 302, 0
            if mode == "wrong":
                assert block is not None
                return self._send(200, bytes(b ^ 0xFF for b in block) or b"\x00", RAW)
            if mode in ("drip", "endless"):
                return self._stream_forever(drip=mode == "drip")
            assert block is not None
            return self._send(200, block, RAW)

        def _stream_forever(self, *, drip: bool) -> tuple[int, int]:
            self.send_response(200)
            self.send_header("Content-Type", RAW)
            self.send_header("Connection", "close")
            self.end_headers()
            piece = b"x" if drip else b"x" * ENDLESS_PIECE
            sent = 0
            try:
                while not state.stop.is_set():
                    self.wfile.write(piece)
                    self.wfile.flush()
                    sent += len(piece)
                    if drip:
                        state.stop.wait(DRIP_INTERVAL_S)
            except OSError:
                pass  # the client hung up, as it should
            self.close_connection = True
            return 200, sent

        def _send(self, status: int, body: bytes, content_type: str = "text/plain") -> tuple[int, int]:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                return status, 0
            return status, len(body)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:  # skip the FQDN lookup HTTPServer does (slow without DNS)
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class HostileGateway:
    """``with HostileGateway(store_dir) as gw:`` a gateway on 127.0.0.1:<ephemeral> serving ``store_dir``."""

    def __init__(self, store_dir: str | Path) -> None:
        self._state = _State(LocalBlockStore(store_dir))
        self._server = _Server(("127.0.0.1", 0), _handler(self._state))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def behave(self, cid: CID | str, mode: str) -> None:
        """Answer every request for block ``cid`` in ``mode`` (see the module docstring)."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        with self._state.lock:
            self._state.modes[CID.parse(cid).multihash] = mode

    def served(self, cid: CID | str | None = None) -> list[Served]:
        """The requests answered so far (for block ``cid`` only, when given)."""
        with self._state.lock:
            served = list(self._state.served)
        if cid is None:
            return served
        multihash = CID.parse(cid).multihash
        return [s for s in served if s.multihash == multihash]

    def in_flight(self) -> int:
        """Requests still being answered (a stream the client has not hung up on yet)."""
        with self._state.lock:
            return self._state.in_flight

    def __enter__(self) -> HostileGateway:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._state.stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
