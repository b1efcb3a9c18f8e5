"""The JSON-RPC connection: one web3 7.x `Web3` over a provider that fails over between endpoints.

`FailoverProvider` tries the endpoints in order (``rpc_url`` first, then ``rpc_fallback_urls``), sticks
to the last one that answered, and retries transport failures (connection errors, timeouts, HTTP 429 and
5xx, JSON-RPC rate-limit errors) with capped exponential backoff and jitter, honouring ``Retry-After``.
JSON-RPC errors that are answers (a revert, "nonce too low", a refused log range) are returned to web3
untouched: deciding what they mean is the caller's job.

Sending a raw transaction twice is safe (the node answers "already known"), so every method is retried.
Threads share one provider: `requests.Session` is used per thread, the sticky index under a lock.
Proxy settings (``HTTPS_PROXY``, ``NO_PROXY``...) are read from the environment once per endpoint, not by
requests on every call (that scan was a third of a worker's request CPU).
Each endpoint's chain id is asked once and then answered from memory (web3 asks for it before every
`eth_call` and gas estimate; a third of a worker's requests were `eth_chainId`): per endpoint, so a
fallback that serves another chain is still seen as such.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from offchain.errors import RpcUnreachable
from offchain.settings import Settings

log = logging.getLogger(__name__)

RETRY_HTTP_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
RATE_LIMIT_CODES = frozenset({429, -32029})  # JSON-RPC codes some providers use for "slow down"
MAX_RETRY_AFTER_S = 30.0
UNUSED_MIDDLEWARE = ("gas_price_strategy", "ens_name_to_address", "validation", "gas_estimate")


class _Retryable(Exception):
    """One endpoint failed in a way another attempt may fix."""

    def __init__(self, reason: str, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class FailoverProvider(JSONBaseProvider):
    """A web3 provider over several HTTP endpoints with failover, retries and backoff."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        timeout_s: float = 10.0,
        rounds: int = 4,
        backoff_s: float = 0.25,
        max_backoff_s: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        session_factory: Callable[[], requests.Session] = requests.Session,
    ) -> None:
        """``rounds``: passes over every endpoint before giving up with `RpcUnreachable`; between passes the
        provider sleeps ``backoff_s * 2**round`` (capped at ``max_backoff_s``) scaled by 0.5..1.0 jitter."""
        super().__init__()
        if not urls:
            raise ValueError("at least one RPC URL is needed")
        self.urls = list(dict.fromkeys(u.strip() for u in urls if u.strip()))
        self.timeout_s = timeout_s
        self.rounds = rounds
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._jitter = jitter
        self._session_factory = session_factory
        self._local = threading.local()
        self._lock = threading.Lock()
        self._preferred = 0
        self._chain_ids: dict[str, Any] = {}  # url -> its eth_chainId result
        self._proxies = {url: requests.utils.get_environ_proxies(url) for url in self.urls}

    @property
    def current_url(self) -> str:
        """The endpoint the next request goes to first."""
        with self._lock:
            return self.urls[self._preferred]

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        body = self.encode_rpc_request(method, params)
        last_reason = "no attempt made"
        for round_no in range(self.rounds):
            retry_after: float | None = None
            with self._lock:
                start = self._preferred
            for step in range(len(self.urls)):
                index = (start + step) % len(self.urls)
                url = self.urls[index]
                if method == "eth_chainId" and url in self._chain_ids:
                    with self._lock:
                        self._preferred = index
                    return {"jsonrpc": "2.0", "id": json.loads(body)["id"], "result": self._chain_ids[url]}
                try:
                    response = self._post(url, body)
                except _Retryable as err:
                    last_reason = f"{url}: {err}"
                    log.warning("rpc %s failed on %s (%s)", method, url, err)
                    if err.retry_after_s is not None:
                        retry_after = max(retry_after or 0.0, err.retry_after_s)
                    continue
                with self._lock:
                    self._preferred = index
                if method == "eth_chainId" and "result" in response:
                    self._chain_ids[url] = response["result"]
                return response
            if round_no + 1 < self.rounds:
                delay = min(self.max_backoff_s, self.backoff_s * 2**round_no) * (0.5 + 0.5 * self._jitter())
                self._sleep(max(delay, min(retry_after or 0.0, MAX_RETRY_AFTER_S)))
        raise RpcUnreachable(
            f"{method} failed on every RPC endpoint ({len(self.urls)}) after {self.rounds} rounds; "
            f"last error: {last_reason}"
        )

    def is_connected(self, show_traceback: bool = False) -> bool:
        try:
            return "result" in self.make_request(RPCEndpoint("eth_chainId"), [])
        except RpcUnreachable:
            if show_traceback:
                raise
            return False

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._session_factory()
            session.trust_env = False  # proxies come from self._proxies, read once
            self._local.session = session
        return session

    def _post(self, url: str, body: bytes) -> RPCResponse:
        try:
            reply = self._session().post(
                url,
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=self.timeout_s,
                proxies=self._proxies[url],
            )
        except (requests.ConnectionError, requests.Timeout) as err:
            raise _Retryable(type(err).__name__) from err
        if reply.status_code in RETRY_HTTP_STATUS:
            raise _Retryable(f"HTTP {reply.status_code}", _retry_after(reply.headers.get("Retry-After")))
        if reply.status_code >= 400 and not reply.content:
            raise _Retryable(f"HTTP {reply.status_code}")
        try:
            response = self.decode_rpc_response(reply.content)
        except ValueError as err:
            raise _Retryable(f"unreadable reply (HTTP {reply.status_code})") from err
        if not isinstance(response, dict):
            raise _Retryable("reply is not a JSON-RPC object")
        error = response.get("error")
        if isinstance(error, dict) and _is_rate_limit(error):
            raise _Retryable(f"rate limited: {error.get('message')}")
        return response


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _is_rate_limit(error: dict[str, Any]) -> bool:
    message = str(error.get("message", "")).lower()
    return error.get("code") in RATE_LIMIT_CODES or "rate limit" in message or "too many requests" in message


def connect(
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> Web3:
    """A `Web3` over every configured endpoint (``rpc_url`` then ``rpc_fallback_urls``)."""
    provider = FailoverProvider(
        [settings.rpc_url, *settings.rpc_fallback_urls],
        timeout_s=settings.rpc_timeout_s,
        sleep=sleep,
        jitter=jitter,
    )
    return web3_over(provider)


def web3_over(provider: FailoverProvider) -> Web3:
    """A `Web3` over ``provider`` with only web3's result formatting kept: Tessera signs transactions
    itself and names contracts by address, so the default layers that fill gas and fees for
    `eth_sendTransaction`, resolve ENS names and validate the chain id of every call (one `eth_chainId`
    request each) only cost time."""
    w3 = Web3(provider)
    for layer in UNUSED_MIDDLEWARE:
        w3.middleware_onion.remove(layer)
    return w3


def raw_block(w3: Web3, block: int | str) -> dict[str, Any] | None:
    """Block ``block`` (a number or a tag such as "pending") as the node's JSON, without transactions;
    None if the node has no such block. Asked past web3's block decoding, which cost more CPU than the
    request on the worker's hot paths (every poll, every transaction's fee)."""
    tag = hex(block) if isinstance(block, int) else block
    reply = w3.provider.make_request(RPCEndpoint("eth_getBlockByNumber"), [tag, False])
    if "error" in reply:
        raise Web3RPCError(f"eth_getBlockByNumber({tag}) failed: {reply['error']}", rpc_response=reply)
    return reply.get("result") or None
