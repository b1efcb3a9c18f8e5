"""What a requester or an operator does by hand: post a job, follow it, fetch its result, stake, claim.

`Client.connect(settings)` opens the chain once: the RPC (with fail-over), the deployment manifest for the
node's chain id, the preflight chain and code checks, the typed bindings and, when a key is configured, a
`TxManager` over an in-memory `ChainStore` (a one-shot command keeps no ledger; the worker does). Every
method is a few contract calls; the CLI (`offchain.cli`) and the demo (`offchain.demo`) are its only callers.

Amounts are integers in wei throughout; `parse_amount` and `format_tsr` convert at the edge.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from offchain.chain.protocol import SlashReason
from offchain.errors import ConfigError, TesseraError
from offchain.worker.error_result import error_code_of

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3
    from web3.types import TxReceipt

    from offchain.chain.bindings import Call, Event, JobView, Tessera
    from offchain.chain.manifest import Manifest
    from offchain.chain.txmanager import TxManager
    from offchain.ipfs import IpfsReader
    from offchain.settings import Settings

TSR = 10**18
DEFAULT_WINDOW_S = 300
DEFAULT_CHALLENGE_WINDOW_S = (
    600  # an optimistic job's reveal window: time for others to recompute and challenge
)
RESULT_SUFFIX = ".safetensors"


# ------------------------------------------------------------------------------------------------ errors
class JobNotFound(TesseraError):
    code = "E_JOB_UNKNOWN"
    default_hint = "check the job id (`tessera job status <id>`) and that TESSERA_RPC_URL is the right chain"


class JobNotCompleted(TesseraError):
    code = "E_JOB_NOT_COMPLETED"
    default_hint = "wait for the job to complete (`tessera job status <id>`), then retry"


class ResultMismatch(TesseraError):
    code = "E_RESULT_MISMATCH"
    default_hint = "the result CID does not hold the agreed bytes; try another IPFS source (TESSERA_IPFS)"


class NotOptimistic(TesseraError):
    code = "E_NOT_OPTIMISTIC"
    default_hint = (
        "only a job posted with `tessera job submit --optimistic` can be challenged; a checked job's "
        "replicas dispute each other and escalate by themselves"
    )


class NoResultYet(TesseraError):
    code = "E_NO_RESULT_YET"
    default_hint = (
        "wait until the worker reveals (`tessera job status <id>`), then challenge before the window closes"
    )


class SameResult(TesseraError):
    code = "E_SAME_RESULT"
    default_hint = "your result agrees with the revealed one: there is nothing to dispute"


class ChallengeClosed(TesseraError):
    code = "E_CHALLENGE_CLOSED"
    default_hint = (
        "a result can be challenged only once, before its challenge window (the reveal deadline) closes"
    )


class NothingToClaim(TesseraError):
    code = "E_NOTHING_TO_CLAIM"
    default_hint = "emission is claimable once an epoch in which you completed jobs has ended"


# ----------------------------------------------------------------------------------------------- amounts
def parse_amount(text: str) -> int:
    """``"1.5"`` (TSR) -> 1.5e18 wei; ``"15wei"`` -> 15. `ConfigError` for anything else."""
    raw = text.strip().lower().replace("_", "")
    try:
        if raw.endswith("wei"):
            value = Decimal(raw[:-3].strip())
            scale = 1
        else:
            value = Decimal(raw.removesuffix("tsr").strip())
            scale = TSR
    except InvalidOperation:
        raise ConfigError(
            f"{text!r} is not an amount", hint="give TSR as a decimal (1.5) or wei (15wei)"
        ) from None
    wei = value * scale
    if wei < 0 or wei != wei.to_integral_value():
        raise ConfigError(
            f"{text!r} is not a whole, non-negative number of wei", hint="use at most 18 decimals"
        )
    return int(wei)


def format_tsr(wei: int, places: int = 4) -> str:
    """``1_500_000_000_000_000_000`` -> ``"1.5 TSR"`` (trailing zeros dropped)."""
    text = f"{Decimal(wei) / TSR:,.{places}f}".rstrip("0").rstrip(".")
    return f"{text} TSR"


# ------------------------------------------------------------------------------------------------ views
@dataclass(frozen=True)
class WorkerProgress:
    """One claimant of a job: what it has done, and what it revealed."""

    worker: str
    committed: bool
    revealed: bool
    result_digest: bytes | None = None
    result_cid: str | None = None
    paid: int | None = None
    slashed: int = 0
    slash_reasons: tuple[str, ...] = ()
    round: int = 0  # the round it claimed (0 as posted; each escalation opens the next)


@dataclass(frozen=True)
class Escalation:
    """A `JobEscalated` event: the job's disputed round closed and round ``round`` opened with fresh
    replicas and new deadlines."""

    round: int
    replicas: int
    quorum: int
    claim_deadline: int
    commit_deadline: int
    reveal_deadline: int
    at: int  # block timestamp of the escalating finalize


@dataclass(frozen=True)
class Challenge:
    """A `ResultChallenged` event: an operator disputed an optimistic job's revealed result, naming its own
    result, and locked the job's collateral as a bond."""

    challenger: str
    result_digest: bytes
    result_cid: str
    at: int  # block timestamp of the challenge


@dataclass(frozen=True)
class ChallengeTarget:
    """What a challenge of an optimistic job disputes: the worker's revealed result, the bond it takes and
    when the window closes (checked by `Client.check_challenge`)."""

    job_id: int
    worker: str
    revealed_digest: bytes
    bond: int  # the job's collateral, locked from the challenger's free stake
    closes_at: int  # the reveal deadline
    now: int


@dataclass(frozen=True)
class Selection:
    """When an operator may claim a job's current round (`JobRegistry.selected_at`)."""

    job_id: int
    operator: str
    round: int
    selected_at: int  # 2**256 - 1: no bonded stake
    claim_deadline: int
    now: int

    @property
    def has_stake(self) -> bool:
        return self.selected_at != 2**256 - 1

    @property
    def this_round(self) -> bool:
        """Selected before the round's claim deadline (now or later, as the threshold widens)."""
        return self.selected_at < self.claim_deadline


@dataclass(frozen=True)
class JobStatus:
    """A job as a requester sees it: the on-chain view plus what its events say."""

    view: JobView
    spec_cid: str | None
    spec_digest: bytes | None
    workers: tuple[WorkerProgress, ...]
    result_digest: bytes | None = None
    protocol_fee: int | None = None
    posted_at: int | None = None
    settled_at: int | None = None
    tx_hashes: tuple[bytes, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    optimistic: bool = False  # posted with post_job_optimistic: the reveal window is a challenge window
    challenge: Challenge | None = None
    posted_replicas: int | None = None  # round 0's replicas, as posted (JobPosted)

    @property
    def phase(self) -> str:
        return self.view.phase.name.capitalize()

    @property
    def agreeing(self) -> tuple[WorkerProgress, ...]:
        if self.result_digest is None:
            return ()
        return tuple(w for w in self.workers if w.result_digest == self.result_digest)

    @property
    def result_cid(self) -> str | None:
        cids = [w.result_cid for w in self.agreeing if w.result_cid]
        return cids[0] if cids else None

    @property
    def fee_paid(self) -> int:
        return sum(w.paid or 0 for w in self.workers)


@dataclass(frozen=True)
class OperatorStatus:
    address: str
    native_balance: int
    tsr_balance: int
    registered: bool
    metadata_cid: str
    bonded: int
    locked: int
    free_stake: int
    min_stake: int
    eligible: bool
    jailed_until: int
    locks: tuple[tuple[int, int, int], ...]  # (lock id, amount, withdrawable at)
    now: int


@dataclass(frozen=True)
class SavedResult:
    path: Path
    cid: str
    digest: bytes
    size: int
    tensors: dict[str, tuple[str, list[int]]] = field(default_factory=dict)
    error_code: str | None = None  # the job ended with an agreed error result (offchain.worker.error_result)


# ------------------------------------------------------------------------------------------------ client
SLASH_REASONS = {int(reason): reason.name.lower().replace("_", " ") for reason in SlashReason}


class Client:
    """One connection to one deployment, optionally with a signing key. See the module docstring."""

    def __init__(
        self,
        settings: Settings,
        w3: Web3,
        manifest: Manifest,
        contracts: Tessera,
        account: LocalAccount | None = None,
    ) -> None:
        self.settings = settings
        self.w3 = w3
        self.manifest = manifest
        self.contracts = contracts
        self.account = account
        self._tx: TxManager | None = None

    @classmethod
    def connect(
        cls, settings: Settings, *, account: LocalAccount | None = None, signer: bool = False
    ) -> Client:
        """Open the deployment named by ``settings``; load the configured key when ``signer``.

        Raises `RpcUnreachable`, `ConfigError` (no manifest), `WrongChainId`, `NoContractCode`.
        """
        from offchain.chain.bindings import Tessera
        from offchain.chain.manifest import load_manifest
        from offchain.chain.preflight import check_chain
        from offchain.chain.rpc import connect

        w3 = connect(settings)
        chain_id = int(w3.eth.chain_id)
        path = settings.manifest_path(chain_id)
        manifest = load_manifest(path)
        check_chain(w3, manifest, rpc_url=settings.rpc_url)
        if account is None and signer:
            from offchain.chain.keys import load_account

            account = load_account(settings)
        return cls(settings, w3, manifest, Tessera(w3, manifest), account)

    # -------------------------------------------------------------------------- sending
    @property
    def address(self) -> str:
        if self.account is None:
            raise ConfigError(
                "this command signs transactions but no key is configured",
                hint="set TESSERA_KEYSTORE and its password file, or TESSERA_PRIVATE_KEY locally",
            )
        return self.account.address

    @property
    def tx(self) -> TxManager:
        if self._tx is None:
            from offchain.chain.store import ChainStore
            from offchain.chain.txmanager import FeePolicy, TxManager

            s = self.settings
            self.address  # noqa: B018 - raises the no-key error first
            self._tx = TxManager(
                self.w3,
                self.account,  # type: ignore[arg-type]
                ChainStore(":memory:"),  # a one-shot command: its transactions need not outlive it
                chain_id=self.manifest.chain_id,
                fees=FeePolicy.from_gwei(
                    s.priority_fee_gwei, s.max_fee_gwei, s.fee_bump_percent, s.stuck_after_s
                ),
                confirmations=1,
            )
        return self._tx

    def send(self, call: Call, *, timeout_s: float = 120.0) -> TxReceipt:
        """Simulate, sign, send ``call`` and wait for its receipt; `TxReverted` if it fails."""
        from offchain.chain.txmanager import TxReverted, TxStatus

        key = f"{call.label.split('(')[0]}:{uuid.uuid4().hex}"
        self.tx.send(call, key=key)
        record = self.tx.wait(key, timeout_s=timeout_s)
        receipt = self.tx.receipt(key)
        if record.status == TxStatus.REVERTED:
            raise TxReverted(call.label, "reverted on chain")
        if receipt is None:
            raise TesseraError(
                f"{call.label} was not mined within {timeout_s:.0f} s (status {record.status})"
            )
        return receipt

    def ensure_allowance(self, spender: str, amount: int) -> TxReceipt | None:
        """Approve ``spender`` for ``amount`` unless the allowance already covers it."""
        if self.contracts.allowance(self.address, spender) >= amount:
            return None
        return self.send(self.contracts.approve(spender, amount))

    # -------------------------------------------------------------------------- requester
    def defaults(self) -> dict[str, int]:
        """Fee and collateral floors of this deployment."""
        registry = self.contracts.registry.functions
        return {
            "min_fee": int(registry.min_fee().call()),
            "min_collateral": int(registry.min_collateral().call()),
        }

    def post_job(
        self,
        spec_cid: str,
        spec_bytes: bytes,
        *,
        fee: int,
        replicas: int = 1,
        quorum: int | None = None,
        collateral: int | None = None,
        windows: tuple[int, int, int] = (DEFAULT_WINDOW_S, DEFAULT_WINDOW_S, DEFAULT_WINDOW_S),
    ) -> tuple[int, list[TxReceipt]]:
        """Approve the fee and post the job; returns the job id and the receipts (approve, post)."""
        quorum = quorum if quorum is not None else replicas // 2 + 1
        collateral = collateral if collateral is not None else self.defaults()["min_collateral"]
        digest = hashlib.sha256(spec_bytes).digest()
        receipts = []
        approved = self.ensure_allowance(self.contracts.registry.address, fee)
        if approved is not None:
            receipts.append(approved)
        call = self.contracts.post_job(spec_cid, digest, fee, replicas, quorum, collateral, *windows)
        receipt = self.send(call)
        receipts.append(receipt)
        return self.contracts.job_id_from(receipt), receipts

    def post_job_optimistic(
        self,
        spec_cid: str,
        spec_bytes: bytes,
        *,
        fee: int,
        collateral: int | None = None,
        windows: tuple[int, int, int] = (DEFAULT_WINDOW_S, DEFAULT_WINDOW_S, DEFAULT_CHALLENGE_WINDOW_S),
    ) -> tuple[int, list[TxReceipt]]:
        """Approve the fee and post an optimistic job (one replica; ``windows`` are claim, commit and
        challenge: the worker's reveal settles only when the challenge window closes unchallenged).
        Returns the job id and the receipts (approve, post)."""
        collateral = collateral if collateral is not None else self.defaults()["min_collateral"]
        digest = hashlib.sha256(spec_bytes).digest()
        receipts = []
        approved = self.ensure_allowance(self.contracts.registry.address, fee)
        if approved is not None:
            receipts.append(approved)
        call = self._registry_call("post_job_optimistic", spec_cid, digest, fee, collateral, *windows)
        receipt = self.send(call)
        receipts.append(receipt)
        return self.contracts.job_id_from(receipt), receipts

    def is_optimistic(self, job_id: int) -> bool:
        return self.contracts.is_optimistic(job_id)

    def check_challenge(self, job_id: int, result_digest: bytes) -> ChallengeTarget:
        """Everything `JobRegistry.challenge` checks that a user can act on, before anything is uploaded or
        sent: the job is optimistic, its worker revealed a result that differs from ``result_digest``, it
        is not challenged yet, its window is open, and the signer is not its worker and has the bond free.
        """
        from offchain.chain.bindings import Phase
        from offchain.chain.preflight import StakeTooLow

        view = self.contracts.get_job(job_id)
        if view.phase == Phase.UNKNOWN:
            raise JobNotFound(f"there is no job {job_id} on chain {self.manifest.chain_id}")
        if not self.is_optimistic(job_id):
            raise NotOptimistic(
                f"job {job_id} was posted with {view.replicas} replica(s), not as an optimistic job"
            )
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        if view.phase.terminal or view.round > 0:
            state = view.phase.name.lower() if view.phase.terminal else f"escalated to round {view.round}"
            raise ChallengeClosed(f"job {job_id} is {state}; its challenge window is over")
        if view.claims > 1:
            challenger = self.contracts.claimants(job_id)[1]
            raise ChallengeClosed(f"job {job_id} was already challenged by {challenger}")
        claimants = self.contracts.claimants(job_id)
        entry = self.contracts.worker_entry(job_id, claimants[0]) if claimants else None
        if entry is None or not entry.revealed:
            raise NoResultYet(
                f"job {job_id}'s worker has not revealed a result yet ({view.phase.name.lower()})"
            )
        if now >= view.reveal_deadline:
            raise ChallengeClosed(
                f"job {job_id}'s challenge window closed {now - view.reveal_deadline} s ago "
                "(at its reveal deadline)",
                hint=f"anyone may now settle it with finalize; see `tessera job status {job_id}`",
            )
        revealed = bytes(entry.seal)
        if revealed == result_digest:
            raise SameResult(
                f"job {job_id}'s revealed result is 0x{revealed.hex()}, the same digest as yours"
            )
        if claimants[0] == self.address:
            raise ConfigError(
                f"{self.address} is job {job_id}'s worker: an operator cannot challenge its own result",
                hint="challenge with another operator's key",
            )
        if not self.contracts.is_eligible(self.address):
            raise StakeTooLow(
                f"{self.address} may not claim jobs (not registered, too little stake, or jailed)"
            )
        free = self.contracts.free_stake(self.address)
        if free < view.collateral:
            raise StakeTooLow(
                f"the bond is the job's collateral, {format_tsr(view.collateral)}, but {self.address} has "
                f"{format_tsr(free)} of free stake"
            )
        return ChallengeTarget(job_id, claimants[0], revealed, view.collateral, view.reveal_deadline, now)

    def challenge(self, job_id: int, result_digest: bytes, result_cid: str) -> TxReceipt:
        """Send `challenge(job, digest, cid)` from the signer (check first with `check_challenge`)."""
        return self.send(self._registry_call("challenge", job_id, result_digest, result_cid))

    def _registry_call(self, fn: str, *args: Any) -> Call:
        """A `JobRegistry` call built from its ABI (for functions the shared bindings do not wrap)."""
        from offchain.chain.bindings import Call

        registry = self.contracts.registry
        data = bytes.fromhex(registry.encode_abi(fn, args=list(args)).removeprefix("0x"))
        shown = ", ".join(f"0x{a.hex()[:8]}…" if isinstance(a, bytes) else str(a) for a in args)
        return Call(to=registry.address, data=data, label=f"{fn}({shown})")

    def job_events(self, job_id: int, names: Iterable[str] | None = None) -> list[Event]:
        """Every Tessera event indexed by ``job_id`` (registry and staking), in chain order."""
        from web3 import Web3

        wanted = set(names) if names else None
        topic = "0x" + job_id.to_bytes(32, "big").hex()
        events: list[Event] = []
        for contract, event_names in (
            (self.contracts.registry, _REGISTRY_JOB_EVENTS),
            (self.contracts.staking, ("OperatorSlashed",)),
        ):
            for name in event_names:
                if wanted is not None and name not in wanted:
                    continue
                abi = next(i for i in contract.abi if i.get("type") == "event" and i["name"] == name)
                signature = f"{name}({','.join(_abi_type(i) for i in abi['inputs'])})"
                topic0 = Web3.keccak(text=signature).to_0x_hex()
                topics = [topic0, topic] if abi["inputs"][0]["name"] == "job_id" else [topic0, None, topic]
                for log in self._get_logs(contract.address, topics):
                    event = self.contracts.decode_log(log)
                    if event is not None:
                        events.append(event)
        events.sort(key=lambda e: (e.block_number, e.log_index))
        return events

    def _get_logs(self, address: str, topics: list[Any]) -> Iterator[Any]:
        """eth_getLogs from the deployment block to the head, in ranges a node accepts (halved on refusal)."""
        from offchain.chain.logs import is_range_error

        start = self.manifest.deployment_block
        head = int(self.w3.eth.block_number)
        step = self.settings.log_range_blocks
        while start <= head:
            end = min(head, start + step - 1)
            try:
                logs = self.w3.eth.get_logs(
                    {"address": address, "topics": topics, "fromBlock": start, "toBlock": end}  # type: ignore[typeddict-item]
                )
            except Exception as err:
                if is_range_error(err) and step > 1:
                    step = max(1, step // 2)
                    continue
                raise
            yield from logs
            start = end + 1

    def job_status(self, job_id: int) -> JobStatus:
        """The job's on-chain view and what its events say (claimants, reveals, payouts, slashes)."""
        from offchain.chain.bindings import Phase

        view = self.contracts.get_job(job_id)
        if view.phase == Phase.UNKNOWN:
            raise JobNotFound(f"there is no job {job_id} on chain {self.manifest.chain_id}")
        events = self.job_events(job_id)
        by_name: dict[str, list[Event]] = {}
        for event in events:
            by_name.setdefault(event.name, []).append(event)
        posted = by_name.get("JobPosted", [None])[0]
        reveals = {e.args["worker"]: e.args for e in by_name.get("ResultRevealed", [])}
        for e in by_name.get("ResultChallenged", []):  # a challenger's result is revealed by its challenge
            reveals.setdefault(e.args["challenger"], e.args)
        paid = {e.args["worker"]: int(e.args["amount"]) for e in by_name.get("WorkerPaid", [])}
        slashes: dict[str, list[Event]] = {}
        for e in by_name.get("OperatorSlashed", []):
            slashes.setdefault(e.args["operator"], []).append(e)
        # a claimant's round: the escalations logged before its claim (events are in chain order)
        rounds: dict[str, int] = {}
        escalated = 0
        for event in events:
            if event.name == "JobEscalated":
                escalated += 1
            elif event.name == "JobClaimed":
                rounds.setdefault(event.args["worker"], escalated)
        workers = []
        for worker in self.contracts.claimants(job_id):
            entry = self.contracts.worker_entry(job_id, worker)
            reveal = reveals.get(worker)
            workers.append(
                WorkerProgress(
                    worker=worker,
                    committed=entry.committed,
                    revealed=entry.revealed,
                    result_digest=bytes(reveal["result_digest"]) if reveal else None,
                    result_cid=reveal["result_cid"] if reveal else None,
                    paid=paid.get(worker),
                    slashed=sum(int(s.args["amount"]) for s in slashes.get(worker, [])),
                    slash_reasons=tuple(
                        SLASH_REASONS.get(int(s.args["reason"]), str(s.args["reason"]))
                        for s in slashes.get(worker, [])
                    ),
                    round=rounds.get(worker, 0),
                )
            )
        completed = by_name.get("JobCompleted", [None])[0]
        challenged = by_name.get("ResultChallenged", [None])[0]
        challenge = (
            Challenge(
                challenger=challenged.args["challenger"],
                result_digest=bytes(challenged.args["result_digest"]),
                result_cid=challenged.args["result_cid"],
                at=self._timestamp(challenged.block_number),
            )
            if challenged
            else None
        )
        settled = completed or next(
            (by_name[n][0] for n in ("JobFailed", "JobCancelled", "JobExpired") if by_name.get(n)), None
        )
        return JobStatus(
            view=view,
            spec_cid=posted.args["spec_cid"] if posted else None,
            spec_digest=bytes(posted.args["spec_digest"]) if posted else None,
            workers=tuple(workers),
            result_digest=bytes(completed.args["result_digest"]) if completed else None,
            protocol_fee=int(completed.args["protocol_fee"]) if completed else None,
            posted_at=self._timestamp(posted.block_number) if posted else None,
            settled_at=self._timestamp(settled.block_number) if settled else None,
            tx_hashes=tuple(dict.fromkeys(e.tx_hash for e in events)),
            escalations=tuple(
                Escalation(
                    round=int(e.args["round"]),
                    replicas=int(e.args["replicas"]),
                    quorum=int(e.args["quorum"]),
                    claim_deadline=int(e.args["claim_deadline"]),
                    commit_deadline=int(e.args["commit_deadline"]),
                    reveal_deadline=int(e.args["reveal_deadline"]),
                    at=self._timestamp(e.block_number),
                )
                for e in by_name.get("JobEscalated", [])
            ),
            optimistic=self.is_optimistic(job_id),
            challenge=challenge,
            posted_replicas=int(posted.args["replicas"]) if posted else None,
        )

    def selection(self, job_id: int, address: str | None = None) -> Selection:
        """When ``address`` (default: the signer) may claim the job's current round: selection is by
        stake and changes each round (SPEC §3 Selection)."""
        from offchain.chain.bindings import Phase

        address = address or self.address
        view = self.contracts.get_job(job_id)
        if view.phase == Phase.UNKNOWN:
            raise JobNotFound(f"there is no job {job_id} on chain {self.manifest.chain_id}")
        at = int(self.contracts.registry.functions.selected_at(job_id, address).call())
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        return Selection(job_id, address, view.round, at, view.claim_deadline, now)

    def _timestamp(self, block_number: int) -> int:
        return int(self.w3.eth.get_block(block_number)["timestamp"])

    def gas_used(self, tx_hashes: Iterable[bytes]) -> int:
        """Total gas of the given transactions (e.g. every transaction of a job's life)."""
        return sum(int(self.w3.eth.get_transaction_receipt(h)["gasUsed"]) for h in tx_hashes)

    def save_result(self, job_id: int, out_dir: Path, ipfs: IpfsReader) -> SavedResult:
        """Fetch the agreed result of a Completed job, check it against the agreed digest, write it.

        The CID comes from an agreeing worker's `ResultRevealed` event; every block is verified against it
        by the IPFS reader, and the whole file against the `result_digest` the quorum agreed on.
        """
        status = self.job_status(job_id)
        if status.result_digest is None:
            raise JobNotCompleted(f"job {job_id} is {status.phase}, so it has no agreed result")
        digest = status.result_digest
        mismatches: list[str] = []
        fetch_error: TesseraError | None = None
        for cid in dict.fromkeys(w.result_cid for w in status.agreeing if w.result_cid):
            try:
                data = ipfs.cat(
                    cid, max_bytes=self.settings.max_input_bytes, timeout_s=self.settings.ipfs_timeout_s
                )
            except TesseraError as err:
                fetch_error = fetch_error or err
                continue
            if hashlib.sha256(data).digest() != digest:
                mismatches.append(f"{cid} holds bytes with sha256 0x{hashlib.sha256(data).hexdigest()}")
                continue
            error_code = error_code_of(data)  # the workers agreed the job itself fails, with this code
            out_dir.mkdir(parents=True, exist_ok=True)
            path = out_dir / f"job-{job_id}{'.error.json' if error_code else RESULT_SUFFIX}"
            tmp = path.with_name(path.name + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)
            tensors = {} if error_code else safetensors_header(data)
            return SavedResult(path, cid, digest, len(data), tensors, error_code)
        if fetch_error is not None and not mismatches:
            raise fetch_error
        raise ResultMismatch(
            f"no revealed CID of job {job_id} holds the agreed digest 0x{digest.hex()}: "
            + "; ".join(mismatches or ["no agreeing worker revealed a CID"])
        )

    # -------------------------------------------------------------------------- operator
    def operator_status(self, address: str | None = None) -> OperatorStatus:
        address = address or self.address
        staking = self.contracts.staking.functions
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        locks = tuple(
            (i, int(amount), int(at))
            for i, (amount, at) in enumerate(staking.locks(address).call())
            if int(amount) > 0
        )
        return OperatorStatus(
            address=address,
            native_balance=int(self.w3.eth.get_balance(address)),
            tsr_balance=self.contracts.balance_of(address),
            registered=self.contracts.is_registered(address),
            metadata_cid=str(staking.metadata_cid(address).call()),
            bonded=self.contracts.bonded(address),
            locked=int(staking.locked(address).call()),
            free_stake=self.contracts.free_stake(address),
            min_stake=self.contracts.min_stake(),
            eligible=self.contracts.is_eligible(address),
            jailed_until=self.contracts.jailed_until(address),
            locks=locks,
            now=now,
        )

    def register(self, metadata_cid: str) -> TxReceipt:
        return self.send(self.contracts.register(metadata_cid))

    def stake(self, amount: int) -> list[TxReceipt]:
        receipts = []
        approved = self.ensure_allowance(self.contracts.staking.address, amount)
        if approved is not None:
            receipts.append(approved)
        receipts.append(self.send(self.contracts.stake(amount)))
        return receipts

    def request_unstake(self, amount: int) -> tuple[int, int]:
        """Start unbonding ``amount``; returns (lock id, withdrawable at)."""
        receipt = self.send(self.contracts.request_unstake(amount))
        for event in self.contracts.events_in(receipt):
            if event.name == "UnstakeRequested":
                return int(event.args["lock_id"]), int(event.args["withdrawable_at"])
        raise TesseraError("request_unstake was mined but logged no UnstakeRequested event")

    def withdraw(self, lock_id: int) -> int:
        """Withdraw an unbonded lock; returns the amount paid."""
        receipt = self.send(self.contracts.withdraw(lock_id))
        return sum(int(e.args["amount"]) for e in self.contracts.events_in(receipt) if e.name == "Withdrawn")

    # -------------------------------------------------------------------------- rewards
    def claimable_epochs(self, address: str | None = None) -> list[tuple[int, int]]:
        """(epoch, amount) for every ended epoch in which ``address`` earned points it has not claimed.

        Epochs are found from the `WorkerPaid` events naming the operator (points are recorded in the
        epoch of the block that paid it), so the scan is bounded by the operator's own history.
        """
        from web3 import Web3

        address = address or self.address
        emitter = self.contracts.emitter.functions
        genesis, length = int(emitter.GENESIS().call()), int(emitter.EPOCH_LENGTH().call())
        current = self.contracts.current_epoch()
        topic0 = Web3.keccak(text="WorkerPaid(uint256,address,uint256)").to_0x_hex()
        worker_topic = "0x" + bytes.fromhex(address[2:]).rjust(32, b"\0").hex()
        epochs: set[int] = set()
        for log in self._get_logs(self.contracts.registry.address, [topic0, None, worker_topic]):
            epochs.add((self._timestamp(int(log["blockNumber"])) - genesis) // length)
        found = []
        for epoch in sorted(e for e in epochs if e < current):
            amount = self.contracts.claimable(address, epoch)
            if amount > 0:
                found.append((epoch, amount))
        return found

    def emission_claimed(self, address: str | None = None) -> int:
        """Everything ever claimed for ``address`` (`EmissionClaimed` events, whoever sent the claim)."""
        from web3 import Web3

        address = address or self.address
        topic0 = Web3.keccak(text="EmissionClaimed(address,uint256,uint256)").to_0x_hex()
        operator_topic = "0x" + bytes.fromhex(address[2:]).rjust(32, b"\0").hex()
        total = 0
        for log in self._get_logs(self.contracts.emitter.address, [topic0, operator_topic]):
            event = self.contracts.decode_log(log)
            if event is not None:
                total += int(event.args["amount"])
        return total

    def claim_rewards(self) -> tuple[int, list[int]]:
        """Claim every claimable ended epoch (32 per transaction); returns (amount minted, epochs)."""
        from offchain.chain.bindings import MAX_CLAIM_EPOCHS

        pending = self.claimable_epochs()
        if not pending:
            raise NothingToClaim(f"{self.address} has no unclaimed emission in an ended epoch")
        total, epochs = 0, [e for e, _ in pending]
        for batch in _batched(epochs, MAX_CLAIM_EPOCHS):
            receipt = self.send(self.contracts.claim_emission(batch))
            total += sum(
                int(e.args["amount"])
                for e in self.contracts.events_in(receipt)
                if e.name == "EmissionClaimed"
            )
        return total, epochs


_REGISTRY_JOB_EVENTS = (
    "JobPosted",
    "JobClaimed",
    "ResultCommitted",
    "ResultRevealed",
    "WorkerPaid",
    "JobCompleted",
    "JobFailed",
    "JobCancelled",
    "JobExpired",
    "JobEscalated",
    "ResultChallenged",
)


def _abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return str(item["type"])


def _batched(items: list[int], size: int) -> Iterator[list[int]]:
    it = iter(items)
    while batch := list(itertools.islice(it, size)):
        yield batch


def safetensors_header(data: bytes) -> dict[str, tuple[str, list[int]]]:
    """Tensor name -> (dtype, shape) from a safetensors file's JSON header (no tensor is loaded)."""
    if len(data) < 8:
        return {}
    size = int.from_bytes(data[:8], "little")
    try:
        header = json.loads(data[8 : 8 + size])
    except (ValueError, UnicodeDecodeError):
        return {}
    return {
        name: (str(info.get("dtype")), list(info.get("shape", [])))
        for name, info in header.items()
        if name != "__metadata__" and isinstance(info, dict)
    }
