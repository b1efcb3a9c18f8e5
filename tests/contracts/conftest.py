"""Contract fixtures: compile once, deploy many. Actors are named by role."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import boa
import pytest
from hypothesis import HealthCheck, settings

from offchain.deployment import deploy_and_wire
from tests.support.titanoboa import BoaBackend

CONTRACTS = os.path.join(os.path.dirname(__file__), "..", "..", "contracts")
TSR = 10**18
DAY = 86_400

# Defaults mirror scripts/params/default.json (the deployment defaults).
DEFAULTS = {
    "genesis_supply": 100_000_000 * TSR,
    "min_stake": 100 * TSR,
    "unbonding_period": 7 * DAY,
    "jail_period": 3 * DAY,
    "slash_reward_bps": 5_000,
    "epoch_length": DAY,
    "initial_emission": 100_000 * TSR,
    "halving_epochs": 365,
    "protocol_fee_bps": 500,
    "wrong_result_slash_bps": 10_000,
    "liveness_slash_bps": 1_000,
    "min_fee": TSR // 10,
    "min_collateral": 10 * TSR,
}

# JobRegistry's selection bounds (DEFAULT_SELECTION_FACTOR is what the contract starts with).
DEFAULT_SELECTION_FACTOR = 2
MAX_SELECTION_FACTOR = 64

settings.register_profile(
    "quick",
    max_examples=50,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "deep",
    max_examples=400,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


def events(contract, name: str, source=None) -> list:
    """Decoded `name` events of the last call made on `contract` (views count: read events first), logged by
    `source` (default: `contract` itself)."""
    emitter = (source or contract).address
    return [e for e in contract.get_logs() if type(e).__name__ == name and e.address == emitter]


def warp_to(timestamp: int) -> None:
    boa.env.time_travel(seconds=timestamp - boa.env.timestamp)


def contract_path(name: str) -> str:
    return os.path.join(CONTRACTS, name)


@pytest.fixture(autouse=True)
def _fixed_prevrandao():
    """Every test starts with block.prevrandao (the selection seed source) at zero and leaves it so: tests
    that pin selection set it (registry/selection.py), and the boa plugin's anchor does not restore it."""
    patch = boa.env.evm.patch
    kept = patch.prevrandao
    patch.prevrandao = b"\x00" * 32
    try:
        yield
    finally:
        patch.prevrandao = kept


@pytest.fixture(autouse=True)
def _fresh_storage_traces():
    """boa keeps every keccak preimage and written slot per address for the whole process, to print a
    contract's storage when a call reverts. Addresses repeat across tests (the same deployer and nonce
    under each anchor), so a revert could decode another test's contract's slots with this one's types
    and fail in the repr (AttributeError: 'IntegerT' object has no attribute 'key_type', seen once the
    test order changed). Each test starts with empty traces."""
    boa.env.sha3_trace = {}
    boa.env.sstore_trace = {}
    yield


@pytest.fixture(scope="session")
def token_deployer():
    return boa.load_partial(contract_path("TesseraToken.vy"))


@pytest.fixture(scope="session")
def staking_deployer():
    return boa.load_partial(contract_path("Staking.vy"))


@pytest.fixture(scope="session")
def emitter_deployer():
    return boa.load_partial(contract_path("RewardEmitter.vy"))


@pytest.fixture(scope="session")
def registry_deployer():
    return boa.load_partial(contract_path("JobRegistry.vy"))


@dataclass
class Protocol:
    token: object
    staking: object
    emitter: object
    registry: object
    governance: str


def deploy_protocol(
    token_deployer,
    staking_deployer,
    emitter_deployer,
    registry_deployer,
    governance,
    fee_token=None,
    selection_factor: int | None = MAX_SELECTION_FACTOR,
    **overrides,
) -> Protocol:
    """Deploy and wire the four contracts as scripts/deploy.py does (`offchain.deployment`). A `fee_token`
    (a test token) is also the stake and emission token: the registry refuses a mix.

    `selection_factor`: governance then sets the registry's selection factor to it; the default is
    MAX_SELECTION_FACTOR, `None` keeps the contract's DEFAULT_SELECTION_FACTOR (2). Selection is pinned by
    its own tests (registry/test_selected_at.py, test_is_selected.py, test_escalation.py); the other unit
    tests exercise other behaviour with every staked operator selected at once: an operator is selected at
    a round's opening with probability replicas x factor x stake / total bonded, so with equal stakes
    (4 or 8 operators) 64 x replicas x 1/8 >= 1 and nobody waits. A test with an operator whose stake is
    small among big ones may still find it unselected: it warps within the claim window (`selected_at`)
    or bonds more."""
    p = {**DEFAULTS, **overrides}
    deployers = {
        "TesseraToken": token_deployer,
        "Staking": staking_deployer,
        "RewardEmitter": emitter_deployer,
        "JobRegistry": registry_deployer,
    }
    with boa.env.prank(governance):
        c = deploy_and_wire(
            BoaBackend(deployers), p, governance, fee_token=fee_token.address if fee_token else None
        ).contracts
    token, staking, emitter, registry = (
        c[n] for n in ("TesseraToken", "Staking", "RewardEmitter", "JobRegistry")
    )
    if selection_factor is not None:
        with boa.env.prank(governance):
            registry.set_selection_factor(selection_factor)
    return Protocol(token, staking, emitter, registry, governance)


@pytest.fixture
def governance():
    return boa.env.generate_address("governance")


@pytest.fixture
def requester():
    return boa.env.generate_address("requester")


@pytest.fixture
def operators():
    return [boa.env.generate_address(f"operator{i}") for i in range(4)]


@pytest.fixture
def operator(operators):
    return operators[0]


@pytest.fixture
def stranger():
    return boa.env.generate_address("stranger")


@pytest.fixture
def protocol(token_deployer, staking_deployer, emitter_deployer, registry_deployer, governance) -> Protocol:
    return deploy_protocol(token_deployer, staking_deployer, emitter_deployer, registry_deployer, governance)


@pytest.fixture
def token(protocol):
    return protocol.token


@pytest.fixture
def staking(protocol):
    return protocol.staking


@pytest.fixture
def emitter(protocol):
    return protocol.emitter


@pytest.fixture
def registry(protocol):
    return protocol.registry


def fund(protocol: Protocol, account: str, amount: int) -> None:
    with boa.env.prank(protocol.governance):
        protocol.token.transfer(account, amount)


def stake_operator(protocol: Protocol, operator: str, amount: int = 1_000 * TSR) -> None:
    """Register and bond `amount` for `operator` (funding it from governance's genesis supply)."""
    fund(protocol, operator, amount)
    with boa.env.prank(operator):
        protocol.token.approve(protocol.staking.address, amount)
        protocol.staking.register("bafkreioperatormetadata")
        protocol.staking.stake(amount)


@pytest.fixture
def staked_operators(protocol, operators):
    for op in operators:
        stake_operator(protocol, op)
    return operators


SPEC_CID = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
SPEC_DIGEST = hashlib.sha256(b"hello world\n").digest()


def post_job(
    protocol: Protocol,
    requester: str,
    *,
    fee: int = 10 * TSR,
    replicas: int = 1,
    quorum: int = 1,
    collateral: int = 10 * TSR,
    claim_window: int = 600,
    commit_window: int = 600,
    reveal_window: int = 600,
    fund_requester: bool = True,
) -> int:
    if fund_requester:
        fund(protocol, requester, fee)
    with boa.env.prank(requester):
        protocol.token.approve(protocol.registry.address, fee)
        return protocol.registry.post_job(
            SPEC_CID,
            SPEC_DIGEST,
            fee,
            replicas,
            quorum,
            collateral,
            claim_window,
            commit_window,
            reveal_window,
        )


def digest_of(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def salt_of(worker: str) -> bytes:
    return hashlib.sha256(b"salt" + bytes.fromhex(worker[2:])).digest()


RESULT_CID = "bafyresult"


def commit(protocol: Protocol, job_id: int, worker: str, result: bytes, cid: str = RESULT_CID) -> bytes:
    salt = salt_of(worker)
    commitment = protocol.registry.commitment_for(job_id, worker, result, cid, salt)
    with boa.env.prank(worker):
        protocol.registry.commit(job_id, commitment)
    return salt


def reveal(protocol: Protocol, job_id: int, worker: str, result: bytes, cid: str = RESULT_CID) -> None:
    with boa.env.prank(worker):
        protocol.registry.reveal(job_id, result, cid, salt_of(worker))


def run_job(
    protocol: Protocol, requester: str, workers: list[str], results: list[bytes], **post_kwargs
) -> int:
    """Post a job and have each worker claim, commit and reveal its result; then finalize."""
    n = len(workers)
    post_kwargs.setdefault("replicas", n)
    post_kwargs.setdefault("quorum", n // 2 + 1)
    job_id = post_job(protocol, requester, **post_kwargs)
    for w in workers:
        with boa.env.prank(w):
            protocol.registry.claim(job_id)
    for w, r in zip(workers, results, strict=True):
        commit(protocol, job_id, w, r)
    for w, r in zip(workers, results, strict=True):
        reveal(protocol, job_id, w, r)
    protocol.registry.finalize(job_id)
    return job_id


def play_round(protocol: Protocol, job_id: int, workers: list[str], results: list) -> None:
    """`workers` claim the job's current round (each must be selected), then each commits and reveals its
    result: None never commits, (r,) commits r and withholds it. Warps to the commit deadline when reveals
    are not open yet (a round not full, or a withheld commitment). Nobody finalizes."""
    registry = protocol.registry
    for w in workers:
        with boa.env.prank(w):
            registry.claim(job_id)
    for w, r in zip(workers, results, strict=True):
        if r is not None:
            commit(protocol, job_id, w, r[0] if isinstance(r, tuple) else r)
    for w, r in zip(workers, results, strict=True):
        if r is not None and not isinstance(r, tuple):
            job = registry.get_job(job_id)
            if job.phase != 4:  # REVEALING
                warp_to(job.commit_deadline)
            reveal(protocol, job_id, w, r)


def escalate(protocol: Protocol, job_id: int):
    """Warp to the current round's reveal deadline and finalize: a disputed round escalates. Returns the
    JobEscalated event."""
    warp_to(protocol.registry.get_job(job_id).reveal_deadline)
    protocol.registry.finalize(job_id)
    (escalated,) = events(protocol.registry, "JobEscalated")
    return escalated


def fresh_operators(
    protocol: Protocol, n: int, label: str = "verifier", amount: int = 1_000 * TSR
) -> list[str]:
    """`n` new operators, registered with `amount` bonded: fresh claimants for an escalation round (nobody
    who claimed an earlier round may claim again)."""
    accounts = [boa.env.generate_address(f"{label}{i}") for i in range(n)]
    for account in accounts:
        stake_operator(protocol, account, amount)
    return accounts
