"""`tessera dashboard` / `make dashboard`: serve the built dashboard and the deployment manifest on 127.0.0.1.

    GET /                  the dashboard (``frontend/build``, made by `make frontend`) and its hashed assets
    GET /config.json       what the page needs first: the RPC URL, the manifest's path, the IPFS gateway and
                           RPC URLs, the poll interval
    GET /deployment.json   the deployment manifest, read and validated on every request (a redeploy shows
                           on the next reload)

Nothing else: the page talks to the chain's JSON-RPC and to the IPFS gateway itself; this server proxies
nothing. With the embedded IPFS store (``TESSERA_IPFS=local``, the default) `run_dashboard` also serves
that store (`offchain.ipfs.serve`) on a second loopback port, letting the dashboard's origin call its
``add``, so the post-a-job form can upload specs and the job pages can read specs and results.
"""

from __future__ import annotations

import json
import mimetypes
import signal
import sys
import threading
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from offchain.errors import ConfigError, RpcUnreachable, TesseraError
from offchain.ipfs.serve import check_loopback, host_is_loopback

if TYPE_CHECKING:
    from offchain.ipfs.serve import IpfsHttpServer
    from offchain.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR: Final = REPO_ROOT / "frontend" / "build"
DEFAULT_PORT: Final = 8080
POLL_INTERVAL_MS: Final = 1000
# The page may talk to any RPC or gateway the user points it at; scripts come only from this server.
CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' http: https: ws: wss:; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_TYPES: Final = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml",
                 ".json": "application/json", ".png": "image/png", ".ico": "image/x-icon"}  # fmt: skip


@dataclass(frozen=True)
class PageConfig:
    """``/config.json``: the endpoints the page starts with (a user can override them in the page)."""

    rpc_url: str
    chain_id: int | None
    gateway_url: str | None
    ipfs_api_url: str | None
    manifest_url: str = "deployment.json"
    poll_interval_ms: int = POLL_INTERVAL_MS


class DashboardServer:
    """Serve `build_dir`, ``/config.json`` and the manifest at `manifest_path`, on a background thread."""

    def __init__(
        self,
        page: PageConfig,
        manifest_path: Path,
        *,
        build_dir: Path = BUILD_DIR,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
    ) -> None:
        check_loopback(host)
        if not (build_dir / "index.html").is_file():
            raise ConfigError(
                f"the dashboard is not built: no {build_dir / 'index.html'}",
                hint="run `make frontend` (npm ci and vite build in frontend/)",
            )
        self.page = page
        self.manifest_path = Path(manifest_path)
        self.build_dir = build_dir.resolve()
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
        return f"http://{host}:{port}"

    @property
    def origins(self) -> list[str]:
        """The origins a browser reports for this page (``127.0.0.1`` and ``localhost``)."""
        port = self._httpd.server_address[1]
        return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]

    def manifest_json(self) -> bytes:
        """The manifest, validated, as JSON (raises `ConfigError` naming the file and the fix)."""
        from offchain.chain.manifest import load_manifest

        return json.dumps(load_manifest(self.manifest_path).model_dump(mode="json")).encode()

    def start(self) -> DashboardServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="dashboard", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def static_file(self, url_path: str) -> Path | None:
        """The built file for `url_path`, never anything outside the build folder."""
        relative = url_path.lstrip("/") or "index.html"
        candidate = (self.build_dir / relative).resolve()
        if not candidate.is_relative_to(self.build_dir) or not candidate.is_file():
            return None
        return candidate


def _handler(server: DashboardServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "tessera-dashboard/1"
        sys_version = ""

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet by default
            return

        def do_HEAD(self) -> None:  # noqa: N802
            self._get(head=True)

        def do_GET(self) -> None:  # noqa: N802
            self._get(head=False)

        def _get(self, *, head: bool) -> None:
            if not host_is_loopback(self.headers.get("Host")):
                self._send(403, b"the Host header must name a loopback address\n", "text/plain", head=head)
                return
            path = urlsplit(self.path).path
            if path == "/config.json":
                body = json.dumps(asdict(server.page)).encode()
                self._send(200, body, "application/json", head=head, cache="no-store")
            elif path == "/deployment.json":
                try:
                    body = server.manifest_json()
                except TesseraError as err:
                    self._send(
                        503, str(err).encode(), "text/plain; charset=utf-8", head=head, cache="no-store"
                    )
                    return
                self._send(200, body, "application/json", head=head, cache="no-store")
            else:
                file = server.static_file(path)
                if file is None:
                    self._send(404, b"not found\n", "text/plain", head=head)
                    return
                content_type = _TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0]
                immutable = file.parent.name == "assets"  # Vite's content-hashed names
                cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
                self._send(200, file.read_bytes(), content_type or "application/octet-stream", head=head,
                           cache=cache)  # fmt: skip

        def _send(
            self, status: int, body: bytes, content_type: str, *, head: bool, cache: str = "no-cache"
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", cache)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            if content_type.startswith("text/html"):
                self.send_header("Content-Security-Policy", CSP)
            self.end_headers()
            if not head:
                self.wfile.write(body)

    return Handler


# ------------------------------------------------------------------------------------------ running
def manifest_for(settings: Settings) -> tuple[Path, int | None]:
    """The manifest `settings` names: ``TESSERA_DEPLOYMENT``, else the RPC's chain id in the deployments
    folder. Returns it with that chain id (None when not asked)."""
    if settings.deployment is not None:
        return settings.deployment, None
    from offchain.devchain import rpc_call

    try:
        chain_id = int(str(rpc_call(settings.rpc_url, "eth_chainId", timeout=5.0)), 16)
    except (OSError, RuntimeError, ValueError) as err:
        raise RpcUnreachable(
            f"no JSON-RPC node answered at {settings.rpc_url} ({err}), so the deployment to show is unknown",
            hint="start the chain (`make chain`), set TESSERA_RPC_URL, "
            "or name the manifest with TESSERA_DEPLOYMENT",
        ) from None
    return settings.manifest_path(chain_id), chain_id


def open_dashboard(
    settings: Settings,
    *,
    port: int = DEFAULT_PORT,
    gateway_url: str | None = None,
    ipfs_api_url: str | None = None,
    ipfs_port: int = 0,
    build_dir: Path = BUILD_DIR,
) -> tuple[DashboardServer, IpfsHttpServer | None]:
    """Start the dashboard (and, with the embedded IPFS store and no gateway given, its IPFS server)."""
    from offchain.ipfs.factory import GATEWAY_PREFIX, LOCAL, normalize_http_url

    manifest, chain_id = manifest_for(settings)
    ipfs_server = None
    choice = settings.ipfs.strip()
    if gateway_url is None and choice.lower() == LOCAL:
        from offchain.ipfs.local import LocalBlockStore
        from offchain.ipfs.serve import IpfsHttpServer

        ipfs_server = IpfsHttpServer(LocalBlockStore(settings.ipfs_dir), port=ipfs_port)
        gateway_url = ipfs_api_url = ipfs_server.url
    elif gateway_url is None and choice.lower().startswith(GATEWAY_PREFIX):
        gateway_url = normalize_http_url(choice[len(GATEWAY_PREFIX) :], "gateway")
    elif ipfs_api_url is None and choice.lower() != LOCAL and not choice.lower().startswith(GATEWAY_PREFIX):
        ipfs_api_url = normalize_http_url(choice, "api")
    page = PageConfig(
        rpc_url=settings.rpc_url, chain_id=chain_id, gateway_url=gateway_url, ipfs_api_url=ipfs_api_url
    )
    dashboard = DashboardServer(page, manifest, build_dir=build_dir, port=port)
    if ipfs_server is not None:
        for origin in dashboard.origins:
            ipfs_server.allow_origin(origin)
        ipfs_server.start()
    return dashboard.start(), ipfs_server


def run_dashboard(settings: Settings, **kwargs: object) -> None:
    """`open_dashboard`, print where it is, and serve until Ctrl-C."""
    dashboard, ipfs_server = open_dashboard(settings, **kwargs)  # type: ignore[arg-type]
    page = dashboard.page
    print(f"Tessera dashboard: {dashboard.url}/  (deployment {dashboard.manifest_path}, RPC {page.rpc_url})")
    if ipfs_server is not None:
        print(f"IPFS gateway and RPC over {settings.ipfs_dir}: {ipfs_server.url}")
    elif page.gateway_url is None:
        print("no IPFS gateway: pass --gateway URL to show specs and results", file=sys.stderr)
    print("Ctrl-C stops it.")
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        dashboard.stop()
        if ipfs_server is not None:
            ipfs_server.stop()
