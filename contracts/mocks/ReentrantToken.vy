# pragma version 0.4.3
"""
@title ReentrantToken
@custom:contract-name ReentrantToken
@license GNU Affero General Public License v3.0 only
@notice Test-only ERC-20 with `burn` whose `transfer`, `transferFrom` and `burn` call back into other
        contracts before moving any balance, as an ERC-777-style hook or a malicious fee token would.
        Used to check that no Tessera contract can be re-entered while one of its calls is in progress.
@dev Load calls with `set_reentries` (target and calldata pairs) and `arm(skip)`: the hook invocation after
     `skip` others runs every loaded call once, records each call's success and return (or revert) data,
     and disarms, so exactly one token callback per armed transaction is probed. `probe()` runs the same
     calls outside any hook, as a control. Anyone may mint: this token exists only in tests.
"""


# ---------------------------------------------------------------- events
event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256


# ---------------------------------------------------------------- constants
MAX_REENTRIES: constant(uint256) = 96
MAX_CALLDATA: constant(uint256) = 640
MAX_RETURNDATA: constant(uint256) = 256  # raw_call keeps the first 256 bytes of longer returns
MAX_SUPPLY: public(constant(uint256)) = 2**128  # RewardEmitter checks its schedule against it

name: public(constant(String[16])) = "Reentrant"
symbol: public(constant(String[8])) = "REENTER"
decimals: public(constant(uint8)) = 18


# ---------------------------------------------------------------- storage
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])

_targets: DynArray[address, MAX_REENTRIES]
_calldata: DynArray[Bytes[MAX_CALLDATA], MAX_REENTRIES]
armed: public(bool)
skip: public(uint256)
# results of the last probe (hooked or not), one per loaded call
_ok: DynArray[bool, MAX_REENTRIES]
_returned: DynArray[Bytes[MAX_RETURNDATA], MAX_REENTRIES]
fired: public(uint256)  # hooks that ran the loaded calls since deployment
hook_caller: public(address)  # the contract whose token call fired the last hook


# ---------------------------------------------------------------- external: test configuration
@external
def set_reentries(targets: DynArray[address, MAX_REENTRIES], calldata: DynArray[Bytes[MAX_CALLDATA], MAX_REENTRIES]):
    """
    @notice Load the calls a hook makes, in order.
    @param targets Contracts to call.
    @param calldata Calldata for each target.
    """
    assert len(targets) == len(calldata), "mock: length mismatch"
    self._targets = targets
    self._calldata = calldata


@external
def arm(skip: uint256):
    """
    @notice Fire the loaded calls from the hook invocation after `skip` others, once.
    @param skip Hook invocations to let pass first.
    """
    self.armed = True
    self.skip = skip
    self._ok = []
    self._returned = []


@external
def probe():
    """
    @notice Make the loaded calls now, outside any hook (the control), recording results like a hook.
    """
    self._fire()


@view
@external
def results() -> (DynArray[bool, MAX_REENTRIES], DynArray[Bytes[MAX_RETURNDATA], MAX_REENTRIES]):
    """
    @notice Success flag and the first `MAX_RETURNDATA` bytes of the return (or revert) data of each
            loaded call in the last probe.
    @return Flags and data, in load order.
    """
    return self._ok, self._returned


# ---------------------------------------------------------------- external: ERC-20
@external
def mint(to: address, amount: uint256):
    """
    @notice Mint `amount` to `to`. Anyone (test-only token).
    @param to Receiver.
    @param amount Amount.
    """
    self.totalSupply += amount
    self.balanceOf[to] += amount
    log Transfer(sender=empty(address), receiver=to, value=amount)


@external
def approve(spender: address, amount: uint256) -> bool:
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def transfer(to: address, amount: uint256) -> bool:
    self._hook()
    self._move(msg.sender, to, amount)
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    self._hook()
    allowed: uint256 = self.allowance[owner][msg.sender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "mock: allowance exceeded"
        self.allowance[owner][msg.sender] = allowed - amount
    self._move(owner, to, amount)
    return True


@external
def burn(amount: uint256):
    self._hook()
    assert self.balanceOf[msg.sender] >= amount, "mock: burn exceeds balance"
    self.balanceOf[msg.sender] -= amount
    self.totalSupply -= amount
    log Transfer(sender=msg.sender, receiver=empty(address), value=amount)


# ---------------------------------------------------------------- internal
@internal
def _hook():
    if not self.armed:
        return
    if self.skip > 0:
        self.skip -= 1
        return
    self.armed = False
    self.hook_caller = msg.sender
    self._fire()


@internal
def _fire():
    self._ok = []
    self._returned = []
    for i: uint256 in range(len(self._targets), bound=MAX_REENTRIES):
        ok: bool = False
        returned: Bytes[MAX_RETURNDATA] = b""
        ok, returned = raw_call(
            self._targets[i], self._calldata[i], max_outsize=MAX_RETURNDATA, revert_on_failure=False
        )
        self._ok.append(ok)
        self._returned.append(returned)
    self.fired += 1


@internal
def _move(sender: address, to: address, amount: uint256):
    assert self.balanceOf[sender] >= amount, "mock: transfer exceeds balance"
    self.balanceOf[sender] -= amount
    self.balanceOf[to] += amount
    log Transfer(sender=sender, receiver=to, value=amount)
