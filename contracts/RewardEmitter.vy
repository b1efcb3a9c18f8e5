# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title RewardEmitter
@custom:contract-name RewardEmitter
@license GNU Affero General Public License v3.0 only
@notice Mints TSR to operators for verified work, epoch by epoch.
@dev Epoch `e` runs from `GENESIS + e * EPOCH_LENGTH` for `EPOCH_LENGTH` seconds. Its emission is
     `min(schedule(e), burned(e))`: the halving schedule, capped by the protocol fees burned in that epoch
     (burn-and-mint equilibrium), so paying one's own jobs can never mint back more than was burned.
     Work points are a worker's share of the protocol fee burned by the jobs it agreed on, so an epoch's
     points equal its burn; an operator's share of epoch `e`
     is `emission(e) * points(op, e) // points(e)`, claimable once `e` has ended. Rounding leaves less
     than one wei per claimer per epoch unminted (never over-minted).
     Roles: the job registry (named once by the deployer) records work; anyone claims their own share.
"""

from modules import constants

from interfaces import IRewardEmitter
from interfaces import IMintableToken

implements: IRewardEmitter


# ---------------------------------------------------------------- constants
MAX_CLAIM_EPOCHS: public(constant(uint256)) = 32  # epochs per claim call
MIN_EPOCH_LENGTH: public(constant(uint256)) = 60  # 1 minute (local chains, demos)
MAX_EPOCH_LENGTH: public(constant(uint256)) = 86_400 * 30  # 30 days
HALF_WORD: constant(uint256) = 2**128


# ---------------------------------------------------------------- immutables
TOKEN: public(immutable(address))
GENESIS: public(immutable(uint256))
EPOCH_LENGTH: public(immutable(uint256))
INITIAL_EMISSION: public(immutable(uint256))  # schedule(e) for the first HALVING_EPOCHS epochs
HALVING_EPOCHS: public(immutable(uint256))
_DEPLOYER: immutable(address)


# ---------------------------------------------------------------- storage
job_registry: public(address)
# epoch -> burned << 128 | points (both far below 2**128: bounded by the token's max supply)
_epochs: HashMap[uint256, uint256]
# operator -> epoch -> points not yet claimed
points_of: public(HashMap[address, HashMap[uint256, uint256]])
total_minted: public(uint256)


# ---------------------------------------------------------------- constructor
@deploy
def __init__(token: address, epoch_length: uint256, initial_emission: uint256, halving_epochs: uint256):
    """
    @notice Start epoch 0 now.
    @param token TesseraToken; this contract must be its emitter.
    @param epoch_length Seconds per epoch.
    @param initial_emission Schedule per epoch before the first halving.
    @param halving_epochs Epochs between halvings.
    @dev The whole schedule sums to less than `2 * initial_emission * halving_epochs`, which must fit
         under the token's remaining supply: emission can never hit the cap by surprise.
    """
    assert token != empty(address), "emitter: token is zero"
    assert epoch_length >= MIN_EPOCH_LENGTH and epoch_length <= MAX_EPOCH_LENGTH, \
        "emitter: epoch_length out of bounds"
    assert halving_epochs > 0, "emitter: halving_epochs is zero"
    headroom: uint256 = staticcall IMintableToken(token).MAX_SUPPLY() - staticcall IMintableToken(token).totalSupply()
    assert 2 * initial_emission * halving_epochs <= headroom, "emitter: schedule exceeds max supply"
    TOKEN = token
    GENESIS = block.timestamp
    EPOCH_LENGTH = epoch_length
    INITIAL_EMISSION = initial_emission
    HALVING_EPOCHS = halving_epochs
    _DEPLOYER = msg.sender


# ---------------------------------------------------------------- external
@external
def set_job_registry(job_registry: address):
    """
    @notice Name the JobRegistry that records work. Deployer only, once.
    @param job_registry The JobRegistry contract.
    """
    assert msg.sender == _DEPLOYER, "emitter: caller is not the deployer"
    assert self.job_registry == empty(address), "emitter: job registry already set"
    assert job_registry != empty(address), "emitter: job registry is zero"
    self.job_registry = job_registry
    log IRewardEmitter.JobRegistrySet(job_registry=job_registry)


@external
def record_work(workers: DynArray[address, constants.MAX_REPLICAS], points: DynArray[uint256, constants.MAX_REPLICAS],
                burned: uint256):
    """
    @notice Credit work points for the current epoch and add to its burned fees. Job registry only.
    @param workers Workers whose results agreed.
    @param points Each worker's points (its share of the burned protocol fee), same order.
    @param burned Protocol fee burned by this job.
    """
    assert msg.sender == self.job_registry, "emitter: caller is not the job registry"
    assert len(workers) == len(points), "emitter: length mismatch"
    epoch: uint256 = self._current_epoch()
    total: uint256 = 0
    for i: uint256 in range(len(workers), bound=constants.MAX_REPLICAS):
        self.points_of[workers[i]][epoch] += points[i]
        total += points[i]
    packed: uint256 = self._epochs[epoch]
    new_points: uint256 = packed % HALF_WORD + total
    new_burned: uint256 = packed // HALF_WORD + burned
    assert new_points < HALF_WORD and new_burned < HALF_WORD, "emitter: epoch totals overflow"
    self._epochs[epoch] = new_burned * HALF_WORD + new_points


@external
def claim(epochs: DynArray[uint256, MAX_CLAIM_EPOCHS]) -> uint256:
    """
    @notice Mint the caller's share of each listed, ended epoch. Epochs with nothing to claim are skipped.
    @param epochs Epoch numbers, at most `MAX_CLAIM_EPOCHS`.
    @return The total minted to the caller.
    """
    current: uint256 = self._current_epoch()
    total: uint256 = 0
    for epoch: uint256 in epochs:
        assert epoch < current, "emitter: epoch not ended"
        amount: uint256 = self._claimable(msg.sender, epoch)
        if self.points_of[msg.sender][epoch] == 0:
            continue
        self.points_of[msg.sender][epoch] = 0
        total += amount
        log IRewardEmitter.EmissionClaimed(operator=msg.sender, epoch=epoch, amount=amount)
    if total > 0:
        self.total_minted += total
        extcall IMintableToken(TOKEN).mint(msg.sender, total)
    return total


# ---------------------------------------------------------------- views
@view
@external
def current_epoch() -> uint256:
    """
    @notice The epoch that `block.timestamp` falls in.
    @return The epoch number.
    """
    return self._current_epoch()


@view
@external
def epoch_start(epoch: uint256) -> uint256:
    """
    @notice When `epoch` starts.
    @param epoch The epoch.
    @return Its first second.
    """
    return GENESIS + epoch * EPOCH_LENGTH


@view
@external
def schedule(epoch: uint256) -> uint256:
    """
    @notice The halving schedule: the most epoch `epoch` can emit, whatever is burned.
    @param epoch The epoch.
    @return Its scheduled emission.
    """
    return self._schedule(epoch)


@view
@external
def epoch_emission(epoch: uint256) -> uint256:
    """
    @notice What epoch `epoch` emits: the schedule capped by the fees burned in it.
    @param epoch The epoch.
    @return Its emission (final once the epoch has ended).
    """
    return self._emission(epoch)


@view
@external
def epoch_points(epoch: uint256) -> uint256:
    """
    @notice All work points recorded in `epoch`.
    @param epoch The epoch.
    @return The points.
    """
    return self._epochs[epoch] % HALF_WORD


@view
@external
def epoch_burned(epoch: uint256) -> uint256:
    """
    @notice Protocol fees burned in `epoch`.
    @param epoch The epoch.
    @return The amount burned.
    """
    return self._epochs[epoch] // HALF_WORD


@view
@external
def claimable(operator: address, epoch: uint256) -> uint256:
    """
    @notice What `operator` can still claim for `epoch` (its share so far while the epoch runs).
    @param operator The operator.
    @param epoch The epoch.
    @return The amount.
    """
    return self._claimable(operator, epoch)


# ---------------------------------------------------------------- internal
@view
@internal
def _current_epoch() -> uint256:
    return (block.timestamp - GENESIS) // EPOCH_LENGTH


@view
@internal
def _schedule(epoch: uint256) -> uint256:
    halvings: uint256 = epoch // HALVING_EPOCHS
    if halvings >= 128:
        return 0
    return INITIAL_EMISSION >> halvings


@view
@internal
def _emission(epoch: uint256) -> uint256:
    return min(self._schedule(epoch), self._epochs[epoch] // HALF_WORD)


@view
@internal
def _claimable(operator: address, epoch: uint256) -> uint256:
    points: uint256 = self.points_of[operator][epoch]
    if points == 0:
        return 0
    return self._emission(epoch) * points // (self._epochs[epoch] % HALF_WORD)
