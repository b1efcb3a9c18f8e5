"""Start-up checks: is this the right chain, are the contracts there, can the account pay and work?

Each check raises a `TesseraError` whose message names the value found and whose hint names the next step:
`WrongChainId`, `NoContractCode`, `CommitmentMismatch`, `UnfundedAccount`, `StakeTooLow`. `preflight` runs
them all and returns a `PreflightReport` the worker logs and exports as metrics (`tessera doctor` prints it).
"""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3

from offchain.chain.bindings import Tessera, commitment
from offchain.chain.manifest import Manifest
from offchain.errors import TesseraError, UnfundedAccount

ETHER = 10**18
# Gas a worker needs in reserve: claim + commit + reveal + finalize for a few jobs at a modest price.
DEFAULT_MIN_BALANCE_WEI = 600_000 * 4 * 2 * 10**9  # 4 jobs at 2 gwei


class StakeTooLow(TesseraError):
    """The operator cannot claim: not registered, bonded stake under the minimum, jailed, or no free stake."""

    code = "E_STAKE_TOO_LOW"
    default_hint = (
        "register and stake TSR (`tessera operator stake <amount>`), or wait for collateral to unlock"
    )


@dataclass(frozen=True)
class PreflightReport:
    chain_id: int
    head: int
    address: str
    balance_wei: int
    registered: bool
    bonded: int
    free_stake: int
    min_stake: int
    eligible: bool


def check_chain(w3: Web3, manifest: Manifest, *, rpc_url: str = "the node") -> int:
    """WrongChainId unless the node's chain id is the manifest's; NoContractCode if any address is empty.
    Returns the chain id."""
    chain_id = int(w3.eth.chain_id)
    manifest.check_chain_id(chain_id, rpc_url=rpc_url)
    manifest.check_code(w3.eth.get_code)
    return chain_id


class CommitmentMismatch(TesseraError):
    """This worker and the deployed JobRegistry hash commitments differently: every commit would be lost."""

    code = "E_COMMITMENT_MISMATCH"
    default_hint = "run the worker version that matches this deployment (see its manifest)"


def check_commitment_scheme(contracts: Tessera, address: str) -> None:
    """CommitmentMismatch unless the registry's `commitment_for` equals the worker's own hash on a sample
    (checked once here instead of before every commit)."""
    digest, cid, salt = b"\x11" * 32, "bafkreisamplecommitmentcid", b"\x22" * 32
    ours = commitment(contracts.chain_id, contracts.registry.address, 1, address, digest, cid, salt)
    theirs = contracts.commitment_for(1, address, digest, cid, salt)
    if ours != theirs:
        raise CommitmentMismatch(
            f"the JobRegistry at {contracts.registry.address} hashes a sample commitment to "
            f"0x{theirs.hex()}, this worker to 0x{ours.hex()}"
        )


def check_balance(w3: Web3, address: str, *, min_balance_wei: int) -> int:
    """UnfundedAccount if ``address`` holds less than ``min_balance_wei`` for gas. Returns the balance."""
    balance = int(w3.eth.get_balance(Web3.to_checksum_address(address)))
    if balance < min_balance_wei:
        raise UnfundedAccount(
            f"{address} holds {balance / ETHER:.6f} of the native coin; the worker wants at least "
            f"{min_balance_wei / ETHER:.6f} for gas"
        )
    return balance


def check_stake(contracts: Tessera, address: str) -> tuple[bool, int, int, int, bool]:
    """StakeTooLow unless ``address`` is registered, bonded at least ``min_stake`` and not jailed.
    Returns (registered, bonded, free stake, min stake, eligible)."""
    registered = contracts.is_registered(address)
    bonded = contracts.bonded(address)
    free = contracts.free_stake(address)
    minimum = contracts.min_stake()
    eligible = contracts.is_eligible(address)
    if not registered:
        raise StakeTooLow(
            f"{address} is not registered as an operator",
            hint="run `tessera operator register` then `tessera operator stake <amount>`",
        )
    if bonded < minimum:
        raise StakeTooLow(
            f"{address} has {bonded / ETHER:g} TSR bonded; the minimum is {minimum / ETHER:g} TSR",
            hint=f"stake at least {(minimum - bonded) / ETHER:g} TSR more "
            "(`tessera operator stake <amount>`)",
        )
    if not eligible:
        until = contracts.jailed_until(address)
        raise StakeTooLow(
            f"{address} is not eligible to claim (jailed until unix time {until})",
            hint="wait until the jail period ends",
        )
    return registered, bonded, free, minimum, eligible


def preflight(
    w3: Web3,
    manifest: Manifest,
    contracts: Tessera,
    address: str,
    *,
    min_balance_wei: int = DEFAULT_MIN_BALANCE_WEI,
    require_stake: bool = True,
    rpc_url: str = "the node",
) -> PreflightReport:
    """Every start-up check in order (chain, code, balance, stake); the first failure raises."""
    chain_id = check_chain(w3, manifest, rpc_url=rpc_url)
    check_commitment_scheme(contracts, address)
    balance = check_balance(w3, address, min_balance_wei=min_balance_wei)
    if require_stake:
        registered, bonded, free, minimum, eligible = check_stake(contracts, address)
    else:
        registered = contracts.is_registered(address)
        bonded, free = contracts.bonded(address), contracts.free_stake(address)
        minimum, eligible = contracts.min_stake(), contracts.is_eligible(address)
    return PreflightReport(
        chain_id=chain_id,
        head=int(w3.eth.block_number),
        address=address,
        balance_wei=balance,
        registered=registered,
        bonded=bonded,
        free_stake=free,
        min_stake=minimum,
        eligible=eligible,
    )
