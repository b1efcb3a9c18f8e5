"""The failover provider: retries, backoff with Retry-After, stickiness, and giving up with a clear error."""

from __future__ import annotations

import json

import pytest
import requests

from offchain.chain.rpc import FailoverProvider, connect
from offchain.errors import RpcUnreachable
from offchain.settings import Settings


class Reply:
    def __init__(self, status: int, body: object = None, headers: dict | None = None) -> None:
        self.status_code = status
        self.content = b"" if body is None else json.dumps(body).encode()
        self.headers = headers or {}


class ScriptedSession:
    """A requests.Session stand-in: each URL answers from its own script (the last answer repeats)."""

    def __init__(self, scripts: dict[str, list]) -> None:
        self.scripts = scripts
        self.calls: list[str] = []

    def post(self, url, data, headers, timeout, proxies):
        self.calls.append(url)
        self.proxies = proxies
        script = self.scripts[url]
        answer = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


OK = Reply(200, {"jsonrpc": "2.0", "id": 0, "result": "0x539"})
PRIMARY, BACKUP = "http://primary", "http://backup"


def provider(session: ScriptedSession, sleeps: list[float], **kwargs) -> FailoverProvider:
    return FailoverProvider(
        [PRIMARY, BACKUP], sleep=sleeps.append, jitter=lambda: 1.0, session_factory=lambda: session, **kwargs
    )


def test_a_dead_endpoint_fails_over_and_the_next_request_sticks_to_the_live_one():
    session = ScriptedSession({PRIMARY: [requests.ConnectionError("refused")], BACKUP: [OK]})
    sleeps: list[float] = []
    p = provider(session, sleeps)
    assert p.make_request("eth_blockNumber", [])["result"] == "0x539"
    assert p.make_request("eth_blockNumber", [])["result"] == "0x539"
    assert session.calls == [PRIMARY, BACKUP, BACKUP]
    assert p.current_url == BACKUP
    assert sleeps == []


def test_rate_limits_and_server_errors_are_retried_with_backoff():
    session = ScriptedSession(
        {PRIMARY: [Reply(429, headers={"Retry-After": "3"}), Reply(503), OK], BACKUP: [Reply(502)]}
    )
    sleeps: list[float] = []
    p = provider(session, sleeps, backoff_s=0.5)
    assert p.make_request("eth_blockNumber", [])["result"] == "0x539"
    assert sleeps == [3.0, 1.0]  # Retry-After honoured; then 0.5 * 2**1


def test_a_json_rpc_rate_limit_error_is_retried():
    limited = Reply(
        200, {"jsonrpc": "2.0", "id": 0, "error": {"code": -32005, "message": "rate limit exceeded"}}
    )
    session = ScriptedSession({PRIMARY: [limited, OK], BACKUP: [limited]})
    assert provider(session, []).make_request("eth_call", [])["result"] == "0x539"
    assert session.calls == [PRIMARY, BACKUP, PRIMARY]


def test_an_answer_that_is_an_error_is_returned_not_retried():
    revert = Reply(200, {"jsonrpc": "2.0", "id": 0, "error": {"code": 3, "message": "execution reverted"}})
    session = ScriptedSession({PRIMARY: [revert], BACKUP: [OK]})
    response = provider(session, []).make_request("eth_call", [])
    assert response["error"]["message"] == "execution reverted"
    assert session.calls == [PRIMARY]


def test_every_endpoint_down_raises_rpc_unreachable_naming_the_last_error():
    session = ScriptedSession(
        {PRIMARY: [requests.Timeout("slow")], BACKUP: [requests.ConnectionError("refused")]}
    )
    sleeps: list[float] = []
    with pytest.raises(RpcUnreachable, match="failed on every RPC endpoint") as caught:
        provider(session, sleeps, rounds=3, backoff_s=1.0, max_backoff_s=1.5).make_request("eth_chainId", [])
    assert "http://backup: ConnectionError" in str(caught.value)
    assert caught.value.code == "E_RPC_UNREACHABLE"
    assert len(session.calls) == 6
    assert sleeps == [1.0, 1.5]  # capped


def test_the_chain_id_is_asked_once_per_endpoint_and_answered_with_the_request_id():
    session = ScriptedSession({PRIMARY: [OK, requests.ConnectionError("gone")], BACKUP: [OK]})
    p = provider(session, [])
    first = p.make_request("eth_chainId", [])
    second = p.make_request("eth_chainId", [])
    assert first["result"] == second["result"] == "0x539"
    assert second["id"] == first["id"] + 1  # the id of the request it answers, not a replayed one
    assert session.calls == [PRIMARY]
    p.make_request("eth_blockNumber", [])  # the primary is gone: fail over
    assert p.make_request("eth_chainId", [])["result"] == "0x539"
    assert session.calls == [PRIMARY, PRIMARY, BACKUP, BACKUP]  # the backup's own chain id is asked


@pytest.mark.anvil
def test_a_contract_read_or_gas_estimate_is_one_request(chain, pinger, operator, monkeypatch):
    w3 = connect(Settings(_env_file=None, rpc_url=chain.rpc_url))
    methods: list[str] = []
    send = w3.provider.make_request
    monkeypatch.setattr(w3.provider, "make_request", lambda m, p: methods.append(m) or send(m, p))
    tx = {"from": operator.address, "to": pinger.address, "data": pinger.encode_abi("ping", args=[1])}
    w3.eth.call(tx)
    w3.eth.estimate_gas(tx)
    w3.eth.call(tx, "pending")
    assert methods == ["eth_call", "eth_estimateGas", "eth_call"]


def test_proxy_settings_are_read_once_per_endpoint_and_honoured(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "backup")
    session = ScriptedSession({PRIMARY: [OK], BACKUP: [OK]})
    p = provider(session, [])
    monkeypatch.delenv("HTTP_PROXY")  # read at construction: later changes do not matter
    p.make_request("eth_blockNumber", [])
    assert session.proxies["http"] == "http://proxy.example:3128" and session.trust_env is False
    p._preferred = 1
    p.make_request("eth_blockNumber", [])
    assert session.proxies == {}  # NO_PROXY names the backup
