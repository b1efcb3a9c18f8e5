"""Only the named role can call a privileged function; everyone else is refused with the role's message.

Reliability §2.11 / T12, DESIGN §2.1-2.3: the emitter alone mints; the job registry alone locks and
slashes stake and records work; governance (two-step owner) alone sets parameters and pauses; the
deployer wires the emitter once; the requester alone cancels its job. After wiring, the token's owner
is the zero address, so nobody can ever name another minter. A sweep over every privileged function of
all four contracts runs with hypothesis-chosen senders (actors, the other contracts, random addresses),
and a census of each ABI makes sure no state-changing function escapes the sweep.
"""

from dataclasses import dataclass

import boa
import pytest
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contracts.conftest import DAY, TSR, post_job, stake_operator

OWNER = "ownable: caller is not the owner"
NEW_OWNER = "ownable_2step: caller is not the new owner"
REGISTRY_ONLY = "staking: caller is not the job registry"


@dataclass(frozen=True)
class Privileged:
    contract: str  # attribute of Protocol
    name: str
    args: object  # ctx -> tuple
    role: object  # ctx -> address allowed to call
    refusal: str  # revert reason for anyone else
    holder_reason: str | None = None  # why even the role holder's call reverts (one-shot wiring), if it does


class Ctx:
    def __init__(self, protocol, requester, operator, job_id):
        self.p, self.requester, self.operator, self.job_id = protocol, requester, operator, job_id
        self.governance = protocol.governance
        self.registry = str(protocol.registry.address)
        self.emitter = str(protocol.emitter.address)
        self.staking = str(protocol.staking.address)
        self.nobody = boa.env.generate_address("new-owner")


def _gov(c):
    return c.governance


def _registry(c):
    return c.registry


def _no_one(c):
    return None  # renounced, or no ownership transfer pending


PRIVILEGED = [
    # TesseraToken: ownership was renounced when the emitter was set; the emitter alone mints
    Privileged("token", "set_emitter", lambda c: (c.nobody,), _no_one, OWNER),
    Privileged(
        "token", "mint", lambda c: (c.operator, 1), lambda c: c.emitter, "token: caller is not the emitter"
    ),
    # Staking: the job registry locks, unlocks and slashes; governance sets parameters
    Privileged("staking", "lock_collateral", lambda c: (c.operator, TSR), _registry, REGISTRY_ONLY),
    Privileged("staking", "unlock_collateral", lambda c: (c.operator, TSR), _registry, REGISTRY_ONLY),
    Privileged("staking", "slash", lambda c: (c.operator, TSR, 99, 2, c.nobody), _registry, REGISTRY_ONLY),
    Privileged(
        "staking", "set_job_registry", lambda c: (c.nobody,), _gov, OWNER, "staking: job registry already set"
    ),
    Privileged("staking", "set_min_stake", lambda c: (50 * TSR,), _gov, OWNER),
    Privileged("staking", "set_unbonding_period", lambda c: (10 * DAY,), _gov, OWNER),
    Privileged("staking", "set_jail_period", lambda c: (DAY,), _gov, OWNER),
    Privileged("staking", "set_slash_reward_bps", lambda c: (1_000,), _gov, OWNER),
    Privileged("staking", "transfer_ownership", lambda c: (c.nobody,), _gov, OWNER),
    Privileged("staking", "accept_ownership", lambda c: (), _no_one, NEW_OWNER),
    # JobRegistry: governance pauses and sets parameters; the requester cancels its own job
    Privileged("registry", "pause", lambda c: (), _gov, OWNER),
    Privileged("registry", "unpause", lambda c: (), _gov, OWNER, "pausable: contract is not paused"),
    Privileged("registry", "set_protocol_fee_bps", lambda c: (100,), _gov, OWNER),
    Privileged("registry", "set_wrong_result_slash_bps", lambda c: (5_000,), _gov, OWNER),
    Privileged("registry", "set_liveness_slash_bps", lambda c: (2_000,), _gov, OWNER),
    Privileged("registry", "set_min_fee", lambda c: (TSR,), _gov, OWNER),
    Privileged("registry", "set_min_collateral", lambda c: (TSR,), _gov, OWNER),
    Privileged("registry", "set_selection_factor", lambda c: (8,), _gov, OWNER),
    Privileged("registry", "transfer_ownership", lambda c: (c.nobody,), _gov, OWNER),
    Privileged("registry", "accept_ownership", lambda c: (), _no_one, NEW_OWNER),
    Privileged(
        "registry",
        "cancel",
        lambda c: (c.job_id,),
        lambda c: c.requester,
        "registry: caller is not the requester",
    ),
    # RewardEmitter: the deployer wires the registry once; the registry alone records work
    Privileged(
        "emitter",
        "set_job_registry",
        lambda c: (c.nobody,),
        _gov,
        "emitter: caller is not the deployer",
        "emitter: job registry already set",
    ),
    Privileged(
        "emitter",
        "record_work",
        lambda c: ([c.operator], [1], 1),
        _registry,
        "emitter: caller is not the job registry",
    ),
]

# Every other state-changing function is open to anyone by design (each checks its own caller's rights:
# a worker's own claim, a lock's owner, a holder's balance or allowance).
OPEN = {
    "token": {"transfer", "transferFrom", "approve", "burn", "burn_from", "permit"},
    "staking": {"register", "stake", "request_unstake", "cancel_unstake", "withdraw"},
    "registry": {
        "post_job",
        "post_job_optimistic",
        "challenge",  # any operator that may claim (Staking checks eligibility)
        "expire",
        "claim",
        "commit",
        "claim_and_commit",
        "reveal",
        "reveal_and_finalize",
        "finalize",
    },
    "emitter": {"claim"},
}


@pytest.fixture
def ctx(protocol, requester, operator):
    stake_operator(protocol, operator)
    job_id = post_job(protocol, requester)
    return Ctx(protocol, str(requester), str(operator), job_id)


def test_every_state_changing_function_is_in_the_sweep_or_open(protocol):
    for name in OPEN:
        contract = getattr(protocol, name)
        mutating = {
            fn["name"]
            for fn in contract.abi
            if fn["type"] == "function" and fn["stateMutability"] not in ("view", "pure")
        }
        swept = {f.name for f in PRIVILEGED if f.contract == name}
        assert mutating == swept | OPEN[name], f"{name}: unclassified {mutating - swept - OPEN[name]}"


@pytest.mark.parametrize(
    "fn", [f for f in PRIVILEGED if f.role is not _no_one], ids=lambda f: f"{f.contract}.{f.name}"
)
def test_the_role_holder_passes_the_guard(ctx, fn):
    call = getattr(getattr(ctx.p, fn.contract), fn.name)
    with boa.env.prank(fn.role(ctx)):
        if fn.holder_reason is None:
            call(*fn.args(ctx))
        else:
            with boa.reverts(fn.holder_reason):
                call(*fn.args(ctx))


def test_nobody_can_name_another_minter(ctx):
    assert ctx.p.token.owner() == "0x" + "00" * 20
    with boa.env.prank(ctx.governance), boa.reverts(OWNER):
        ctx.p.token.set_emitter(ctx.nobody)


def test_a_pending_owner_accepts_and_the_old_owner_is_locked_out(ctx):
    for contract in (ctx.p.staking, ctx.p.registry):
        with boa.env.prank(ctx.governance):
            contract.transfer_ownership(ctx.nobody)
        with boa.env.prank(ctx.nobody):
            contract.accept_ownership()
        assert contract.owner() == ctx.nobody
        with boa.env.prank(ctx.governance), boa.reverts(OWNER):
            contract.pause() if contract is ctx.p.registry else contract.set_jail_period(DAY)


strangers = st.one_of(
    st.sampled_from(["requester", "operator", "stranger", "governance", "registry", "emitter", "staking"]),
    # any address but zero: no transaction comes from it (and it is the token's renounced owner)
    st.binary(min_size=20, max_size=20).filter(any).map(to_checksum_address),
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sender=strangers)
def test_privileged_functions_reject_strangers(ctx, stranger, sender):
    named = {
        "requester": ctx.requester,
        "operator": ctx.operator,
        "stranger": str(stranger),
        "governance": ctx.governance,
        "registry": ctx.registry,
        "emitter": ctx.emitter,
        "staking": ctx.staking,
    }
    sender = named.get(sender, sender)
    for fn in PRIVILEGED:
        if sender == fn.role(ctx):
            continue
        with boa.env.prank(sender), boa.reverts(fn.refusal):
            getattr(getattr(ctx.p, fn.contract), fn.name)(*fn.args(ctx))
