"""Request bodies for `tessera ipfs serve`: ``Content-Length`` or ``Transfer-Encoding: chunked``, bounded.

Kubo accepts both, and the official JS client (``kubo-rpc-client`` under Node) always streams ``add`` and
``dag/import`` uploads chunked (RFC 9112 §7.1)::

    body  = *( chunk-size [ ";" ext ] CRLF chunk-data CRLF ) "0" [ ";" ext ] CRLF *( trailer CRLF ) CRLF

A body is never read past ``limit`` bytes: a ``Content-Length`` over it, or a chunk announcing more than is
left, is refused (`BodyTooLarge`, 413) before its data is read; after the refusal is sent, `drain` throws
the rest away (bounded) so that a client still uploading reads the 413 rather than a broken pipe. Framing
that does not parse (a bad size, a missing CRLF, a body that ends early, an oversized line or trailer
section) is `MalformedBody` (400). Chunk extensions and trailer fields are read and ignored, as RFC 9112
allows. Every line must end in CRLF: leniency about line ends is how request smuggling starts.
"""

from __future__ import annotations

import re
from email.message import Message
from typing import BinaryIO, Final

from offchain.errors import InputTooLarge, TesseraError

MAX_LINE_BYTES: Final = 4096
"""Longest chunk-size line (size and extensions) or trailer line read."""
MAX_TRAILER_BYTES: Final = 16 << 10
"""Most bytes of trailer fields read after the last chunk."""
DRAIN_BYTES: Final = 64 << 20
"""Most bytes of a refused body read and thrown away so the client can read the refusal (see `drain`)."""
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")


class MalformedBody(TesseraError):
    """A request body whose framing does not parse (answered 400)."""

    code = "E_HTTP_MALFORMED_BODY"
    default_hint = "send the body with a Content-Length, or as a well-formed chunked body (RFC 9112 §7.1)"


class BodyTooLarge(InputTooLarge):
    """A request body over the server's limit (answered 413), refused before the excess is read.

    ``pending`` is how many bytes of body data the sender announced and were not read (the rest of a
    ``Content-Length`` body, or of the refused chunk); ``chunked`` whether more chunks may follow. `drain`
    uses both to discard the rest after the refusal is sent.
    """

    code = "E_HTTP_BODY_TOO_LARGE"
    default_hint = "send less, or restart `tessera ipfs serve` with a larger --max-add-bytes"

    def __init__(self, message: str, *, pending: int, chunked: bool) -> None:
        super().__init__(message)
        self.pending = pending
        self.chunked = chunked


class UnsupportedTransferCoding(TesseraError):
    """A transfer coding other than ``chunked`` (answered 501, as RFC 9112 §6.1 asks)."""

    code = "E_HTTP_TRANSFER_CODING"
    default_hint = "send the body uncompressed, with a Content-Length or Transfer-Encoding: chunked"


def read_body(rfile: BinaryIO, headers: Message, limit: int) -> bytes:
    """The request body framed by ``headers`` (``Content-Length``, ``Transfer-Encoding: chunked`` or none)."""
    coding = headers.get("Transfer-Encoding")
    if coding is not None:
        if headers.get("Content-Length") is not None:
            raise MalformedBody("the request has both Transfer-Encoding and Content-Length")
        if coding.strip().lower() != "chunked":
            raise UnsupportedTransferCoding(f"transfer coding {coding.strip()!r} is not supported")
        return read_chunked(rfile, limit)
    length_text = (headers.get("Content-Length") or "0").strip()
    if not length_text.isdigit():
        raise MalformedBody(f"bad Content-Length {length_text[:40]!r}")
    length = int(length_text)
    if length > limit:
        raise BodyTooLarge(
            f"the request body is {length} bytes; the limit is {limit}", pending=length, chunked=False
        )
    data = rfile.read(length) if length else b""
    if len(data) != length:
        raise MalformedBody(f"the request body ended after {len(data)} of its {length} bytes")
    return data


def read_chunked(rfile: BinaryIO, limit: int) -> bytes:
    """Decode a chunked body from ``rfile`` (positioned after the request's header section)."""
    pieces: list[bytes] = []
    received = 0
    while True:
        line = _line(rfile, "a chunk-size line")
        size_text = line.split(b";", 1)[0].strip(b" \t")
        if _CHUNK_SIZE.fullmatch(size_text) is None:
            raise MalformedBody(f"bad chunk size {size_text[:40]!r} (expected 1 to 16 hex digits)")
        size = int(size_text, 16)
        if size == 0:
            break
        if received + size > limit:
            raise BodyTooLarge(
                f"the chunked request body is too large: a chunk of {size} bytes after {received} bytes "
                f"received; the limit is {limit}",
                pending=size,
                chunked=True,
            )
        data = rfile.read(size)
        if len(data) != size:
            raise MalformedBody(f"the chunked body ended inside a chunk ({len(data)} of {size} bytes)")
        pieces.append(data)
        received += size
        if rfile.read(2) != b"\r\n":
            raise MalformedBody(f"a chunk of {size} bytes is not followed by CRLF (its size is wrong)")
    _skip_trailers(rfile)
    return b"".join(pieces)


def drain(rfile: BinaryIO, refusal: BodyTooLarge, *, budget: int = DRAIN_BYTES) -> bool:
    """After `refusal` has been answered: read and discard the rest of the body, at most ``budget`` bytes
    of it, so that a client still sending (``kubo-rpc-client`` streams its upload) reads the 413 instead of
    a broken pipe. Nothing is kept. True when the body was consumed to its end; False when it was bigger
    than ``budget``, malformed, or the connection failed (the caller closes the connection either way)."""
    try:
        if refusal.pending > budget:
            return False
        _discard(rfile, refusal.pending)
        budget -= refusal.pending
        if not refusal.chunked:
            return True
        while True:
            if rfile.read(2) != b"\r\n":
                return False
            size_text = _line(rfile, "a chunk-size line").split(b";", 1)[0].strip(b" \t")
            if _CHUNK_SIZE.fullmatch(size_text) is None:
                return False
            size = int(size_text, 16)
            if size == 0:
                _skip_trailers(rfile)
                return True
            if size > budget:
                return False
            _discard(rfile, size)
            budget -= size
    except (MalformedBody, OSError):
        return False


def _discard(rfile: BinaryIO, size: int) -> None:
    while size:
        piece = rfile.read(min(size, 1 << 16))
        if not piece:
            raise MalformedBody("the body ended early")
        size -= len(piece)


def _skip_trailers(rfile: BinaryIO) -> None:
    """Read the trailer section up to its empty line; trailer fields are ignored, but bounded."""
    total = 0
    while True:
        line = _line(rfile, "a trailer line")
        if not line:
            return
        total += len(line) + 2
        if total > MAX_TRAILER_BYTES:
            raise MalformedBody(f"the trailer section is over {MAX_TRAILER_BYTES} bytes")
        name, colon, _ = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise MalformedBody(f"bad trailer field {line[:40]!r} (expected 'Name: value')")


def _line(rfile: BinaryIO, what: str) -> bytes:
    """One CRLF-terminated line without its CRLF; `MalformedBody` if too long, truncated or LF-only."""
    line = rfile.readline(MAX_LINE_BYTES + 2)
    if not line.endswith(b"\n"):
        if len(line) > MAX_LINE_BYTES:
            raise MalformedBody(f"{what} is longer than {MAX_LINE_BYTES} bytes")
        raise MalformedBody(f"the chunked body ended in {what}")
    if not line.endswith(b"\r\n"):
        raise MalformedBody(f"{what} ends in a bare LF (CRLF is required)")
    return line[:-2]
