# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title TesseraToken (TSR)
@custom:contract-name TesseraToken
@license GNU Affero General Public License v3.0 only
@notice The protocol token: operators stake it, requesters pay fees in it, the RewardEmitter mints the
        epoch emission. ERC-20 with EIP-2612 permit and burn, from snekmate.
@dev Roles: the deployer holds ownership only until `set_emitter` is called once; that call also
     renounces ownership, so afterwards no account can change who mints. Only the emitter mints, and
     never past `MAX_SUPPLY`.
"""

# @dev Ownership is needed by snekmate's erc20 module; it ends in `set_emitter`.
from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: (
    erc20.name,
    erc20.symbol,
    erc20.decimals,
    erc20.totalSupply,
    erc20.balanceOf,
    erc20.allowance,
    erc20.transfer,
    erc20.transferFrom,
    erc20.approve,
    erc20.burn,
    erc20.burn_from,
    erc20.permit,
    erc20.nonces,
    erc20.DOMAIN_SEPARATOR,
    erc20.eip712Domain,
    ownable.owner,
)


# ---------------------------------------------------------------- events
event EmitterSet:
    emitter: indexed(address)


# ---------------------------------------------------------------- constants
MAX_SUPPLY: public(constant(uint256)) = 1_000_000_000 * 10**18  # 1 billion TSR, genesis included


# ---------------------------------------------------------------- storage
# @dev The only account allowed to mint (the RewardEmitter); set once.
emitter: public(address)


# ---------------------------------------------------------------- constructor
@deploy
def __init__(genesis_holder: address, genesis_supply: uint256):
    """
    @notice Mint the genesis supply to `genesis_holder`.
    @param genesis_holder Receives the genesis supply (treasury or deployer).
    @param genesis_supply Amount minted at genesis, at most `MAX_SUPPLY`.
    """
    assert genesis_supply <= MAX_SUPPLY, "token: genesis above max supply"
    ownable.__init__()
    erc20.__init__("Tessera", "TSR", 18, "Tessera", "1")
    # snekmate makes the deployer a minter; Tessera's only minter is the emitter.
    erc20.is_minter[msg.sender] = False
    log erc20.RoleMinterChanged(minter=msg.sender, status=False)
    if genesis_supply > 0:
        erc20._mint(genesis_holder, genesis_supply)


# ---------------------------------------------------------------- external
@external
def set_emitter(new_emitter: address):
    """
    @notice Name the RewardEmitter as the only minter and renounce ownership. Callable once, by the owner.
    @param new_emitter The RewardEmitter contract.
    """
    ownable._check_owner()
    assert self.emitter == empty(address), "token: emitter already set"
    assert new_emitter != empty(address), "token: emitter is zero"
    self.emitter = new_emitter
    log EmitterSet(emitter=new_emitter)
    ownable._transfer_ownership(empty(address))


@external
def mint(to: address, amount: uint256):
    """
    @notice Mint emission. Only the emitter; never past `MAX_SUPPLY`.
    @param to Receiver of the new tokens.
    @param amount Amount to mint.
    """
    assert msg.sender == self.emitter, "token: caller is not the emitter"
    assert erc20.totalSupply + amount <= MAX_SUPPLY, "token: max supply exceeded"
    erc20._mint(to, amount)
