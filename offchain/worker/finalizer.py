"""Who sends a job's finalize: one worker at once, the others only if it does not (defect: finalize race).

Anyone may call `JobRegistry.finalize` once every committer revealed or the reveal deadline passed, and
every worker of a job used to send it the moment it could: all but the first reverted, gas wasted. Now
each worker ranks the job's claimants the same way, from chain state alone:

* revealers first, then claimants that did not reveal (they may still be alive and want their
  collateral back, but a revealer is the one sure to be running);
* within each group, by ``keccak256(abi.encode(job_id, worker))`` ascending: fixed per job, spread over
  workers across jobs, and not chosen by any worker.

The worker at rank ``r`` sends finalize once ``r * fallback_s`` seconds of chain time have passed since
it first saw finalize possible (rank 0 at once), and only while the job is not settled: if the chosen
worker is down, the next one settles the job ``fallback_s`` later, and so on.
"""

from __future__ import annotations

from collections.abc import Iterable

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address


def finalize_key(job_id: int, worker: str) -> bytes:
    """``keccak256(abi.encode(uint256 job_id, address worker))``: a worker's place in the job's order."""
    return keccak(abi_encode(["uint256", "address"], [job_id, to_checksum_address(worker)]))


def finalize_order(job_id: int, revealers: Iterable[str], others: Iterable[str] = ()) -> list[str]:
    """Who finalizes ``job_id`` first, second...: ``revealers`` then ``others``, each by `finalize_key`."""
    revealed = {to_checksum_address(w) for w in revealers}
    rest = {to_checksum_address(w) for w in others} - revealed
    return [
        *sorted(revealed, key=lambda w: finalize_key(job_id, w)),
        *sorted(rest, key=lambda w: finalize_key(job_id, w)),
    ]


def finalize_rank(job_id: int, worker: str, revealers: Iterable[str], others: Iterable[str] = ()) -> int:
    """``worker``'s place in `finalize_order` (0: finalizes at once); after everyone if not listed."""
    order = finalize_order(job_id, revealers, others)
    me = to_checksum_address(worker)
    return order.index(me) if me in order else len(order)
