"""`tessera worker doctor`: every check a worker's set-up must pass, in dependency order, never raising.

`doctor_checks(settings)` yields ``(check, outcome)`` pairs: a detail string when the check passed, the
`TesseraError` when it failed, ``None`` when it was skipped because an earlier check it depends on failed.
The chain checks use `offchain.chain.preflight` (what the worker itself runs before its first transaction),
the IPFS check the shared opener, the device check `offchain.compute.determinism` (what the workload child
uses to pick its device), so the doctor cannot pass a set-up the worker would refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from offchain.errors import TesseraError
from offchain.settings import Settings

T = TypeVar("T")
Outcome = str | TesseraError | None

PROBE = b"tessera worker doctor\n"


def _attempt(fn: Callable[[], T]) -> T | TesseraError:
    try:
        return fn()
    except TesseraError as err:
        return err
    except Exception as err:  # noqa: BLE001 - the doctor reports, it does not crash
        return TesseraError(f"{type(err).__name__}: {err}")


def _failed(value: object) -> bool:
    return isinstance(value, TesseraError)


def doctor_checks(settings: Settings) -> Iterator[tuple[str, Outcome]]:
    """Yield (check, detail | TesseraError | None for skipped) in dependency order; never raise."""
    from offchain.chain import preflight
    from offchain.chain.bindings import Tessera
    from offchain.chain.keys import load_account
    from offchain.chain.manifest import load_manifest
    from offchain.chain.rpc import connect
    from offchain.requester import format_tsr

    w3 = connect(settings)
    chain_id = _attempt(lambda: int(w3.eth.chain_id))
    yield "RPC", chain_id if _failed(chain_id) else f"{settings.rpc_url} is chain {chain_id}"
    ok = not _failed(chain_id)
    manifest = _attempt(lambda: load_manifest(settings.manifest_path(chain_id))) if ok else None
    yield (
        "deployment manifest",
        manifest
        if not ok or _failed(manifest)
        else f"{settings.manifest_path(chain_id)} ({manifest.network}, block {manifest.deployment_block})",
    )
    ok = ok and not _failed(manifest)
    code = _attempt(lambda: preflight.check_chain(w3, manifest, rpc_url=settings.rpc_url)) if ok else None
    yield "contract code", code if not ok or _failed(code) else "all four contracts have code"
    chain_ok = ok and not _failed(code)

    account = _attempt(lambda: load_account(settings))
    source = (
        " (from TESSERA_KEYSTORE)"
        if settings.keystore
        else " (from TESSERA_PRIVATE_KEY: local development only)"
    )
    yield "signing key", account if _failed(account) else f"{account.address}{source}"
    ok = chain_ok and not _failed(account)
    balance = (
        _attempt(
            lambda: preflight.check_balance(
                w3, account.address, min_balance_wei=preflight.DEFAULT_MIN_BALANCE_WEI
            )
        )
        if ok
        else None
    )
    yield "gas balance", balance if balance is None or _failed(balance) else f"{balance / 10**18:.6f}"
    contracts = Tessera(w3, manifest) if ok else None

    def stake() -> str:
        _, bonded, free, minimum, _ = preflight.check_stake(contracts, account.address)
        tsr = contracts.balance_of(account.address)
        return (
            f"bonded {format_tsr(bonded)} (minimum {format_tsr(minimum)}), free {format_tsr(free)}; "
            f"wallet {format_tsr(tsr)}"
        )

    yield "stake", _attempt(stake) if ok else None
    yield "IPFS", _attempt(lambda: check_ipfs(settings))
    yield "compute device", _attempt(lambda: check_device(settings))
    yield "device slots", _attempt(lambda: check_device_slots(settings))


def check_ipfs(settings: Settings) -> str:
    """Add a small probe to the configured IPFS backend and read it back; return what worked."""
    from offchain.ipfs.open import open_ipfs

    with open_ipfs(settings) as backend:
        cid = backend.add_bytes(PROBE, pin=False)
        back = backend.cat(cid, max_bytes=1024, timeout_s=settings.ipfs_timeout_s)
        if back != PROBE:
            raise TesseraError(f"{backend.describe()} returned other bytes for {cid}")
        return f"{backend.describe()}: add and cat work"


def check_device_slots(settings: Settings) -> str:
    """The device slots the worker runs jobs on (one job each at a time), with each one's kind and memory."""
    from offchain.compute.devices import describe_pool, pool_slots, slot_infos

    slots = pool_slots(settings.devices, settings.device)
    return describe_pool(slot_infos(slots, memory_cap_mb=settings.workload_memory_mb))


def check_device(settings: Settings) -> str:
    """The device the workload child would pick for ``settings.device`` and its device class (an absent
    explicit device raises `DeviceUnavailable`, as the child does)."""
    import torch

    from offchain.compute.determinism import device_class, resolve_device

    device = resolve_device(settings.device)
    return f"{device.type}: {device_class(device, torch.get_num_threads())}"
