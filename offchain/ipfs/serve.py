"""`tessera ipfs serve`: the embedded block store over HTTP on loopback, for browsers and for workers.

One port serves two small subsets of what a Kubo node serves:

* the **trustless gateway** (read-only, open to every origin, as public gateways are):
  ``GET|HEAD /ipfs/<cid>?format=raw`` (or ``Accept: application/vnd.ipld.raw``) answers the raw block, for
  readers that verify blocks themselves (`GatewayReader`, ``TESSERA_IPFS=gateway:<URL>``);
  ``GET|HEAD /ipfs/<cid>?format=car`` (or ``Accept: application/vnd.ipld.car``) answers a CARv1 of the
  whole DAG (`offchain.ipfs.car`: depth-first, each block once unless ``dups=y``; ``?dag-scope=block`` for
  the root block alone), for trustless-gateway clients;
  ``GET|HEAD /ipfs/<cid>`` answers the UnixFS file's bytes, every block verified on the way out, with
  ``?filename=NAME`` (and ``&download=true`` for an attachment) naming the file for a download link.
* the **Kubo RPC** endpoints that `KuboRpcClient` and a browser's ``add`` call, all ``POST``:
  ``/api/v0/add`` (one file, multipart, as ``ipfs add``), ``cat``, ``block/get``, ``block/stat``, ``pin/add``,
  ``dag/export`` (a CAR), ``dag/import`` (one CAR, multipart; every block verified before it is stored, roots
  pinned when their DAG is complete), ``version``. So the demo's workers
  (``TESSERA_IPFS=http://127.0.0.1:<port>``) and the dashboard can share one store.

Safety: it binds loopback only; requests whose ``Host`` is not a loopback name are refused (no DNS
rebinding); a browser may call the RPC only from an origin in ``allow_origins`` (like Kubo's
``API.HTTPHeaders``), never from any other page; request bodies (with a ``Content-Length`` or chunked, as
Kubo takes them: `offchain.ipfs.request_body`) are bounded (``max_add_bytes``) and never read past the
bound; served files are bounded (``max_file_bytes``) and sandboxed (``Content-Security-Policy: sandbox``)
so content never runs script in the server's origin. Not served: directories as files, paths inside a
DAG, ``entity-bytes`` ranges, IPNS.
"""

from __future__ import annotations

import contextlib
import io
import json
import mimetypes
import re
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlsplit

from offchain.errors import ConfigError, TesseraError
from offchain.ipfs.car import (
    CAR_MEDIA_TYPE,
    CarBlockMismatch,
    MalformedCar,
    Scope,
    import_car,
    iter_car,
)
from offchain.ipfs.cid import CID, DAG_PB, RAW
from offchain.ipfs.dag import UnwalkableBlock
from offchain.ipfs.dagpb import UNIXFS_FILE, UNIXFS_RAW, decode_node, decode_unixfs
from offchain.ipfs.errors import (
    CidMismatch,
    InputTooLarge,
    InvalidCid,
    IpfsTimeout,
    IpfsUnavailable,
    MalformedDag,
    NotAFile,
)
from offchain.ipfs.importer import CHUNK_SIZE, ImportProfile
from offchain.ipfs.local import LocalBlockStore
from offchain.ipfs.reader import MAX_BLOCK_BYTES
from offchain.ipfs.request_body import (
    BodyTooLarge,
    MalformedBody,
    UnsupportedTransferCoding,
    drain,
    read_body,
)

DEFAULT_PORT: Final = 5080
MAX_ADD_BYTES: Final = 64 << 20
MAX_FILE_BYTES: Final = 1 << 30
READ_TIMEOUT_S: Final = 60.0
DRAIN_TIMEOUT_S: Final = 5.0
"""How long a refused upload's remaining bytes are waited for (each read) before the connection closes."""
RAW_BLOCK_TYPE: Final = "application/vnd.ipld.raw"
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
SERVER_VERSION: Final = "tessera-ipfs/1"
_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
_IMMUTABLE = "public, max-age=29030400, immutable"
_EXPOSED = "Content-Length, Content-Type, Etag, X-Ipfs-Path, X-Ipfs-Roots"


class HttpError(Exception):
    """An error answered as ``status`` with a JSON body ``{"Message", "Code", "Type"}`` (Kubo's shape)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def check_loopback(host: str) -> None:
    """Raise `ConfigError` unless `host` is a loopback address: these servers are for this machine only."""
    if host not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"refusing to listen on {host!r}: this server has no authentication and is for loopback only",
            hint="use 127.0.0.1 (reach it from elsewhere through an SSH tunnel or a proxy you secure)",
        )


def host_is_loopback(host_header: str | None) -> bool:
    """Whether an HTTP ``Host`` header names a loopback host (any port): the DNS-rebinding guard."""
    if not host_header:
        return False
    host = host_header.strip().lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host in LOOPBACK_HOSTS


@dataclass(frozen=True)
class Limits:
    """Bounds on what one request may send or fetch."""

    max_add_bytes: int = MAX_ADD_BYTES
    max_file_bytes: int = MAX_FILE_BYTES
    timeout_s: float = READ_TIMEOUT_S


class IpfsHttpServer:
    """The gateway and RPC over a `LocalBlockStore`, on a background thread; see the module docstring.

    ``port=0`` picks a free port (read `url` after `start`). ``allow_origins`` lists browser origins
    (``http://127.0.0.1:8080``) that may call the RPC; the gateway answers every origin.
    """

    def __init__(
        self,
        store: LocalBlockStore,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        allow_origins: Iterable[str] = (),
        limits: Limits = Limits(),
    ) -> None:
        check_loopback(host)
        self.store = store
        self.allow_origins = frozenset(o.rstrip("/") for o in allow_origins)
        self.limits = limits
        try:
            self._httpd = ThreadingHTTPServer((host, port), _handler(self))
        except OSError as err:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {err.strerror}",
                hint="pick another port (--port), or stop what is using it",
            ) from None
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{'[' + str(host) + ']' if ':' in str(host) else host}:{port}"

    def allow_origin(self, origin: str) -> None:
        """Let the browser page at ``origin`` call the RPC too (the dashboard adds its own)."""
        self.allow_origins = self.allow_origins | {origin.rstrip("/")}

    def start(self) -> IpfsHttpServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="ipfs-http", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> IpfsHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- gateway -----------------------------------------------------------------------------------
    def file_size(self, cid: CID) -> int:
        """The content size the root block declares (checked against the content as it is read)."""
        root = self.store.get_block(cid, timeout_s=self.limits.timeout_s)
        if cid.codec == RAW:
            return len(root)
        if cid.codec != DAG_PB:
            raise NotAFile(f"{cid} is a {cid.codec_name} block, not a UnixFS file")
        node = decode_node(root, label=f"block {cid}")
        if node.data is None:
            raise NotAFile(f"{cid} is a dag-pb node without UnixFS data")
        unixfs = decode_unixfs(node.data, label=f"UnixFS data of {cid}")
        if unixfs.type not in (UNIXFS_FILE, UNIXFS_RAW):
            raise NotAFile(f"{cid} is not a file (directories are not served here)")
        if unixfs.filesize is not None:
            return unixfs.filesize
        return len(unixfs.data) if unixfs.data is not None else 0

    def car(self, cid: CID, *, scope: Scope = "all", dups: bool = False) -> Iterator[bytes]:
        """The CARv1 of the DAG under ``cid`` in pieces, bounded like a served file (``max_file_bytes``)."""
        return iter_car(
            self.store,
            cid,
            max_bytes=self.limits.max_file_bytes,
            timeout_s=self.limits.timeout_s,
            scope=scope,
            dups=dups,
        )

    # -- rpc ---------------------------------------------------------------------------------------
    def add(self, data: bytes, query: dict[str, list[str]]) -> dict[str, str]:
        """``ipfs add`` of one file's bytes with Kubo's parameters; the answer Kubo gives."""
        cid_version = _int_param(query, "cid-version", 0)
        if cid_version not in (0, 1):
            raise HttpError(400, f"cid-version must be 0 or 1, got {cid_version}")
        raw_leaves = _bool_param(query, "raw-leaves", None)
        chunker = _param(query, "chunker", f"size-{CHUNK_SIZE}")
        if chunker != f"size-{CHUNK_SIZE}":
            raise HttpError(400, f"only the default chunker size-{CHUNK_SIZE} is supported, got {chunker!r}")
        for unsupported in ("wrap-with-directory", "nocopy", "inline", "trickle"):
            if _bool_param(query, unsupported, False):
                raise HttpError(400, f"{unsupported} is not supported by the embedded store")
        hash_name = _param(query, "hash", "sha2-256")
        if hash_name != "sha2-256":
            raise HttpError(400, f"only sha2-256 is supported, got {hash_name!r}")
        profile = ImportProfile.of(cid_version, raw_leaves)
        if _bool_param(query, "only-hash", False):
            from offchain.ipfs.importer import build

            result = build(data, profile)
        else:
            result = self.store.import_source(data, profile)
            if _bool_param(query, "pin", True):
                self.store.pin(result.cid)
        return {"Name": "", "Hash": str(result.cid), "Size": str(result.dag_size)}

    def dag_import(self, car: bytes, query: dict[str, list[str]]) -> list[object]:
        """``ipfs dag import`` of one CAR (every block verified first); Kubo's answer, one line per root."""
        pin_roots = _bool_param(query, "pin-roots", True)
        summary = import_car(
            self.store,
            io.BytesIO(car),
            max_bytes=self.limits.max_add_bytes,
            pin_roots=bool(pin_roots),
            timeout_s=self.limits.timeout_s,
            label="the uploaded CAR",
        )
        lines: list[object] = []
        if pin_roots:
            for root in summary.roots:
                error = summary.pin_errors.get(root, "")
                lines.append({"Root": {"Cid": {"/": str(root)}, "PinErrorMsg": error}})
        if _bool_param(query, "stats", False):
            lines.append({"Stats": {"BlockCount": summary.blocks, "BlockBytesCount": summary.block_bytes}})
        return lines


def car_params(accept: str) -> dict[str, str]:
    """The parameters of the CAR media type in an ``Accept`` header (``version``, ``order``, ``dups``),
    checked against what is served: CARv1, depth-first order, with or without duplicate blocks."""
    for entry in accept.split(","):
        media, *rest = (part.strip() for part in entry.split(";"))
        if media.lower() != CAR_MEDIA_TYPE:
            continue
        params = {key.strip().lower(): value.strip().strip('"').lower() for key, _, value in
                  (item.partition("=") for item in rest)}  # fmt: skip
        if params.get("version", "1") != "1":
            raise HttpError(400, f"CAR version {params['version']} is not served (only version=1)")
        if params.get("order", "dfs") not in ("dfs", "unk"):
            raise HttpError(400, f"CAR order={params['order']} is not served (order=dfs)")
        if params.get("dups", "n") not in ("y", "n"):
            raise HttpError(400, f"CAR dups={params['dups']} must be y or n")
        return params
    return {}


def _param(query: dict[str, list[str]], name: str, default: str) -> str:
    values = query.get(name)
    return values[-1] if values else default


def _bool_param(query: dict[str, list[str]], name: str, default: bool | None) -> bool | None:
    value = _param(query, name, "").lower()
    if value == "":
        return default
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise HttpError(400, f"{name} must be true or false, got {value!r}")


def _int_param(query: dict[str, list[str]], name: str, default: int) -> int:
    value = _param(query, name, str(default))
    if not value.isdigit():
        raise HttpError(400, f"{name} must be an integer, got {value!r}")
    return int(value)


def _arg_cid(query: dict[str, list[str]]) -> CID:
    values = query.get("arg")
    if not values:
        raise HttpError(400, "argument 'arg' is required")
    return CID.parse(values[0].removeprefix("/ipfs/"))


def first_file_part(body: bytes, content_type: str) -> bytes:
    """The content of the first file in a ``multipart/form-data`` body (Kubo's ``add`` upload)."""
    match = re.search(r'boundary=(?:"([^"]+)"|([^;\s]+))', content_type)
    if not content_type.lower().startswith("multipart/form-data") or match is None:
        raise HttpError(400, "add expects a multipart/form-data body with one file")
    delimiter = b"--" + (match.group(1) or match.group(2)).encode("latin-1")
    parts = body.split(b"\r\n" + delimiter)
    first = parts[0]
    if not first.startswith(delimiter):
        raise HttpError(400, "malformed multipart body: it does not start with the boundary")
    parts[0] = first[len(delimiter) :]
    for part in parts:
        if part.startswith(b"--"):  # the closing delimiter
            break
        head, sep, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise HttpError(400, "malformed multipart body: a part has no header end")
        headers = head.decode("latin-1").lower()
        if "application/x-directory" in headers:
            raise HttpError(400, "directories are not supported by the embedded store; add one file")
        if "content-disposition" in headers:
            return content
    raise HttpError(400, "the multipart body holds no file")


# ------------------------------------------------------------------------------------------ handler
def _handler(server: IpfsHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = SERVER_VERSION
        sys_version = ""

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet by default
            return

        # -- dispatch ------------------------------------------------------------------------------
        def do_GET(self) -> None:  # noqa: N802
            self._guarded(self._get, head=False)

        def do_HEAD(self) -> None:  # noqa: N802
            self._guarded(self._get, head=True)

        def do_POST(self) -> None:  # noqa: N802
            self._guarded(self._post)

        def do_OPTIONS(self) -> None:  # noqa: N802
            self._guarded(self._preflight)

        def _guarded(self, action, **kwargs) -> None:  # type: ignore[no-untyped-def]
            try:
                if not host_is_loopback(self.headers.get("Host")):
                    raise HttpError(403, "the Host header must name a loopback address")
                action(**kwargs)
            except HttpError as err:
                self._error(err.status, err.message)
            except (InvalidCid, MalformedBody, MalformedCar, CarBlockMismatch) as err:
                self._error(400, err.message)
            except (UnsupportedTransferCoding, UnwalkableBlock) as err:
                self._error(501, err.message)
            except (NotAFile, MalformedDag) as err:
                self._error(501 if isinstance(err, NotAFile) else 502, err.message)
            except InputTooLarge as err:
                self._error(413, err.message)
            except IpfsTimeout as err:
                self._error(504, err.message)
            except IpfsUnavailable as err:
                self._error(404, err.message)
            except CidMismatch as err:
                self._error(500, err.message)
            except TesseraError as err:
                self._error(500, err.message)

        # -- gateway -------------------------------------------------------------------------------
        def _get(self, *, head: bool) -> None:
            parts = urlsplit(self.path)
            if parts.path.startswith("/api/v0/"):
                raise HttpError(405, "the RPC API takes POST only")
            if not parts.path.startswith("/ipfs/"):
                raise HttpError(404, "not found: this server answers /ipfs/<cid> and POST /api/v0/*")
            rest = parts.path.removeprefix("/ipfs/").rstrip("/")
            if "/" in rest:
                raise HttpError(501, "paths inside a DAG are not served; request the file's own CID")
            cid = CID.parse(rest)
            query = parse_qs(parts.query)
            fmt = _param(query, "format", "")
            accept = self.headers.get("Accept", "")
            if fmt == "raw" or (not fmt and RAW_BLOCK_TYPE in accept):
                self._raw_block(cid, head=head)
            elif fmt == "car" or (not fmt and CAR_MEDIA_TYPE in accept):
                self._car(cid, query, car_params(accept), head=head)
            elif fmt:
                raise HttpError(400, f"format={fmt} is not supported (raw or car)")
            else:
                self._file(cid, query, head=head)

        def _raw_block(self, cid: CID, *, head: bool) -> None:
            block = server.store.get_block(cid, timeout_s=server.limits.timeout_s, max_bytes=MAX_BLOCK_BYTES)
            headers = {
                "Content-Type": RAW_BLOCK_TYPE,
                "Content-Disposition": f'attachment; filename="{cid}.bin"',
                "Etag": f'"{cid}.raw"',
                "X-Ipfs-Path": f"/ipfs/{cid}",
                "X-Ipfs-Roots": str(cid),
                "Cache-Control": _IMMUTABLE,
                "Vary": "Accept",
            }
            self._send(200, b"" if head else block, headers, length=len(block))

        def _car(self, cid: CID, query: dict[str, list[str]], params: dict[str, str], *, head: bool) -> None:
            """A CARv1 of the DAG under ``cid`` (trustless gateway), depth-first, every block verified."""
            dups = params.get("dups", "n") == "y"
            scope = _param(query, "dag-scope", "all")
            if scope not in ("all", "entity", "block"):
                raise HttpError(400, f"dag-scope={scope} is not one of all, entity, block")
            if "entity-bytes" in query:
                raise HttpError(501, "entity-bytes is not supported; ask for the whole file")
            if scope == "entity" and cid.codec != RAW:
                server.file_size(cid)  # the entity of a UnixFS file is all of it; a directory is refused
            suffix = f"dfs.{'y' if dups else 'n'}.{'block' if scope == 'block' else 'all'}"
            etag = f'"{cid}.car.{suffix}"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", {"Etag": etag})
                return
            pieces = server.car(cid, scope="block" if scope == "block" else "all", dups=dups)
            first = next(pieces)  # a missing or bad root still gets a status
            headers = {
                "Content-Type": f"{CAR_MEDIA_TYPE}; version=1; order=dfs; dups={'y' if dups else 'n'}",
                "Content-Disposition": f'attachment; filename="{cid}.car"',
                "Etag": etag,
                "X-Ipfs-Path": f"/ipfs/{cid}",
                "X-Ipfs-Roots": str(cid),
                "Cache-Control": _IMMUTABLE,
                "Vary": "Accept",
            }
            self._send_chunked(headers, first, pieces, head=head)

        def _file(self, cid: CID, query: dict[str, list[str]], *, head: bool) -> None:
            etag = f'"{cid}"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, b"", {"Etag": etag})
                return
            size = server.file_size(cid)
            if size > server.limits.max_file_bytes:
                raise InputTooLarge(f"{cid} is {size} bytes, over this server's limit of "
                                    f"{server.limits.max_file_bytes}")  # fmt: skip
            name = _FILENAME.sub("_", _param(query, "filename", ""))[:100].strip("._")
            content_type = (mimetypes.guess_type(name)[0] if name else None) or "application/octet-stream"
            headers = {
                "Content-Type": content_type,
                "Etag": etag,
                "X-Ipfs-Path": f"/ipfs/{cid}",
                "Cache-Control": _IMMUTABLE,
                # user content must never run script in this origin
                "Content-Security-Policy": "sandbox",
            }
            if name:
                kind = "attachment" if _bool_param(query, "download", False) else "inline"
                headers["Content-Disposition"] = f'{kind}; filename="{name}"'
            if head:
                self._send(200, b"", headers, length=size)
                return
            pieces = server.store.iter_content(cid, max_bytes=size, timeout_s=server.limits.timeout_s)
            first = next(pieces, memoryview(b""))  # errors before the first byte still get a status
            self._send_stream(headers, size, _chain(first, pieces))

        # -- rpc -----------------------------------------------------------------------------------
        def _post(self) -> None:
            parts = urlsplit(self.path)
            if not parts.path.startswith("/api/v0/"):
                raise HttpError(405, "only the RPC API (/api/v0/*) takes POST")
            self._check_origin()
            command = parts.path.removeprefix("/api/v0/").rstrip("/")
            query = parse_qs(parts.query)
            if command == "add":
                body = self._body(server.limits.max_add_bytes)
                data = first_file_part(body, self.headers.get("Content-Type", ""))
                self._json(server.add(data, query))
                return
            if command == "dag/import":
                body = self._body(server.limits.max_add_bytes)
                car = first_file_part(body, self.headers.get("Content-Type", ""))
                self._ndjson(server.dag_import(car, query))
                return
            self._body(1 << 16)  # small RPC calls carry no body of interest; drain what there is
            if command == "version":
                self._json({"Version": SERVER_VERSION, "Commit": "", "Repo": "", "System": "", "Golang": ""})
            elif command == "cat":
                if "offset" in query or "length" in query:
                    raise HttpError(400, "cat with offset or length is not supported; read the whole file")
                self._cat(_arg_cid(query))
            elif command == "dag/export":
                cid = _arg_cid(query)
                pieces = server.car(cid)
                first = next(pieces)
                headers = {"Content-Type": CAR_MEDIA_TYPE, "X-Stream-Output": "1"}
                self._send_chunked(headers, first, pieces, head=False)
            elif command == "block/get":
                cid = _arg_cid(query)
                block = server.store.get_block(cid, timeout_s=server.limits.timeout_s)
                self._send(200, block, {"Content-Type": "application/octet-stream"})
            elif command == "block/stat":
                cid = _arg_cid(query)
                if not server.store.has(cid):
                    raise HttpError(500, "block was not found locally (offline): ipld: could not find node")
                size = len(server.store.get_block(cid, timeout_s=server.limits.timeout_s))
                self._json({"Key": str(cid), "Size": size})
            elif command == "pin/add":
                cid = _arg_cid(query)
                server.store.pin(cid)
                self._json({"Pins": [str(cid)]})
            else:
                raise HttpError(404, f"unknown or unsupported command {command!r}")

        def _cat(self, cid: CID) -> None:
            """``ipfs cat``: the file's bytes, every block verified, bounded like a gateway file."""
            size = server.file_size(cid)
            if size > server.limits.max_file_bytes:
                raise InputTooLarge(f"{cid} is {size} bytes, over this server's limit of "
                                    f"{server.limits.max_file_bytes}")  # fmt: skip
            pieces = server.store.iter_content(cid, max_bytes=size, timeout_s=server.limits.timeout_s)
            first = next(pieces, memoryview(b""))
            headers = {"Content-Type": "text/plain", "X-Stream-Output": "1"}
            self._send_stream(headers, size, _chain(first, pieces))

        def _check_origin(self) -> None:
            """A browser page may call the RPC only from an allowed origin (other clients send none)."""
            origin = self.headers.get("Origin")
            if origin is not None and origin.rstrip("/") not in server.allow_origins:
                raise HttpError(403, f"origin {origin} may not call the RPC API (start the server with "
                                     f"--allow-origin {origin} to allow it)")  # fmt: skip

        def _preflight(self) -> None:
            path = urlsplit(self.path).path
            headers = {"Access-Control-Max-Age": "600", "Vary": "Origin"}
            origin = (self.headers.get("Origin") or "").rstrip("/")
            if path.startswith("/api/v0/"):
                if origin not in server.allow_origins:
                    raise HttpError(403, f"origin {origin or '(none)'} may not call the RPC API")
                headers.update({
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Allow-Methods": "POST",
                    "Access-Control-Allow-Headers": "Content-Type",
                })  # fmt: skip
            else:
                headers.update({
                    "Access-Control-Allow-Methods": "GET, HEAD",
                    "Access-Control-Allow-Headers": "Accept, Range, If-None-Match",
                })  # fmt: skip
            self._send(204, b"", headers)

        def _body(self, limit: int) -> bytes:
            try:
                return read_body(self.rfile, self.headers, limit)
            except BodyTooLarge as refusal:
                self._refused = refusal  # drained after the 413 is sent (see _error)
                raise

        # -- responses -----------------------------------------------------------------------------
        def _cors(self) -> dict[str, str]:
            path = urlsplit(self.path).path
            origin = (self.headers.get("Origin") or "").rstrip("/")
            if path.startswith("/api/v0/"):
                return (
                    {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
                    if origin in server.allow_origins
                    else {}
                )
            return {
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Expose-Headers": _EXPOSED,
            }

        def _send(
            self, status: int, body: bytes, headers: dict[str, str], *, length: int | None = None
        ) -> None:
            self.send_response(status)
            for key, value in {**self._cors(), "X-Content-Type-Options": "nosniff", **headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def _send_stream(self, headers: dict[str, str], size: int, pieces: Iterator[memoryview]) -> None:
            self.send_response(200)
            for key, value in {**self._cors(), "X-Content-Type-Options": "nosniff", **headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            try:
                for piece in pieces:
                    self.wfile.write(piece)
            except (TesseraError, OSError):
                self.close_connection = True  # the client sees a short body, never wrong bytes

        def _send_chunked(
            self, headers: dict[str, str], first: bytes, rest: Iterator[bytes], *, head: bool
        ) -> None:
            """A 200 whose body is streamed with ``Transfer-Encoding: chunked`` (its length is not known
            ahead). An error mid-stream ends the response without its last chunk, so the client sees a
            truncated response, never a complete-looking short one."""
            self.send_response(200)
            for key, value in {**self._cors(), "X-Content-Type-Options": "nosniff", **headers}.items():
                self.send_header(key, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if head:
                return
            try:
                for piece in _chain_bytes(first, rest):
                    self.wfile.write(b"%x\r\n" % len(piece))
                    self.wfile.write(piece)
                    self.wfile.write(b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            except (TesseraError, OSError):
                self.close_connection = True

        def _ndjson(self, values: list[object]) -> None:
            body = "".join(json.dumps(value) + "\n" for value in values).encode()
            self._send(200, body, {"Content-Type": "application/json", "X-Chunked-Output": "1"})

        def _json(self, value: object) -> None:
            self._send(200, (json.dumps(value) + "\n").encode(), {"Content-Type": "application/json"})

        def _error(self, status: int, message: str) -> None:
            # the request body may be unread (refused upload): never parse it as the next request
            self.close_connection = True
            body = json.dumps({"Message": message, "Code": 0, "Type": "error"}).encode() + b"\n"
            try:
                self._send(status, body, {"Content-Type": "application/json", "Cache-Control": "no-store"})
            except OSError:
                return
            refused: BodyTooLarge | None = getattr(self, "_refused", None)
            if refused is not None:
                self.connection.settimeout(DRAIN_TIMEOUT_S)
                drain(self.rfile, refused)

    return Handler


def _chain_bytes(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _chain(first: memoryview, rest: Iterator[memoryview]) -> Iterator[memoryview]:
    if len(first):
        yield first
    yield from rest


# ------------------------------------------------------------------------------------------ main
def run_server(
    store_dir: Path,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    allow_origins: Iterable[str] = (),
    limits: Limits = Limits(),
) -> None:
    """Serve the store in `store_dir` in the foreground until Ctrl-C or SIGTERM (`tessera ipfs serve`)."""
    server = IpfsHttpServer(
        LocalBlockStore(store_dir), host=host, port=port, allow_origins=allow_origins, limits=limits
    )
    print(
        f"IPFS gateway {server.url}/ipfs/<cid> and Kubo RPC {server.url}/api/v0 over {store_dir}",
        file=sys.stderr,
    )
    print(f"workers can share it: TESSERA_IPFS={server.url}; Ctrl-C stops it", file=sys.stderr)
    previous = signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.stop).start())
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
