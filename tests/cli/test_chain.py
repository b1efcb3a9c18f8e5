"""`tessera chain up|down`: a background anvil with chain id 1337, remembered by a pid file, stopped again."""

from __future__ import annotations

import pytest

from offchain import devchain

pytestmark = pytest.mark.anvil


def test_up_starts_a_chain_and_down_stops_it(tessera, tmp_path):
    port, state = devchain.free_port(), tmp_path / "chain"
    url = f"http://127.0.0.1:{port}"
    try:
        up = tessera("chain", "up", "--port", str(port), "--state-dir", str(state))
        assert up.returncode == 0, up.stderr
        assert devchain.rpc_call(url, "eth_chainId") == hex(devchain.LOCAL_CHAIN_ID)
        again = tessera("chain", "up", "--port", str(port), "--state-dir", str(state))
        assert "already running" in again.stdout
    finally:
        down = tessera("chain", "down", "--state-dir", str(state))
    assert down.returncode == 0
    assert "stopped" in down.stdout
    assert not (state / "anvil.pid").exists()
    with pytest.raises(OSError):
        devchain.rpc_call(url, "eth_chainId", timeout=1.0)
