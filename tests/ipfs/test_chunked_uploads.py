"""`tessera ipfs serve` takes ``Transfer-Encoding: chunked`` uploads as Kubo does, within the same limits.

Requests are written byte for byte on a socket, so each framing case is exactly what the test says. The
JS client that needs this (kubo-rpc-client under Node) is exercised in test_js_clients.py.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable, Iterator

import pytest

from offchain.ipfs import LocalBlockStore, compute_cid
from offchain.ipfs.request_body import MAX_LINE_BYTES, BodyTooLarge, drain, read_chunked
from offchain.ipfs.serve import IpfsHttpServer, Limits

LIMIT = 4096
BOUNDARY = b"tessera-boundary"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IpfsHttpServer]:
    store = LocalBlockStore(tmp_path_factory.mktemp("chunked") / "store")
    with IpfsHttpServer(store, port=0, limits=Limits(max_add_bytes=LIMIT)) as s:
        yield s


def multipart(content: bytes) -> bytes:
    return (
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="file"; filename="blob"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n--" + BOUNDARY + b"--\r\n"
    )


def head(*extra: str) -> bytes:
    lines = [
        "POST /api/v0/add?cid-version=1 HTTP/1.1",
        "Host: 127.0.0.1",
        f"Content-Type: multipart/form-data; boundary={BOUNDARY.decode()}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def chunk(data: bytes, ext: bytes = b"") -> bytes:
    return b"%x%s\r\n%s\r\n" % (len(data), ext, data)


class Connection:
    """One raw connection to the server: write bytes, read HTTP responses in order."""

    def __init__(self, server: IpfsHttpServer) -> None:
        host, port = server.url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.reader = self.sock.makefile("rb")

    def send(self, data: bytes, *, end: bool = False) -> Connection:
        self.sock.sendall(data)
        if end:
            self.sock.shutdown(socket.SHUT_WR)
        return self

    def response(self) -> tuple[int, dict[str, str]]:
        """The next response's status and JSON body (the server always sends a Content-Length)."""
        status = int(self.reader.readline().split()[1])
        length = 0
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, json.loads(self.reader.read(length))

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


@pytest.fixture
def connect(server: IpfsHttpServer) -> Iterator[Callable[[], Connection]]:
    opened: list[Connection] = []

    def open_one() -> Connection:
        opened.append(Connection(server))
        return opened[-1]

    yield open_one
    for conn in opened:
        conn.close()


def test_a_chunked_upload_with_extensions_and_trailers_is_added(connect, server):
    content = bytes(range(256)) * 3
    body = multipart(content)
    framed = (
        chunk(body[:1], b";name=value")
        + chunk(body[1:700], b' ; quoted="a;b" ; flag')
        + b"%X\r\n%s\r\n" % (len(body) - 700, body[700:])  # upper-case hex
        + b"0;last=1\r\nX-Checksum: abc\r\nX-Other:  two words \r\n\r\n"
    )
    conn = connect().send(head("Transfer-Encoding: chunked") + framed)
    status, answer = conn.response()
    assert status == 200, answer
    assert answer["Hash"] == str(compute_cid(content, cid_version=1))
    assert server.store.has(answer["Hash"])
    # the trailer section was consumed exactly: the connection carries the next request
    conn.send(head("Transfer-Encoding: chunked") + chunk(multipart(b"second")) + b"0\r\n\r\n")
    status, again = conn.response()
    assert status == 200 and again["Hash"] == str(compute_cid(b"second", cid_version=1))


def test_an_empty_chunked_upload_is_read_and_refused_as_an_empty_form(connect):
    status, answer = connect().send(head("Transfer-Encoding: chunked") + b"0\r\n\r\n").response()
    assert status == 400 and "multipart" in answer["Message"]


@pytest.mark.parametrize(
    "framed",
    [
        pytest.param(b"%x\r\n" % (LIMIT + 1), id="one-chunk-announced-over-the-limit"),
        pytest.param(chunk(b"a" * 3000) + b"%x\r\n" % 1097, id="chunks-adding-up-over-the-limit"),
        pytest.param(b"ffffffffffffffff\r\n", id="a-64-bit-chunk-size"),
    ],
)
def test_a_chunked_upload_over_the_limit_is_refused_before_its_data_is_sent(connect, framed):
    # the refused chunk's data is never sent: the answer must come without reading it
    status, answer = connect().send(head("Transfer-Encoding: chunked") + framed).response()
    assert status == 413
    assert f"the limit is {LIMIT}" in answer["Message"]


def test_the_limit_check_reads_nothing_past_the_refused_chunk_size():
    stream = io.BytesIO(chunk(b"x" * 10) + b"100;ext\r\n" + b"y" * 256 + b"\r\n0\r\n\r\n")
    with pytest.raises(BodyTooLarge, match="limit is 100"):
        read_chunked(stream, limit=100)
    assert stream.tell() == len(chunk(b"x" * 10) + b"100;ext\r\n")


def test_after_a_refusal_the_rest_of_the_body_is_thrown_away_up_to_a_budget():
    rest = chunk(b"y" * 50) + b"0\r\nX-T: 1\r\n\r\n"
    body = chunk(b"x" * 10) + b"100\r\n" + b"z" * 256 + b"\r\n" + rest
    stream = io.BytesIO(body + b"POST /next")
    with pytest.raises(BodyTooLarge) as refused:
        read_chunked(stream, limit=100)
    assert (refused.value.pending, refused.value.chunked) == (256, True)
    assert drain(stream, refused.value, budget=1000) and stream.read() == b"POST /next"

    stream = io.BytesIO(body)
    with pytest.raises(BodyTooLarge) as refused:
        read_chunked(stream, limit=100)
    assert not drain(stream, refused.value, budget=300)  # 256 + 50 bytes left: over the budget
    sized = io.BytesIO(b"a" * 500 + b"POST /next")
    assert drain(sized, BodyTooLarge("refused", pending=500, chunked=False)) and sized.read() == b"POST /next"


@pytest.mark.parametrize(
    ("framed", "words"),
    [
        pytest.param(b"zz\r\nab\r\n0\r\n\r\n", "bad chunk size", id="size-not-hex"),
        pytest.param(b"\r\n0\r\n\r\n", "bad chunk size", id="size-missing"),
        pytest.param(b"-1\r\n", "bad chunk size", id="size-negative"),
        pytest.param(b"0x5\r\nhello\r\n0\r\n\r\n", "bad chunk size", id="size-with-0x"),
        pytest.param(b"3\r\nhello\r\n0\r\n\r\n", "not followed by CRLF", id="size-smaller-than-data"),
        pytest.param(b"5\nhello\r\n0\r\n\r\n", "bare LF", id="bare-lf-after-size"),
        pytest.param(b"5;" + b"e" * MAX_LINE_BYTES + b"\r\n", "longer than", id="extension-too-long"),
        pytest.param(b"0\r\nno colon here\r\n\r\n", "bad trailer", id="trailer-without-colon"),
        pytest.param(b"0\r\n" + b"X-A: b\r\n" * 3000 + b"\r\n", "trailer section", id="trailers-too-long"),
    ],
)
def test_malformed_chunk_framing_is_a_400_that_says_why(connect, framed, words):
    status, answer = connect().send(head("Transfer-Encoding: chunked") + framed, end=True).response()
    assert status == 400, answer
    assert words in answer["Message"]


@pytest.mark.parametrize(
    ("framed", "words"),
    [
        pytest.param(b"a\r\nhello", "ended inside a chunk", id="inside-a-chunk"),
        pytest.param(chunk(b"hello"), "ended in a chunk-size line", id="before-the-last-chunk"),
        pytest.param(chunk(b"hello") + b"0\r\n", "ended in a trailer line", id="before-the-final-crlf"),
        pytest.param(b"5\r\nhel", "ended inside a chunk", id="mid-data"),
        pytest.param(b"5", "ended in a chunk-size line", id="mid-size-line"),
    ],
)
def test_a_truncated_chunked_upload_is_a_400(connect, framed, words):
    status, answer = connect().send(head("Transfer-Encoding: chunked") + framed, end=True).response()
    assert status == 400 and words in answer["Message"]


def test_transfer_encoding_with_content_length_is_refused(connect):
    framed = head("Transfer-Encoding: chunked", "Content-Length: 5") + b"0\r\n\r\n"
    status, answer = connect().send(framed, end=True).response()
    assert status == 400 and "both Transfer-Encoding and Content-Length" in answer["Message"]


def test_a_transfer_coding_other_than_chunked_is_not_implemented(connect):
    status, answer = (
        connect().send(head("Transfer-Encoding: gzip, chunked") + b"0\r\n\r\n", end=True).response()
    )
    assert status == 501 and "gzip" in answer["Message"]


def test_a_content_length_body_that_ends_early_is_a_400(connect):
    status, answer = connect().send(head("Content-Length: 100") + b"short", end=True).response()
    assert status == 400 and "ended after 5 of its 100 bytes" in answer["Message"]
