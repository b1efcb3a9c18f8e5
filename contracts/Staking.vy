# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title Staking
@custom:contract-name Staking
@license GNU Affero General Public License v3.0 only
@notice Operators register, stake TSR, lock per-job collateral while they work, and unbond through
        time-locked unstake requests. Faults are slashed here.
@dev Roles:
     - owner (governance, two-step ownership): sets bounded parameters; names the job registry once.
     - job registry: the only account that may lock/unlock collateral and slash.
     Accounting: `bonded` includes `locked` (collateral is bonded stake that cannot leave while a job runs);
     unbonding stake sits in at most `MAX_LOCKS` locks per operator and stays slashable until withdrawn.
     `unbonding_period` has a floor (`MIN_UNBONDING_PERIOD`) longer than any job's lifetime, so stake
     that was at risk in a job cannot be withdrawn before that job is settled.
"""

from snekmate.auth import ownable
from snekmate.auth import ownable_2step

from modules import constants

from interfaces import IStaking
from interfaces import IBurnableToken

implements: IStaking

initializes: ownable
initializes: ownable_2step[ownable := ownable]

exports: (
    ownable.owner,
    ownable_2step.pending_owner,
    ownable_2step.transfer_ownership,
    ownable_2step.accept_ownership,
    # slash reasons, as `OperatorSlashed.reason` carries them
    constants.REASON_WRONG_RESULT,
    constants.REASON_LIVENESS,
    constants.REASON_WITHHELD,
)


# ---------------------------------------------------------------- constants
MAX_LOCKS: public(constant(uint256)) = 8  # unbonding requests open at once, per operator


# Floor: JobRegistry's longest job (3 windows of at most 1 day each) plus a 1-day margin.
MIN_UNBONDING_PERIOD: public(constant(uint256)) = 86_400 * 4  # 4 days
MAX_UNBONDING_PERIOD: public(constant(uint256)) = 86_400 * 60  # 60 days
MIN_MIN_STAKE: public(constant(uint256)) = 10**18  # 1 TSR
MAX_MIN_STAKE: public(constant(uint256)) = 10**24  # 1 million TSR
MIN_JAIL_PERIOD: public(constant(uint256)) = 3_600  # 1 hour
MAX_JAIL_PERIOD: public(constant(uint256)) = 86_400 * 30  # 30 days
MAX_SLASH_REWARD_BPS: public(constant(uint256)) = 5_000  # at most half of a slash goes to honest parties
HALF_WORD: constant(uint256) = 2**128  # bonded and locked are below TesseraToken.MAX_SUPPLY < 2**128


# ---------------------------------------------------------------- immutables
TOKEN: public(immutable(address))


# ---------------------------------------------------------------- storage
job_registry: public(address)

is_registered: public(HashMap[address, bool])
metadata_cid: public(HashMap[address, String[100]])
# bonded (low 128 bits) | locked (high 128 bits), locked <= bonded. One word, so locking collateral
# rewrites a live slot instead of creating one (a fresh slot costs 20,000 gas more per claim).
_stakes: HashMap[address, uint256]
jailed_until: public(HashMap[address, uint256])
# operator -> lock id -> lock (nested HashMap: Vyper 0.4.3 copies a whole storage array indexed by a variable)
_locks: HashMap[address, HashMap[uint256, IStaking.Lock]]

total_bonded: public(uint256)
total_unbonding: public(uint256)

# keccak256(job_id, operator, reason) -> slashed already
_slashed: HashMap[bytes32, bool]

min_stake: public(uint256)
unbonding_period: public(uint256)
jail_period: public(uint256)
slash_reward_bps: public(uint256)


# ---------------------------------------------------------------- constructor
@deploy
def __init__(token: address, min_stake: uint256, unbonding_period: uint256, jail_period: uint256,
             slash_reward_bps: uint256):
    """
    @notice Deploy with bounded parameters; the deployer becomes the owner.
    @param token The stake token (TSR).
    @param min_stake Bonded stake an operator needs to claim jobs.
    @param unbonding_period Seconds between an unstake request and its withdrawal.
    @param jail_period Seconds an operator slashed for a wrong result cannot claim.
    @param slash_reward_bps Share of each slash paid to honest parties; the rest is burned.
    """
    ownable.__init__()
    ownable_2step.__init__()
    assert token != empty(address), "staking: token is zero"
    TOKEN = token
    self._set_min_stake(min_stake)
    self._set_unbonding_period(unbonding_period)
    self._set_jail_period(jail_period)
    self._set_slash_reward_bps(slash_reward_bps)


# ---------------------------------------------------------------- external: operators
@external
def register(metadata_cid: String[100]):
    """
    @notice Register the caller as an operator, or update its metadata.
    @param metadata_cid IPFS CID of the operator's public metadata (hardware, region, contact).
    """
    assert len(metadata_cid) > 0, "staking: empty metadata cid"
    self.is_registered[msg.sender] = True
    self.metadata_cid[msg.sender] = metadata_cid
    log IStaking.OperatorRegistered(operator=msg.sender, metadata_cid=metadata_cid)


@external
def stake(amount: uint256):
    """
    @notice Bond `amount` TSR from the caller (approve this contract first).
    @param amount Amount to bond.
    """
    assert self.is_registered[msg.sender], "staking: not registered"
    assert amount > 0, "staking: zero amount"
    self._pull(msg.sender, amount)
    bonded: uint256 = 0
    locked: uint256 = 0
    bonded, locked = self._stake_of(msg.sender)
    new_bonded: uint256 = bonded + amount
    self._set_stake(msg.sender, new_bonded, locked)
    self.total_bonded += amount
    log IStaking.Staked(operator=msg.sender, amount=amount, bonded=new_bonded)


@external
def request_unstake(amount: uint256) -> uint256:
    """
    @notice Start unbonding `amount` of free stake; it stays slashable until withdrawn.
    @param amount Amount to unbond, at most `free_stake(caller)`.
    @return The lock id (a slot index below `MAX_LOCKS`) to pass to `withdraw` or `cancel_unstake`.
    """
    assert amount > 0, "staking: zero amount"
    bonded: uint256 = 0
    locked: uint256 = 0
    bonded, locked = self._stake_of(msg.sender)
    assert amount <= bonded - locked, "staking: amount above free stake"
    lock_id: uint256 = MAX_LOCKS
    for i: uint256 in range(MAX_LOCKS):
        if self._locks[msg.sender][i].amount == 0:
            lock_id = i
            break
    assert lock_id < MAX_LOCKS, "staking: too many unbonding locks"
    withdrawable_at: uint256 = block.timestamp + self.unbonding_period
    self._locks[msg.sender][lock_id] = IStaking.Lock(amount=amount, withdrawable_at=withdrawable_at)
    self._set_stake(msg.sender, bonded - amount, locked)
    self.total_bonded -= amount
    self.total_unbonding += amount
    log IStaking.UnstakeRequested(operator=msg.sender, lock_id=lock_id, amount=amount, withdrawable_at=withdrawable_at)
    return lock_id


@external
def cancel_unstake(lock_id: uint256):
    """
    @notice Return an unbonding lock to bonded stake.
    @param lock_id The lock to cancel.
    """
    amount: uint256 = self._lock_amount(msg.sender, lock_id)
    self._locks[msg.sender][lock_id] = empty(IStaking.Lock)
    bonded: uint256 = 0
    locked: uint256 = 0
    bonded, locked = self._stake_of(msg.sender)
    self._set_stake(msg.sender, bonded + amount, locked)
    self.total_bonded += amount
    self.total_unbonding -= amount
    log IStaking.UnstakeCancelled(operator=msg.sender, lock_id=lock_id, amount=amount)


@external
def withdraw(lock_id: uint256):
    """
    @notice Withdraw an unbonding lock once its period has passed. Never paused.
    @param lock_id The lock to withdraw.
    """
    amount: uint256 = self._lock_amount(msg.sender, lock_id)
    assert block.timestamp >= self._locks[msg.sender][lock_id].withdrawable_at, "staking: still unbonding"
    self._locks[msg.sender][lock_id] = empty(IStaking.Lock)
    self.total_unbonding -= amount
    assert extcall IBurnableToken(TOKEN).transfer(msg.sender, amount, default_return_value=True), \
        "staking: transfer failed"
    log IStaking.Withdrawn(operator=msg.sender, lock_id=lock_id, amount=amount)


# ---------------------------------------------------------------- external: job registry
@external
def lock_collateral(operator: address, amount: uint256):
    """
    @notice Lock `amount` of an eligible operator's free stake as collateral for a job claim.
    @dev Job registry only.
    @param operator The claiming operator.
    @param amount Collateral the job asks for.
    """
    assert msg.sender == self.job_registry, "staking: caller is not the job registry"
    bonded: uint256 = 0
    locked: uint256 = 0
    bonded, locked = self._stake_of(operator)
    assert self._eligible(operator, bonded), "staking: operator not eligible"
    new_locked: uint256 = locked + amount
    assert new_locked <= bonded, "staking: free stake below collateral"
    self._set_stake(operator, bonded, new_locked)
    log IStaking.CollateralLocked(operator=operator, amount=amount, locked=new_locked)


@external
def unlock_collateral(operator: address, amount: uint256):
    """
    @notice Release collateral when a job settles. Saturates at what is locked (a slash may have taken it).
    @dev Job registry only.
    @param operator The operator whose collateral is released.
    @param amount Collateral the job had locked.
    """
    assert msg.sender == self.job_registry, "staking: caller is not the job registry"
    bonded: uint256 = 0
    locked: uint256 = 0
    bonded, locked = self._stake_of(operator)
    released: uint256 = min(amount, locked)
    new_locked: uint256 = locked - released
    self._set_stake(operator, bonded, new_locked)
    log IStaking.CollateralUnlocked(operator=operator, amount=released, locked=new_locked)


@external
def slash(operator: address, amount: uint256, job_id: uint256, reason: uint8, beneficiary: address) -> uint256:
    """
    @notice Slash `operator` for a fault in `job_id`, at most once per (job, operator, reason).
    @dev Job registry only. Order: free bonded stake (the job's collateral is unlocked into it first by
         the registry), then unbonding locks, then collateral locked by other jobs. Of what is taken,
         `slash_reward_bps` goes to `beneficiary` (none if it is the zero address) and the rest is burned.
         A wrong or withheld result also jails the operator for `jail_period`.
    @param operator The faulty operator.
    @param amount The penalty; less is taken if the operator has less.
    @param job_id The job the fault happened in.
    @param reason `REASON_WRONG_RESULT`, `REASON_LIVENESS` or `REASON_WITHHELD`.
    @param beneficiary Receives the reward share.
    @return The reward paid to `beneficiary`.
    """
    assert msg.sender == self.job_registry, "staking: caller is not the job registry"
    assert reason >= constants.REASON_WRONG_RESULT and reason <= constants.REASON_WITHHELD, "staking: unknown reason"
    key: bytes32 = keccak256(abi_encode(job_id, operator, reason))
    assert not self._slashed[key], "staking: already slashed"
    self._slashed[key] = True

    remaining: uint256 = amount
    # 1. free bonded stake
    bonded: uint256 = 0
    locked: uint256 = 0
    bonded, locked = self._stake_of(operator)
    bonded_before: uint256 = bonded
    take: uint256 = min(remaining, bonded - locked)
    bonded -= take
    remaining -= take
    # 2. unbonding locks, still slashable until withdrawn
    if remaining > 0:
        for i: uint256 in range(MAX_LOCKS):
            lock_amount: uint256 = self._locks[operator][i].amount
            if lock_amount == 0:
                continue
            take = min(remaining, lock_amount)
            self._locks[operator][i].amount = lock_amount - take
            self.total_unbonding -= take
            remaining -= take
            if remaining == 0:
                break
    # 3. collateral locked by other jobs
    if remaining > 0:
        take = min(remaining, locked)
        locked -= take
        bonded -= take
        remaining -= take
    self.total_bonded -= bonded_before - bonded
    self._set_stake(operator, bonded, locked)

    slashed: uint256 = amount - remaining
    reward: uint256 = 0
    if beneficiary != empty(address):
        reward = slashed * self.slash_reward_bps // constants.BPS
    burned: uint256 = slashed - reward
    if reward > 0:
        assert extcall IBurnableToken(TOKEN).transfer(beneficiary, reward, default_return_value=True), \
            "staking: transfer failed"
    if burned > 0:
        extcall IBurnableToken(TOKEN).burn(burned)
    log IStaking.OperatorSlashed(
        operator=operator, job_id=job_id, reason=reason, amount=slashed, reward=reward, burned=burned,
        beneficiary=beneficiary,
    )
    if reason != constants.REASON_LIVENESS:
        # a later fault never shortens a jail in force (jail_period may have been lowered meanwhile)
        until: uint256 = max(self.jailed_until[operator], block.timestamp + self.jail_period)
        self.jailed_until[operator] = until
        log IStaking.OperatorJailed(operator=operator, until=until)
    return reward


# ---------------------------------------------------------------- external: governance
@external
def set_job_registry(job_registry: address):
    """
    @notice Name the job registry (the collateral locker and slasher). Owner only, once.
    @param job_registry The JobRegistry contract.
    """
    ownable._check_owner()
    assert self.job_registry == empty(address), "staking: job registry already set"
    assert job_registry != empty(address), "staking: job registry is zero"
    self.job_registry = job_registry
    log IStaking.JobRegistrySet(job_registry=job_registry)


@external
def set_min_stake(new_value: uint256):
    """
    @notice Set the bonded stake needed to claim jobs. Owner only, within bounds.
    @param new_value New minimum stake.
    """
    ownable._check_owner()
    self._set_min_stake(new_value)


@external
def set_unbonding_period(new_value: uint256):
    """
    @notice Set the unbonding period for new unstake requests (existing locks keep their time). Owner only.
    @param new_value New period in seconds, at least `MIN_UNBONDING_PERIOD`.
    """
    ownable._check_owner()
    self._set_unbonding_period(new_value)


@external
def set_jail_period(new_value: uint256):
    """
    @notice Set how long a wrong result bars an operator from claiming. Owner only, within bounds.
    @param new_value New period in seconds.
    """
    ownable._check_owner()
    self._set_jail_period(new_value)


@external
def set_slash_reward_bps(new_value: uint256):
    """
    @notice Set the share of a slash paid to honest parties. Owner only, at most `MAX_SLASH_REWARD_BPS`.
    @param new_value New share in basis points.
    """
    ownable._check_owner()
    self._set_slash_reward_bps(new_value)


# ---------------------------------------------------------------- views
@view
@external
def free_stake(operator: address) -> uint256:
    """
    @notice Bonded stake not locked as job collateral: what can be unstaked or locked for a new claim.
    @param operator The operator.
    @return The free stake.
    """
    bonded: uint256 = 0
    locked: uint256 = 0
    bonded, locked = self._stake_of(operator)
    return bonded - locked


@view
@external
def bonded(operator: address) -> uint256:
    """
    @notice Stake backing `operator`, including collateral locked by its claimed jobs.
    @param operator The operator.
    @return The bonded amount.
    """
    return self._stakes[operator] % HALF_WORD


@view
@external
def stake_share(operator: address) -> (uint256, uint256):
    """
    @notice The operator's weight in job selection and the whole: its bonded stake and `total_bonded`.
    @dev JobRegistry selects claimants with probability proportional to the first over the second, so
         splitting a stake over many identities buys no more selection than keeping it whole.
    @param operator The operator.
    @return (bonded stake of `operator`, total bonded stake of every operator).
    """
    return self._stakes[operator] % HALF_WORD, self.total_bonded


@view
@external
def locked(operator: address) -> uint256:
    """
    @notice Collateral locked by `operator`'s claimed jobs (part of `bonded`).
    @param operator The operator.
    @return The locked amount.
    """
    return self._stakes[operator] // HALF_WORD


@view
@external
def is_eligible(operator: address) -> bool:
    """
    @notice Whether `operator` may claim jobs now: registered, not jailed, bonded at least `min_stake`.
    @param operator The operator.
    @return True when eligible.
    """
    return self._eligible(operator, self._stakes[operator] % HALF_WORD)


@view
@external
def locks(operator: address) -> IStaking.Lock[MAX_LOCKS]:
    """
    @notice The operator's unbonding locks; the index is the lock id, an amount of 0 marks a free slot.
    @param operator The operator.
    @return The locks.
    """
    result: IStaking.Lock[MAX_LOCKS] = empty(IStaking.Lock[MAX_LOCKS])
    for i: uint256 in range(MAX_LOCKS):
        result[i] = self._locks[operator][i]
    return result


# ---------------------------------------------------------------- internal
@internal
def _pull(owner: address, amount: uint256):
    before: uint256 = staticcall IBurnableToken(TOKEN).balanceOf(self)
    assert extcall IBurnableToken(TOKEN).transferFrom(owner, self, amount, default_return_value=True), \
        "staking: transferFrom failed"
    assert staticcall IBurnableToken(TOKEN).balanceOf(self) == before + amount, "staking: token took a fee"


@view
@internal
def _eligible(operator: address, bonded: uint256) -> bool:
    return (
        self.is_registered[operator]
        and block.timestamp >= self.jailed_until[operator]
        and bonded >= self.min_stake
    )


@view
@internal
def _stake_of(operator: address) -> (uint256, uint256):
    packed: uint256 = self._stakes[operator]
    return packed % HALF_WORD, packed // HALF_WORD


@internal
def _set_stake(operator: address, bonded: uint256, locked: uint256):
    # locked <= bonded, so bounding bonded bounds both halves
    assert bonded < HALF_WORD, "staking: stake above 2**128"
    self._stakes[operator] = locked * HALF_WORD + bonded


@view
@internal
def _lock_amount(operator: address, lock_id: uint256) -> uint256:
    assert lock_id < MAX_LOCKS, "staking: no such lock"
    amount: uint256 = self._locks[operator][lock_id].amount
    assert amount > 0, "staking: no such lock"
    return amount


@internal
def _set_min_stake(new_value: uint256):
    assert new_value >= MIN_MIN_STAKE and new_value <= MAX_MIN_STAKE, "staking: min_stake out of bounds"
    self.min_stake = new_value
    log IStaking.ParameterChanged(name="min_stake", value=new_value)


@internal
def _set_unbonding_period(new_value: uint256):
    assert new_value >= MIN_UNBONDING_PERIOD and new_value <= MAX_UNBONDING_PERIOD, \
        "staking: unbonding_period out of bounds"
    self.unbonding_period = new_value
    log IStaking.ParameterChanged(name="unbonding_period", value=new_value)


@internal
def _set_jail_period(new_value: uint256):
    assert new_value >= MIN_JAIL_PERIOD and new_value <= MAX_JAIL_PERIOD, "staking: jail_period out of bounds"
    self.jail_period = new_value
    log IStaking.ParameterChanged(name="jail_period", value=new_value)


@internal
def _set_slash_reward_bps(new_value: uint256):
    assert new_value <= MAX_SLASH_REWARD_BPS, "staking: slash_reward_bps out of bounds"
    self.slash_reward_bps = new_value
    log IStaking.ParameterChanged(name="slash_reward_bps", value=new_value)
