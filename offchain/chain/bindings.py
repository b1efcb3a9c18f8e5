"""Typed bindings for the four Tessera contracts, built from the deployment manifest's ABIs.

Reads return small frozen dataclasses (`JobView`, `WorkerEntry`). Writes never send anything: they
return a `Call` (target, calldata, a label for logs) that `TxManager.send` simulates, signs, records and
broadcasts; so a caller can also `eth_call` one or hand it to another signer. `decode_log` turns a raw log
from any of the four contracts into an `Event`.

`commitment` computes the registry's commit hash locally; it must equal the contract's `commitment_for`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.types import BlockIdentifier, LogReceipt, TxReceipt

from offchain.chain.manifest import Manifest
from offchain.chain.protocol import MAX_REPLICAS, Phase

# Gas to set a cold zero storage slot non-zero (EIP-2929 + EIP-2200): the most a slot no estimate saw can add.
FRESH_SLOT_GAS = 22_100
# Settlement that an estimate may not have seen (`reveal_and_finalize` estimated while other reveals were
# still owed, mined after they landed): a fixed part, a part per claimant (pay or slash, collateral
# unlock) and the emitter's fresh slots of a new epoch (one per claimant and one for the totals).
SETTLE_BASE_GAS = 60_000
SETTLE_PER_CLAIMANT_GAS = 35_000
MAX_CLAIM_EPOCHS = 32


@dataclass(frozen=True)
class JobView:
    """A job as `get_job` reports it. ``replicas``, ``quorum``, the counts and the deadlines are the
    current round's; ``round`` is 0 as posted (each escalation adds one) and ``first_slot`` is the round's
    first index in `Tessera.claimants`."""

    job_id: int
    requester: str
    phase: Phase
    fee: int
    collateral: int
    replicas: int
    quorum: int
    claims: int
    commits: int
    reveals: int
    claim_deadline: int
    commit_deadline: int
    reveal_deadline: int
    round: int
    first_slot: int


@dataclass(frozen=True)
class WorkerEntry:
    """One worker's progress on a job; ``seal`` is its commitment, or its result digest once revealed."""

    claimed: bool
    committed: bool
    revealed: bool
    seal: bytes


@dataclass(frozen=True)
class Call:
    """A contract call to be sent as a transaction: target, calldata, native value and a log label.

    ``headroom`` is gas the call may need beyond an estimate taken now, when state it cannot see yet
    changes before inclusion (finalize in a block of the next epoch creates fresh emitter slots).
    """

    to: str
    data: bytes
    label: str
    value: int = 0
    headroom: int = 0

    def as_tx(self, sender: str) -> dict[str, Any]:
        """The eth_call / eth_estimateGas parameters for this call from ``sender``."""
        return {"from": sender, "to": self.to, "data": HexBytes(self.data).to_0x_hex(), "value": self.value}


@dataclass(frozen=True)
class Event:
    """A decoded log. ``key`` (block hash, log index) identifies it across polls and reorgs."""

    contract: str
    name: str
    args: dict[str, Any]
    address: str
    block_number: int
    block_hash: bytes
    log_index: int
    tx_hash: bytes

    @property
    def key(self) -> tuple[bytes, int]:
        return (self.block_hash, self.log_index)


def commitment(
    chain_id: int, registry: str, job_id: int, worker: str, result_digest: bytes, result_cid: str, salt: bytes
) -> bytes:
    """keccak256(abi_encode(chain_id, registry, job_id, worker, result_digest, keccak256(result_cid), salt)),
    as on chain: the reveal must name the same result CID."""
    return keccak(
        abi_encode(
            ["uint256", "address", "uint256", "address", "bytes32", "bytes32", "bytes32"],
            [
                chain_id,
                to_checksum_address(registry),
                job_id,
                to_checksum_address(worker),
                result_digest,
                keccak(text=result_cid),
                salt,
            ],
        )
    )


class Tessera:
    """The four contracts of one deployment, with typed reads and `Call` builders for writes."""

    def __init__(self, w3: Web3, manifest: Manifest) -> None:
        self.w3 = w3
        self.manifest = manifest
        self.chain_id = manifest.chain_id
        self.token: Contract = self._contract("TesseraToken")
        self.staking: Contract = self._contract("Staking")
        self.registry: Contract = self._contract("JobRegistry")
        self.emitter: Contract = self._contract("RewardEmitter")
        self._events: dict[tuple[str, bytes], tuple[str, Any]] = {}
        for name in ("TesseraToken", "Staking", "JobRegistry", "RewardEmitter"):
            contract = self.contract(name)
            for item in contract.abi:
                if item.get("type") == "event" and not item.get("anonymous"):
                    event = contract.events[item["name"]]()
                    self._events[(contract.address, bytes(HexBytes(event.topic)))] = (name, event)

    def _contract(self, name: str) -> Contract:
        return self.w3.eth.contract(address=self.manifest.address(name), abi=self.manifest.abi(name))

    def contract(self, name: str) -> Contract:
        """The web3 contract object for ``name`` (TesseraToken, Staking, JobRegistry, RewardEmitter)."""
        return {
            "TesseraToken": self.token,
            "Staking": self.staking,
            "JobRegistry": self.registry,
            "RewardEmitter": self.emitter,
        }[name]

    @property
    def addresses(self) -> list[str]:
        """Every contract address, for log filters."""
        return [c.address for c in (self.token, self.staking, self.registry, self.emitter)]

    # ------------------------------------------------------------------ reads: registry
    def get_job(self, job_id: int, block: BlockIdentifier = "latest") -> JobView:
        raw = self.registry.functions.get_job(job_id).call(block_identifier=block)
        return JobView(job_id, raw[0], Phase(raw[1]), *raw[2:])

    def worker_entry(self, job_id: int, worker: str, block: BlockIdentifier = "latest") -> WorkerEntry:
        claimed, committed, revealed, seal = self.registry.functions.worker_entry(job_id, worker).call(
            block_identifier=block
        )
        return WorkerEntry(claimed, committed, revealed, bytes(seal))

    def is_optimistic(self, job_id: int) -> bool:
        """Whether the job was posted with `post_job_optimistic` (its result waits out a challenge window)."""
        return bool(self.registry.functions.is_optimistic(job_id).call())

    def claimants(self, job_id: int) -> list[str]:
        return list(self.registry.functions.claimants(job_id).call())

    def commitment_for(
        self, job_id: int, worker: str, result_digest: bytes, result_cid: str, salt: bytes
    ) -> bytes:
        fn = self.registry.functions.commitment_for(job_id, worker, result_digest, result_cid, salt)
        return bytes(fn.call())

    def selected_at(self, job_id: int, operator: str, block: BlockIdentifier = "latest") -> int:
        """The block timestamp from which ``operator`` may claim the job's current round: the round's
        opening if selected at once; at or after the claim deadline: not in this round; 2**256-1 with no
        bonded stake or for an unknown job. Fixed for a round unless stakes change."""
        fn = self.registry.functions.selected_at(job_id, operator)
        return int(fn.call(block_identifier=block))

    def is_selected(self, job_id: int, operator: str, block: BlockIdentifier = "latest") -> bool:
        """Whether ``operator`` passes selection for the job's current round now (and the round's claim
        window is open)."""
        return bool(self.registry.functions.is_selected(job_id, operator).call(block_identifier=block))

    def selection_factor(self) -> int:
        return int(self.registry.functions.selection_factor().call())

    def job_count(self) -> int:
        return int(self.registry.functions.job_count().call())

    def protocol_fee_bps(self) -> int:
        return int(self.registry.functions.protocol_fee_bps().call())

    # ------------------------------------------------------------------ reads: staking, token, emitter
    def balance_of(self, account: str) -> int:
        return int(self.token.functions.balanceOf(account).call())

    def allowance(self, owner: str, spender: str) -> int:
        return int(self.token.functions.allowance(owner, spender).call())

    def is_registered(self, operator: str) -> bool:
        return bool(self.staking.functions.is_registered(operator).call())

    def bonded(self, operator: str) -> int:
        return int(self.staking.functions.bonded(operator).call())

    def free_stake(self, operator: str) -> int:
        return int(self.staking.functions.free_stake(operator).call())

    def is_eligible(self, operator: str) -> bool:
        return bool(self.staking.functions.is_eligible(operator).call())

    def min_stake(self) -> int:
        return int(self.staking.functions.min_stake().call())

    def jailed_until(self, operator: str) -> int:
        return int(self.staking.functions.jailed_until(operator).call())

    def current_epoch(self, block: BlockIdentifier = "latest") -> int:
        return int(self.emitter.functions.current_epoch().call(block_identifier=block))

    def points_of(self, operator: str, epoch: int) -> int:
        return int(self.emitter.functions.points_of(operator, epoch).call())

    def claimable(self, operator: str, epoch: int) -> int:
        return int(self.emitter.functions.claimable(operator, epoch).call())

    # ------------------------------------------------------------------ writes (Call builders)
    def _call(self, contract: Contract, fn: str, *args: Any) -> Call:
        data = HexBytes(contract.encode_abi(fn, args=list(args)))
        shown = ", ".join(_short(a) for a in args)
        return Call(to=contract.address, data=bytes(data), label=f"{fn}({shown})")

    def approve(self, spender: str, amount: int) -> Call:
        return self._call(self.token, "approve", spender, amount)

    def transfer(self, to: str, amount: int) -> Call:
        return self._call(self.token, "transfer", to, amount)

    def post_job(
        self,
        spec_cid: str,
        spec_digest: bytes,
        fee: int,
        replicas: int,
        quorum: int,
        collateral: int,
        claim_window: int,
        commit_window: int,
        reveal_window: int,
    ) -> Call:
        """Approve the registry for ``fee`` first (`approve(registry.address, fee)`)."""
        return self._call(
            self.registry,
            "post_job",
            spec_cid,
            spec_digest,
            fee,
            replicas,
            quorum,
            collateral,
            claim_window,
            commit_window,
            reveal_window,
        )

    def cancel(self, job_id: int) -> Call:
        return self._call(self.registry, "cancel", job_id)

    def expire(self, job_id: int) -> Call:
        return self._call(self.registry, "expire", job_id)

    def claim(self, job_id: int) -> Call:
        """Reverts "not selected" before `selected_at`; "already claimed" for a claimant of an earlier
        round."""
        return self._call(self.registry, "claim", job_id)

    def set_selection_factor(self, factor: int) -> Call:
        """Governance (owner) only: expected selected operators per replica when a round opens (1..64)."""
        return self._call(self.registry, "set_selection_factor", factor)

    def commit(self, job_id: int, commitment_hash: bytes) -> Call:
        return self._call(self.registry, "commit", job_id, commitment_hash)

    def reveal(self, job_id: int, result_digest: bytes, result_cid: str, salt: bytes) -> Call:
        return self._call(self.registry, "reveal", job_id, result_digest, result_cid, salt)

    def reveal_and_finalize(
        self, job_id: int, result_digest: bytes, result_cid: str, salt: bytes, claimants: int = MAX_REPLICAS
    ) -> Call:
        """`reveal`, settling the job in the same transaction when this is the last reveal owed.
        ``claimants``: at most how many workers claimed (the job's replicas), for the headroom
        (`settle_headroom`): whether this reveal is the last one is decided at inclusion, not when the
        gas is estimated, so the limit must cover a settlement that the estimate did not see."""
        call = self._call(self.registry, "reveal_and_finalize", job_id, result_digest, result_cid, salt)
        return replace(call, headroom=settle_headroom(claimants))

    def finalize(self, job_id: int, agreeing: int = MAX_REPLICAS) -> Call:
        """``agreeing``: at most how many workers can be credited (the job's claims), for the headroom:
        if the block lands in a new epoch, the emitter writes a fresh points slot per worker and one
        for the epoch's totals."""
        call = self._call(self.registry, "finalize", job_id)
        return replace(call, headroom=FRESH_SLOT_GAS * (agreeing + 1))

    def register(self, metadata_cid: str) -> Call:
        return self._call(self.staking, "register", metadata_cid)

    def stake(self, amount: int) -> Call:
        """Approve the staking contract for ``amount`` first."""
        return self._call(self.staking, "stake", amount)

    def request_unstake(self, amount: int) -> Call:
        return self._call(self.staking, "request_unstake", amount)

    def cancel_unstake(self, lock_id: int) -> Call:
        return self._call(self.staking, "cancel_unstake", lock_id)

    def withdraw(self, lock_id: int) -> Call:
        return self._call(self.staking, "withdraw", lock_id)

    def claim_emission(self, epochs: list[int]) -> Call:
        if not 0 < len(epochs) <= MAX_CLAIM_EPOCHS:
            raise ValueError(f"claim 1..{MAX_CLAIM_EPOCHS} epochs per call, not {len(epochs)}")
        return self._call(self.emitter, "claim", list(epochs))

    # ------------------------------------------------------------------ events
    def decode_log(self, log: LogReceipt | dict[str, Any]) -> Event | None:
        """The decoded event, or None for a log this deployment does not emit."""
        topics = log.get("topics") or []
        if not topics:
            return None
        found = self._events.get((to_checksum_address(log["address"]), bytes(HexBytes(topics[0]))))
        if found is None:
            return None
        contract_name, event = found
        data = event.process_log(log)
        return Event(
            contract=contract_name,
            name=data["event"],
            args=dict(data["args"]),
            address=data["address"],
            block_number=int(data["blockNumber"]),
            block_hash=bytes(HexBytes(data["blockHash"])),
            log_index=int(data["logIndex"]),
            tx_hash=bytes(HexBytes(data["transactionHash"])),
        )

    def events_in(self, receipt: TxReceipt) -> list[Event]:
        """Every Tessera event in a receipt, in log order."""
        return [e for e in (self.decode_log(lg) for lg in receipt["logs"]) if e is not None]

    def job_id_from(self, receipt: TxReceipt) -> int:
        """The job id a `post_job` transaction created."""
        for event in self.events_in(receipt):
            if event.name == "JobPosted":
                return int(event.args["job_id"])
        raise ValueError("the receipt holds no JobPosted event (was this a post_job transaction?)")


def settle_headroom(claimants: int) -> int:
    """Gas beyond an estimate for a settlement the estimate did not include: ``60_000 + 35_000 x claimants
    + 22_100 x (claimants + 1)`` (the last term: the emitter's fresh slots when mined in a new epoch)."""
    return SETTLE_BASE_GAS + SETTLE_PER_CLAIMANT_GAS * claimants + FRESH_SLOT_GAS * (claimants + 1)


def _short(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()[:8] + "…"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return str(value)
