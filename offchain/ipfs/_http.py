"""Bounded HTTP reads shared by the Kubo RPC client and the gateway reader.

A response is read as a stream with a byte cap and a wall-clock deadline checked after every piece, so a
server that sends forever, or drips a byte at a time, cannot hang the caller or fill its memory. Transport
failures become `IpfsUnavailable` / `IpfsTimeout` with the URL in the message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import httpx

from offchain.ipfs.errors import InputTooLarge, IpfsTimeout, IpfsUnavailable

_ERROR_BODY_BYTES: Final = 4096


def bounded_request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    what: str,
    limit: int,
    deadline: float,
    per_request_s: float,
    clock: Callable[[], float],
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    files: Mapping[str, Any] | None = None,
    follow_redirects: bool = False,
    on_error_status: Callable[[int, str], Exception] | None = None,
    check_headers: Callable[[httpx.Response], None] | None = None,
) -> bytes:
    """Send one request and return its body, at most ``limit`` bytes, finished before ``deadline``.

    ``what`` names the thing fetched (a CID) for messages. A status other than 200 raises what
    ``on_error_status(status, body_excerpt)`` returns (default: `IpfsUnavailable`); ``check_headers`` may
    inspect a 200 response's headers and raise.
    """
    now = clock()
    stop = min(deadline, now + per_request_s)
    remaining = stop - now
    if remaining <= 0:
        raise IpfsTimeout(f"no time left to fetch {what} from {url}")
    try:
        with client.stream(
            method,
            url,
            params=params,
            headers=headers,
            files=files,
            timeout=httpx.Timeout(remaining),
            follow_redirects=follow_redirects,
        ) as response:
            if response.status_code != 200:
                detail = error_text(response, stop=stop, clock=clock)
                if on_error_status is not None:
                    raise on_error_status(response.status_code, detail)
                raise IpfsUnavailable(f"{url} answered HTTP {response.status_code} for {what}: {detail}")
            if check_headers is not None:
                check_headers(response)
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise InputTooLarge(f"{url} announces {declared} bytes for {what}, over the limit of {limit}")
            body = bytearray()
            for piece in response.iter_bytes():
                body += piece
                if len(body) > limit:
                    raise InputTooLarge(f"{url} sent more than {limit} bytes for {what}")
                if clock() > stop:
                    raise IpfsTimeout(
                        f"{url} was still sending {what} after {per_request_s:g} s ({len(body)} bytes so far)"
                    )
            return bytes(body)
    except httpx.TimeoutException as exc:
        raise IpfsTimeout(f"{url} did not answer for {what} in time ({type(exc).__name__})") from None
    except httpx.TooManyRedirects:
        raise IpfsUnavailable(
            f"{url} redirected too many times for {what} (a redirect loop?)",
            hint="point the gateway setting at a gateway that serves /ipfs/ paths directly",
        ) from None
    except httpx.HTTPError as exc:
        raise IpfsUnavailable(f"cannot reach {url} for {what}: {exc}") from None


def error_text(response: httpx.Response, *, stop: float, clock: Callable[[], float]) -> str:
    """The first few KiB of an error body on one line, read within the same deadline (never trusted)."""
    body = bytearray()
    try:
        for piece in response.iter_bytes():
            body += piece
            if len(body) >= _ERROR_BODY_BYTES or clock() > stop:
                break
    except httpx.HTTPError:
        pass
    text = bytes(body[:_ERROR_BODY_BYTES]).decode("utf-8", errors="replace")
    return " ".join(text.split())[:300] or "(empty body)"
