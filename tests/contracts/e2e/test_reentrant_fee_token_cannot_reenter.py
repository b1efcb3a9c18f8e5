"""A token that calls back into Tessera from its transfer hooks cannot re-enter a contract mid-call.

Reliability §2.6 / T7 (Curve's July 2023 loss was cross-function re-entrancy through a compiler bug). The
contracts compile with `# pragma nonreentrancy on` (Vyper 0.4.3): every external function and public
getter *declared in the file* shares one lock per contract (a transient-storage slot, `vyper -f layout`:
`$.nonreentrant_key`), so while any of them runs, a call to any other reverts with empty data. View
functions check the lock too (no read-only re-entrancy). Two exceptions, both by design of the compiler
and harmless here:
- getters of constants and immutables are reentrant (their values cannot change);
- functions exported from snekmate modules (`owner`, `pending_owner`, `transfer_ownership`,
  `accept_ownership`, `paused`) are not covered: the pragma is read per source file
  (vyper/semantics/types/function.py takes it from the function's own module) and snekmate's files do
  not set it. They stay guarded by their owner checks, which this test also pins.

`ReentrantToken` (contracts/mocks) is both the stake and the fee token here, so every token call
Staking and JobRegistry make (pull a stake or a fee, withdraw, refund, pay a worker,
burn a slash or a protocol fee, pay a bounty) hands it control. At each one it calls every external
function of both contracts; each call into a contract on the call stack must revert with the lock's
empty revert data. A control run of the same calls outside any hook shows none of them fails that way
for another reason. The whole flow runs beside the stateful suite's model: balances, stake and jobs
match it after every re-entry attempt.
"""

import boa
import pytest
from eth_abi import encode
from eth_utils import keccak

from tests.contracts.conftest import DEFAULTS, TSR, Protocol
from tests.contracts.stateful.harness import HONEST, Driver, World, mock_deployer

MAX_UINT256 = 2**256 - 1
SNEKMATE_EXPORTS = {"owner", "pending_owner", "transfer_ownership", "accept_ownership", "paused"}
OWNABLE_REVERTS = {
    "transfer_ownership": "ownable: caller is not the owner",
    "accept_ownership": "ownable_2step: caller is not the new owner",
}


@pytest.fixture
def world(
    token_deployer,
    staking_deployer,
    emitter_deployer,
    registry_deployer,
    governance,
    operators,
    requester,
    stranger,
):
    reentrant = mock_deployer("ReentrantToken").deploy()
    d = DEFAULTS
    with boa.env.prank(governance):
        tsr = token_deployer.deploy(governance, d["genesis_supply"])
        staking = staking_deployer.deploy(
            reentrant.address, d["min_stake"], d["unbonding_period"], d["jail_period"], d["slash_reward_bps"]
        )
        emitter = emitter_deployer.deploy(
            reentrant.address, d["epoch_length"], d["initial_emission"], d["halving_epochs"]
        )
        registry = registry_deployer.deploy(
            reentrant.address,
            staking.address,
            emitter.address,
            d["protocol_fee_bps"],
            d["wrong_result_slash_bps"],
            d["liveness_slash_bps"],
            d["min_fee"],
            d["min_collateral"],
        )
        tsr.set_emitter(emitter.address)
        staking.set_job_registry(registry.address)
        emitter.set_job_registry(registry.address)
    for account in [*operators[:3], requester]:
        reentrant.mint(account, 100_000 * TSR)
        with boa.env.prank(account):
            reentrant.approve(staking.address, MAX_UINT256)
            reentrant.approve(registry.address, MAX_UINT256)
    return World(
        Protocol(reentrant, staking, emitter, registry, governance),
        [str(op) for op in operators[:3]],
        [str(requester)],
        str(boa.env.generate_address("keeper")),
        str(stranger),
    )


def _argument(name: str, abi_type: str, world: World):
    """Arguments that pass decoding and reach each function's own checks."""
    if abi_type == "address":
        return world.stranger if name in ("new_owner", "job_registry", "beneficiary") else world.operators[0]
    if abi_type == "string":
        return "bafkreireentry"
    if abi_type == "bytes32":
        return b"\x01" * 32
    if abi_type == "uint8":
        return 2
    return {"fee": 10 * TSR, "collateral": 10 * TSR, "amount": TSR, "lock_id": 0}.get(
        name, 600 if "window" in name else 1
    )


def _reentries(world: World) -> list[tuple[str, str, bytes]]:
    """(contract address, function name, calldata) for every non-constant external function of both."""
    calls = []
    for contract in (world.protocol.registry, world.protocol.staking):
        for fn in contract.abi:
            if fn["type"] != "function" or fn["name"].isupper():  # constants and immutables
                continue
            types = [arg["type"] for arg in fn["inputs"]]
            values = [_argument(arg["name"], arg["type"], world) for arg in fn["inputs"]]
            selector = keccak(text=f"{fn['name']}({','.join(types)})")[:4]
            calls.append((str(contract.address), fn["name"], selector + encode(types, values)))
    return calls


def _error(message: str) -> bytes:
    return keccak(text="Error(string)")[:4] + encode(["string"], [message])


class Probe:
    """Loads every re-entry into the token, arms it, and checks what each hook saw."""

    def __init__(self, world: World):
        self.world = world
        self.token = world.protocol.token
        self.calls = _reentries(world)
        self.token.set_reentries([c[0] for c in self.calls], [c[2] for c in self.calls])
        self.hooks = 0
        with boa.env.anchor():  # control: the same calls outside any hook
            self.token.probe()
            ok, returned = self.token.results()
        for (_, name, _), success, data in zip(self.calls, ok, returned, strict=True):
            assert success or data != b"", f"{name} reverts with empty data even without re-entrancy"

    def arm(self, skip: int = 0) -> None:
        self.fired = self.token.fired()
        self.token.arm(skip)

    def check(self, entered: str) -> bool:
        """After a call into `entered`: if a hook fired, every call into a contract on the stack failed."""
        if self.token.fired() == self.fired:
            return False
        self.hooks += 1
        on_stack = {entered, str(self.token.hook_caller())}
        ok, returned = self.token.results()
        for (target, name, _), success, data in zip(self.calls, ok, returned, strict=True):
            if target not in on_stack:
                continue  # not a re-entry: that contract is not mid-call
            if name in SNEKMATE_EXPORTS:
                if name in OWNABLE_REVERTS:
                    assert not success and data == _error(OWNABLE_REVERTS[name]), name
                else:
                    assert success, name
            else:
                assert not success and data == b"", f"re-entered {name} while {entered} was mid-call"
        return True


def test_no_token_callback_can_reenter_staking_or_the_registry(world):
    d = Driver(world)
    probe = Probe(world)
    staking, registry = (str(c.address) for c in (world.protocol.staking, world.protocol.registry))
    op0, op1, op2 = world.operators
    requester = world.requesters[0]

    # Staking pulls a stake
    for op in world.operators:
        probe.arm()
        assert d.stake(op, 1_000 * TSR)
        assert probe.check(staking)
        d.check(full=True)

    # Staking pays out a withdrawal
    lock_id = d.request_unstake(op2, 100 * TSR)
    d.travel(DEFAULTS["unbonding_period"])
    probe.arm()
    assert d.withdraw(op2, lock_id)
    assert probe.check(staking)
    d.check(full=True)

    # JobRegistry pulls a fee, then refunds it on cancel and on expiry
    for settle in ("cancel", "expire"):
        probe.arm()
        job_id = d.post_job(requester, 10 * TSR, 1, 1, 10 * TSR, (600, 600, 600))
        assert probe.check(registry)
        if settle == "expire":
            d.travel(600)
        probe.arm()
        assert d.cancel(job_id, requester) if settle == "cancel" else d.expire(job_id)
        assert probe.check(registry)
        d.check(full=True)

    # finalize: pay workers, burn a silent claimant's slash (both contracts on the stack), burn the protocol
    # fee; then a failed job (nobody revealed): burn three slashes, refund. A disagreeing reveal would
    # escalate the round (test_escalation.py), so the faults here are silences.
    # (completed: 2 payouts, slash burn, protocol fee burn; failed: 3 slash burns, refund)
    for results, token_calls in (([HONEST, HONEST, None], 4), ([None, None, None], 4)):
        skip = 0
        while True:
            with d.anchor():
                job_id = d.post_job(requester, 30 * TSR + 1, 3, 2, 20 * TSR, (600, 600, 600))
                for op in world.operators:
                    assert d.claim(op, job_id)
                workers = [op for op, kind in zip(world.operators, results, strict=True) if kind]
                for op, kind in zip(world.operators, results, strict=True):
                    if kind:
                        assert d.commit(op, job_id, kind)
                d.travel_to(
                    d.model.jobs[job_id].commit_deadline
                )  # a silent claimant holds reveals until then
                for op in workers:
                    assert d.reveal(op, job_id)
                probe.arm(skip)
                assert d.finalize(job_id)
                fired = probe.check(registry)
                d.check(full=True)
            if not fired:
                break
            skip += 1
        assert skip == token_calls, f"finalize made {skip} token calls, expected {token_calls}"
    assert probe.hooks == 3 + 1 + 4 + 4 + 4
