"""Each operator's reliability record, folded from JobRegistry and Staking events.

A record counts an operator's claims (``JobClaimed``), the claims on settled jobs (the job ended
``JobCompleted``, ``JobFailed`` or ``JobExpired``), the claims it was paid for (``WorkerPaid``: its result
agreed with the quorum), the settled claims it never revealed (misses: it did not commit, or committed and
withheld), and its ``OperatorSlashed`` events by `SlashReason`. Nothing here is on chain and assignment does
not weigh it today (docs/SPEC.md §10); the dashboard folds the same record in the browser
(``frontend/src/reliability.ts``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from offchain.chain.logs import is_range_error
from offchain.chain.protocol import SlashReason

if TYPE_CHECKING:
    from offchain.chain.bindings import Event, Tessera

SETTLED_EVENTS = frozenset({"JobCompleted", "JobFailed", "JobExpired"})
DEFAULT_LOG_RANGE = 5_000


@dataclass
class ReliabilityRecord:
    """What the chain's events say about one operator's work."""

    operator: str
    claims: int = 0
    settled: int = 0
    agreed: int = 0
    misses: int = 0
    slashes: dict[SlashReason, int] = field(default_factory=lambda: dict.fromkeys(SlashReason, 0))
    slashed_amount: int = 0

    @property
    def agreed_bps(self) -> int | None:
        """Agreed over settled claims, in basis points; None before any claim settled."""
        return None if self.settled == 0 else self.agreed * 10_000 // self.settled

    def as_json(self) -> dict[str, object]:
        return {
            "operator": self.operator,
            "claims": self.claims,
            "settled": self.settled,
            "agreed": self.agreed,
            "misses": self.misses,
            "agreed_bps": self.agreed_bps,
            "slashes": {reason.name.lower(): n for reason, n in self.slashes.items()},
            "slashed_amount": str(self.slashed_amount),
        }


def fold_records(events: Iterable[Event]) -> dict[str, ReliabilityRecord]:
    """The record of every operator that registered, claimed or was slashed, from `events` in chain order."""
    records: dict[str, ReliabilityRecord] = {}
    claims: dict[int, set[str]] = {}
    revealed: dict[int, set[str]] = {}

    def record(operator: str) -> ReliabilityRecord:
        return records.setdefault(operator, ReliabilityRecord(operator))

    for event in events:
        a = event.args
        if event.name == "OperatorRegistered":
            record(a["operator"])
        elif event.name == "JobClaimed":
            record(a["worker"]).claims += 1
            claims.setdefault(a["job_id"], set()).add(a["worker"])
        elif event.name == "ResultRevealed":
            revealed.setdefault(a["job_id"], set()).add(a["worker"])
        elif event.name == "WorkerPaid":
            record(a["worker"]).agreed += 1
        elif event.name == "OperatorSlashed":
            slashed = record(a["operator"])
            slashed.slashes[SlashReason(a["reason"])] += 1
            slashed.slashed_amount += a["amount"]
        elif event.name in SETTLED_EVENTS:
            job_id = a["job_id"]
            for worker in claims.get(job_id, ()):
                record(worker).settled += 1
                if worker not in revealed.get(job_id, set()):
                    record(worker).misses += 1
    return records


def read_records(tessera: Tessera, *, log_range: int = DEFAULT_LOG_RANGE) -> dict[str, ReliabilityRecord]:
    """Every operator's record from the deployment block to the head of `tessera`'s chain."""
    return fold_records(_events(tessera, log_range))


def _events(tessera: Tessera, step: int) -> Iterator[Event]:
    w3 = tessera.w3
    start = tessera.manifest.deployment_block
    head = int(w3.eth.block_number)
    while start <= head:
        end = min(head, start + step - 1)
        try:
            logs = w3.eth.get_logs({"address": tessera.addresses, "fromBlock": start, "toBlock": end})
        except Exception as err:
            if is_range_error(err) and step > 1:
                step = max(1, step // 2)
                continue
            raise
        for log in logs:
            event = tessera.decode_log(log)
            if event is not None:
                yield event
        start = end + 1
