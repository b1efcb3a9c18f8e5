"""A Python model of JobRegistry's stake-weighted selection, to pin `selected_at` exactly: the seed drawn
from block.prevrandao when a round opens, the 64-bit ticket bound to (seed, job, round, operator), and the
threshold widening from k * stake / total at the opening to 16x at the claim deadline."""

from __future__ import annotations

import boa
from eth_abi import encode
from eth_utils import keccak

MAX_UINT256 = 2**256 - 1
WIDENING = 15  # SELECTION_WIDENING


def set_prevrandao(value: bytes) -> None:
    """Fix block.prevrandao (the seed source) for the blocks that follow."""
    boa.env.evm.patch.prevrandao = value


def prevrandao() -> bytes:
    return bytes(boa.env.evm.patch.prevrandao)


def seed_of(randao: bytes, job_id: int, round_: int) -> int:
    return int.from_bytes(keccak(encode(["bytes32", "uint256", "uint256"], [randao, job_id, round_]))) >> 218


def ticket_of(seed: int, job_id: int, round_: int, operator: str) -> int:
    digest = keccak(encode(["uint256", "uint256", "uint256", "address"], [seed, job_id, round_, operator]))
    return int.from_bytes(digest) >> 192


def selected_at(
    *, seed: int, job_id: int, round_: int, operator: str, stake: int, total: int, replicas: int, factor: int,
    opened: int, window: int,
) -> int:  # fmt: skip
    """The model of JobRegistry.selected_at for one round."""
    if stake == 0:
        return MAX_UINT256
    need = ticket_of(seed, job_id, round_, operator) * total * window
    have = (replicas * factor * stake) << 64
    if have * window > need:
        return opened
    return opened + (need - have * window) // (have * WIDENING) + 1
