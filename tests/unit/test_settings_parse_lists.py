"""Settings that are lists read the forms an operator writes in an environment file."""

from __future__ import annotations

import pytest

from offchain.settings import Settings


@pytest.mark.parametrize(
    ("raw", "urls"),
    [
        ("http://a:1", ["http://a:1"]),
        ("http://a:1, http://b:2", ["http://a:1", "http://b:2"]),
        ('["http://a:1", "http://b:2"]', ["http://a:1", "http://b:2"]),
        ("[]", []),
        ("", []),
    ],
)
def test_fallback_rpc_urls_are_comma_separated_or_json(monkeypatch, raw, urls):
    monkeypatch.setenv("TESSERA_RPC_FALLBACK_URLS", raw)
    assert Settings(_env_file=None).rpc_fallback_urls == urls
