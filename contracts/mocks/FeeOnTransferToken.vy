# pragma version 0.4.3
"""
@title FeeOnTransferToken
@custom:contract-name FeeOnTransferToken
@license GNU Affero General Public License v3.0 only
@notice Test-only ERC-20 with `burn` that burns 1 % of every transfer, as some deflationary tokens do: the
        receiver gets less than the amount the sender named. Tessera must reject it rather than
        credit escrow it does not hold. Anyone may mint.
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
FEE_BPS: public(constant(uint256)) = 100  # 1 %
MAX_SUPPLY: public(constant(uint256)) = 2**128  # RewardEmitter checks its schedule against it
BPS: constant(uint256) = 10_000

name: public(constant(String[16])) = "FeeOnTransfer"
symbol: public(constant(String[8])) = "FOT"
decimals: public(constant(uint8)) = 18


# ---------------------------------------------------------------- storage
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])


# ---------------------------------------------------------------- external
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
    self._move(msg.sender, to, amount)
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    allowed: uint256 = self.allowance[owner][msg.sender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "mock: allowance exceeded"
        self.allowance[owner][msg.sender] = allowed - amount
    self._move(owner, to, amount)
    return True


@external
def burn(amount: uint256):
    assert self.balanceOf[msg.sender] >= amount, "mock: burn exceeds balance"
    self.balanceOf[msg.sender] -= amount
    self.totalSupply -= amount
    log Transfer(sender=msg.sender, receiver=empty(address), value=amount)


# ---------------------------------------------------------------- internal
@internal
def _move(sender: address, to: address, amount: uint256):
    assert self.balanceOf[sender] >= amount, "mock: transfer exceeds balance"
    fee: uint256 = amount * FEE_BPS // BPS
    self.balanceOf[sender] -= amount
    self.balanceOf[to] += amount - fee
    self.totalSupply -= fee
    log Transfer(sender=sender, receiver=to, value=amount - fee)
    log Transfer(sender=sender, receiver=empty(address), value=fee)
