"""A loopback HTTP server that plays a trustless gateway and a Kubo RPC node, well or badly, for tests.

It serves blocks from a dict keyed by multihash. ``mode`` picks the behaviour of block responses:

* ``ok``        the right bytes, ``application/vnd.ipld.raw``
* ``wrong``     the right length, one byte flipped (a lying or corrupted source)
* ``missing``   404 (gateway) / 500 with Kubo's JSON error (RPC)
* ``drip``      a 200 that sends one byte every 50 ms, forever
* ``endless``   a 200 without length that sends bytes as fast as it can, forever
* ``stall``     accepts the request and never answers
* ``loop``      redirects to itself
* ``html``      200 ``text/html`` (a gateway that is not trustless)

The Kubo ``add`` handler computes the CID with ``aleph_cid`` (an independent implementation), or returns a
wrong one in ``add_wrong_cid`` mode. Every request's method and path are recorded.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from urllib.parse import parse_qs, urlsplit

import aleph_cid

from offchain.ipfs import CID, import_blocks

DRIP_INTERVAL_S = 0.05


@dataclass
class FakeIpfs:
    blocks: dict[bytes, bytes] = field(default_factory=dict)
    mode: str = "ok"
    requests: list[tuple[str, str]] = field(default_factory=list)
    added: list[bytes] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    delay_s: float = 0.0  # added before each block response
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, cid: CID, data: bytes) -> None:
        self.blocks[cid.multihash] = data

    def publish(self, data: bytes, cid_version: int = 0) -> CID:
        """Serve every block of ``data``'s DAG; return the root CID."""
        root = None
        for block in import_blocks(data, cid_version):
            self.put(block.cid, block.data)
            root = block.cid
        assert root is not None
        return root


def make_handler(fake: FakeIpfs) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet test output
            return

        # -- dispatch ----------------------------------------------------------------------------
        def do_GET(self) -> None:  # noqa: N802
            self._record()
            path = urlsplit(self.path).path
            if path.startswith("/api/v0/"):
                self._send(405, b"405 - Method Not Allowed", "text/plain")  # Kubo's RPC is POST-only
            elif path.startswith("/ipfs/"):
                self._serve_block(path.removeprefix("/ipfs/"), rpc=False)
            else:
                self._send(404, b"not found", "text/plain")

        def do_HEAD(self) -> None:  # noqa: N802
            self._record()
            path = urlsplit(self.path).path
            cid = CID.parse(path.removeprefix("/ipfs/"))
            status = 200 if cid.multihash in fake.blocks and fake.mode != "missing" else 404
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:  # noqa: N802
            self._record()
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            command = parts.path.removeprefix("/api/v0/")
            if command == "version":
                self._json({"Version": "0.0.0-fake", "Commit": "", "Repo": "16"})
            elif command == "block/get":
                self._serve_block(query["arg"][0], rpc=True)
            elif command == "block/stat":
                cid = CID.parse(query["arg"][0])
                if cid.multihash in fake.blocks:
                    self._json({"Key": str(cid), "Size": len(fake.blocks[cid.multihash])})
                else:
                    self._kubo_error("block was not found locally (offline): ipld: could not find node")
            elif command == "pin/add":
                self._json({"Pins": [query["arg"][0]]})
            elif command == "add":
                self._add(query)
            else:
                self._kubo_error(f"unknown command {command!r}", status=404)

        # -- behaviours --------------------------------------------------------------------------
        def _serve_block(self, cid_text: str, *, rpc: bool) -> None:
            with fake.lock:
                fake.in_flight += 1
                fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
            try:
                if fake.delay_s:
                    time.sleep(fake.delay_s)
                self._serve_block_now(cid_text, rpc=rpc)
            finally:
                with fake.lock:
                    fake.in_flight -= 1

        def _serve_block_now(self, cid_text: str, *, rpc: bool) -> None:
            cid = CID.parse(cid_text)
            mode = fake.mode
            data = fake.blocks.get(cid.multihash)
            if mode == "missing" or data is None:
                if rpc:
                    self._kubo_error(f"block {cid} not found")
                else:
                    self._send(404, f"no block {cid}".encode(), "text/plain")
            elif mode == "wrong":
                flipped = bytes((data[0] ^ 0xFF,)) + data[1:] if data else b"\x00"
                self._send(200, flipped, "application/vnd.ipld.raw")
            elif mode == "html":
                self._send(200, b"<html>a web page</html>", "text/html")
            elif mode == "loop":
                self.send_response(302)
                self.send_header("Location", self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif mode == "stall":
                fake.stop.wait(30)
            elif mode in ("drip", "endless"):
                self._stream_forever(one_byte=mode == "drip")
            else:
                self._send(200, data, "application/vnd.ipld.raw")

        def _stream_forever(self, *, one_byte: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.ipld.raw")
            self.send_header("Connection", "close")
            self.end_headers()
            piece = b"x" if one_byte else b"x" * 65_536
            try:
                while not fake.stop.is_set():
                    self.wfile.write(piece)
                    self.wfile.flush()
                    if one_byte:
                        time.sleep(DRIP_INTERVAL_S)
            except OSError:
                pass  # the client gave up, as it should
            self.close_connection = True

        def _add(self, query: dict[str, list[str]]) -> None:
            content = _multipart_file(self.headers.get("Content-Type", ""), self._body())
            fake.added.append(content)
            v1 = query.get("cid-version", ["0"])[0] == "1"
            hasher = aleph_cid.CidHasher.for_ipfs_v1_raw_leaves() if v1 else aleph_cid.CidHasher.for_ipfs()
            hasher.update(content)
            cid = hasher.finalize()
            if fake.mode == "add_wrong_cid":
                cid = aleph_cid.compute_cid(content + b"!")
            line = json.dumps({"Name": cid, "Hash": cid, "Size": str(len(content))})
            self._send(200, (line + "\n").encode(), "application/json")

        # -- plumbing ----------------------------------------------------------------------------
        def _record(self) -> None:
            fake.requests.append((self.command, self.path))

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().strip().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))

        def _json(self, payload: object) -> None:
            self._send(200, json.dumps(payload).encode(), "application/json")

        def _kubo_error(self, message: str, status: int = 500) -> None:
            body = json.dumps({"Message": message, "Code": 0, "Type": "error"}).encode()
            self._send(status, body, "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _multipart_file(content_type: str, body: bytes) -> bytes:
    """The first part's payload of a multipart/form-data body (enough for Kubo's single-file add)."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    part = body.split(b"--" + boundary)[1]
    _headers, _, payload = part.partition(b"\r\n\r\n")
    return payload.removesuffix(b"\r\n")


class _QuickServer(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can take a while without DNS.
        TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class LoopbackServer:
    """Run ``FakeIpfs`` on 127.0.0.1 with an ephemeral port, in a background thread."""

    def __init__(self, fake: FakeIpfs) -> None:
        self.fake = fake
        self._server = _QuickServer(("127.0.0.1", 0), make_handler(fake))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.fake.stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
