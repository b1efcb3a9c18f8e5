"""`tessera ipfs serve` (offchain.ipfs.serve): the embedded store as a trustless gateway and Kubo RPC.

Our own clients are the judges: `KuboRpcClient` (what workers use with ``TESSERA_IPFS=<URL>``) and
`GatewayReader` (``gateway:<URL>``) verify every block they get. The browser-facing rules (origins, Host,
sizes) are checked with plain HTTP requests.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os

import httpx
import pytest

from offchain.errors import ConfigError
from offchain.ipfs import GatewayReader, KuboRpcClient, LocalBlockStore, compute_cid
from offchain.ipfs.serve import IpfsHttpServer, Limits, host_is_loopback

PAGE = "http://127.0.0.1:8080"


@pytest.fixture
def store(tmp_path) -> LocalBlockStore:
    return LocalBlockStore(tmp_path / "store")


@pytest.fixture
def server(store):
    with IpfsHttpServer(store, port=0, allow_origins=[PAGE], limits=Limits(max_add_bytes=2 << 20)) as s:
        yield s


def test_a_worker_adds_and_reads_through_the_kubo_rpc(server, store):
    kubo = KuboRpcClient(server.url)
    data = os.urandom(700_000)  # three chunks and a root
    cid = kubo.add_bytes(data)  # KuboRpcClient checks the CID against its own importer
    assert kubo.version().startswith("tessera-ipfs")
    assert kubo.has(cid) and store.has(cid) and cid in store.pins()
    assert kubo.cat(cid, max_bytes=1 << 20, timeout_s=10) == data
    v1 = kubo.add_bytes(b"hello", cid_version=1)
    assert str(v1).startswith("bafkrei")
    assert not kubo.has("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG")


def test_a_gateway_reader_verifies_raw_blocks(server, store):
    data = os.urandom(300_000)
    cid = store.add_bytes(data)
    reader = GatewayReader(server.url)
    assert reader.has(cid)
    assert reader.cat(cid, max_bytes=1 << 20, timeout_s=10) == data
    raw = httpx.get(f"{server.url}/ipfs/{cid}", params={"format": "raw"})
    assert raw.headers["content-type"] == "application/vnd.ipld.raw"
    assert raw.headers["access-control-allow-origin"] == "*"
    accept = httpx.get(f"{server.url}/ipfs/{cid}", headers={"Accept": "application/vnd.ipld.raw"})
    assert accept.content == raw.content


def test_a_browser_gets_the_file_and_a_download(server, store):
    data = b'{"version":1}'
    cid = store.add_bytes(data)
    plain = httpx.get(f"{server.url}/ipfs/{cid}")
    assert plain.status_code == 200 and plain.content == data
    assert plain.headers["content-length"] == str(len(data))
    assert plain.headers["content-security-policy"] == "sandbox"
    assert plain.headers["access-control-allow-origin"] == "*"
    download = httpx.get(f"{server.url}/ipfs/{cid}", params={"filename": "../spec.json", "download": "true"})
    assert download.headers["content-disposition"] == 'attachment; filename="spec.json"'
    assert download.headers["content-type"] == "application/json"
    head = httpx.head(f"{server.url}/ipfs/{cid}")
    assert head.status_code == 200 and head.headers["content-length"] == str(len(data)) and not head.content
    again = httpx.get(f"{server.url}/ipfs/{cid}", headers={"If-None-Match": f'"{cid}"'})
    assert again.status_code == 304


def test_the_browser_adds_only_from_allowed_origins(server):
    files = {"file": ("spec.json", b'{"a":1}', "application/json")}
    allowed = httpx.post(f"{server.url}/api/v0/add", files=files, headers={"Origin": PAGE})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == PAGE
    assert allowed.json()["Hash"].startswith("Qm")
    other = httpx.post(f"{server.url}/api/v0/add", files=files, headers={"Origin": "https://evil.example"})
    assert other.status_code == 403 and "access-control-allow-origin" not in other.headers
    preflight = httpx.options(
        f"{server.url}/api/v0/add", headers={"Origin": PAGE, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-methods"] == "POST"
    refused = httpx.options(f"{server.url}/api/v0/add", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403


def test_a_host_that_is_not_loopback_is_refused(server, store):
    cid = store.add_bytes(b"x")
    response = httpx.get(f"{server.url}/ipfs/{cid}", headers={"Host": "attacker.example:5080"})
    assert response.status_code == 403 and "loopback" in response.json()["Message"]
    assert (
        host_is_loopback("localhost:5080") and host_is_loopback("[::1]:80") and host_is_loopback("127.0.0.1")
    )
    assert not host_is_loopback("127.0.0.1.nip.io") and not host_is_loopback(None)


def test_uploads_are_bounded_whether_sized_or_chunked(server):
    big = httpx.post(f"{server.url}/api/v0/add", files={"file": ("big", b"\0" * (3 << 20))})
    assert big.status_code == 413 and "limit" in big.json()["Message"]
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.putrequest("POST", "/api/v0/add")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.putheader("Content-Type", "multipart/form-data; boundary=x")
    conn.endheaders()
    conn.send(b"%x\r\n" % (3 << 20))  # a chunk over the limit: refused before its data is sent
    refused = conn.getresponse()
    assert refused.status == 413 and "limit" in json.loads(refused.read())["Message"]
    conn.close()
    chunked = httpx.post(
        f"{server.url}/api/v0/add",
        content=iter(
            [b"--x\r\nContent-Disposition: form-data; name=file\r\n\r\n", b"spec", b"\r\n--x--\r\n"]
        ),
        headers={"Content-Type": "multipart/form-data; boundary=x"},
    )
    assert chunked.status_code == 200 and chunked.json()["Hash"] == str(compute_cid(b"spec"))


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/ipfs/QmNotACid", 400, "CID"),
        ("/ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", 404, "not in"),
        ("/ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG/a/b", 501, "paths inside"),
        ("/ipns/example.com", 404, "not found"),
        ("/api/v0/add", 405, "POST"),
    ],
)
def test_what_is_not_served_says_why(server, path, status, words):
    response = httpx.get(f"{server.url}{path}")
    assert response.status_code == status
    assert words in response.json()["Message"]


def test_unsupported_add_options_are_refused(server):
    files = {"file": ("a", b"a")}
    for params, words in (({"chunker": "size-1024"}, "chunker"), ({"wrap-with-directory": "true"}, "wrap")):
        response = httpx.post(f"{server.url}/api/v0/add", params=params, files=files)
        assert response.status_code == 400 and words in response.json()["Message"]
    only_hash = httpx.post(
        f"{server.url}/api/v0/add", params={"only-hash": "true"}, files={"file": ("a", b"z")}
    )
    cid = only_hash.json()["Hash"]
    assert not KuboRpcClient(server.url).has(cid)


def test_a_directory_upload_is_refused(server):
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="d"\r\n'
        b"Content-Type: application/x-directory\r\n\r\n\r\n--b--\r\n"
    )
    response = httpx.post(
        f"{server.url}/api/v0/add", content=body, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 400 and "directories" in response.json()["Message"]


def test_it_listens_on_loopback_only(store):
    with pytest.raises(ConfigError, match="loopback"):
        IpfsHttpServer(store, host="0.0.0.0", port=0)


def test_a_served_file_is_the_verified_content(server, store):
    data = os.urandom(600_000)
    cid = store.add_bytes(data)
    body = httpx.get(f"{server.url}/ipfs/{cid}").content
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()


def test_a_block_damaged_on_disk_ends_the_response_short_never_with_wrong_bytes(server, store):
    from offchain.ipfs import import_blocks

    data = os.urandom(600_000)
    cid = store.add_bytes(data)
    second_leaf = list(import_blocks(data))[1].cid
    path = store.block_path(second_leaf)
    damaged = bytearray(path.read_bytes())
    damaged[-1] ^= 1
    path.write_bytes(bytes(damaged))
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{server.url}/ipfs/{cid}")
    raw = httpx.get(f"{server.url}/ipfs/{second_leaf}", params={"format": "raw"})
    assert raw.status_code == 500 and "damaged" in raw.json()["Message"]


def test_the_command_serves_the_store_until_sigterm(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from offchain.devchain import free_port

    store = LocalBlockStore(tmp_path / "store")
    cid = store.add_bytes(b"served by the command")
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "offchain.cli",
            "--ipfs-dir",
            str(tmp_path / "store"),
            "ipfs",
            "serve",
            "--port",
            str(port),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/ipfs/{cid}", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
                time.sleep(0.1)
        assert response.content == b"served by the command"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert f"TESSERA_IPFS=http://127.0.0.1:{port}" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
