# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title JobRegistry
@custom:contract-name JobRegistry
@license GNU Affero General Public License v3.0 only
@notice The compute market: requesters post jobs with an escrowed fee; staked operators claim them, commit
        to a result, reveal it, and are paid when `quorum` reveals agree. Faults are slashed via Staking.
@dev Lifecycle: Open -> Claimed -> (Committing -> Revealing) -> Completed | Failed; Open -> Cancelled |
     Expired. Committing and Revealing are derived from time and counts (see `get_job().phase`); only
     the other states are stored. Deadlines are fixed at posting: claim, then commit, then reveal, each a
     window after the previous. Reveal opens early once claims are closed and every claimant committed;
     `finalize` opens early once every committer revealed.
     Commitment = keccak256(abi_encode(chain_id, registry, job_id, worker, result_digest,
     keccak256(result_cid), salt)): bound to the worker (a copied commitment cannot be revealed by the
     copier), to the result's CID (an agreeing worker cannot name other bytes at reveal) and salted (a
     low-entropy result cannot be recovered from it).
     Terms are fixed at posting: the protocol fee and both slash rates in force then (a `terms_version`
     the job stores) apply at settlement, whatever governance sets meanwhile. Every slash this registry
     triggers is burned (no beneficiary): nobody, requester or majority, profits from another's slash.
     Storage is packed (two words per job) because storage writes dominate the cost of a job.
     Roles: owner (two-step) sets bounded parameters and may pause posting and claiming; pausing never
     blocks commit, reveal, finalize, cancel or expire. Anyone may finalize or expire; a late second
     finalize is a cheap no-op that logs `JobAlreadySettled`.
"""

from snekmate.auth import ownable
from snekmate.auth import ownable_2step
from snekmate.utils import pausable

from modules import constants

from interfaces import IJobRegistry
from interfaces import IStaking
from interfaces import IRewardEmitter
from interfaces import IBurnableToken

implements: IJobRegistry

initializes: ownable
initializes: ownable_2step[ownable := ownable]
initializes: pausable

exports: (
    ownable.owner,
    ownable_2step.pending_owner,
    ownable_2step.transfer_ownership,
    ownable_2step.accept_ownership,
    pausable.paused,
    # job phases (stored states plus the two derived ones) and the replica bound, for frontends
    constants.MAX_REPLICAS,
    constants.UNKNOWN,
    constants.OPEN,
    constants.CLAIMED,
    constants.COMMITTING,
    constants.REVEALING,
    constants.COMPLETED,
    constants.FAILED,
    constants.CANCELLED,
    constants.EXPIRED,
)


# ---------------------------------------------------------------- constants
MAX_AMOUNT: public(constant(uint256)) = 2**96 - 1  # fee and collateral are packed into 96 bits each
MIN_WINDOW: public(constant(uint256)) = 30  # seconds
MAX_WINDOW: public(constant(uint256)) = 86_400  # 1 day; Staking.MIN_UNBONDING_PERIOD covers 3 windows + 1 day

MAX_COLLATERAL_PER_FEE: public(constant(uint256)) = 100  # collateral <= 100 x fee: a job cannot bait stake

MAX_PROTOCOL_FEE_BPS: public(constant(uint256)) = 2_000
MIN_WRONG_RESULT_SLASH_BPS: public(constant(uint256)) = 1_000
MIN_LIVENESS_SLASH_BPS: public(constant(uint256)) = 500  # squatting a slot is never free
MAX_LIVENESS_SLASH_BPS: public(constant(uint256)) = 5_000
MAX_MIN_FEE: public(constant(uint256)) = 10**24
MAX_MIN_COLLATERAL: public(constant(uint256)) = 10**24

# Word layouts (bit offsets). core: requester | state | replicas | quorum | claims | commit mask |
# reveal mask | reveal window | terms version.  terms: fee | collateral | claim deadline | commit window.
# A terms version packs protocol fee | wrong-result slash | liveness slash, 16 bits each.
MASK8: constant(uint256) = 2**8 - 1
MASK16: constant(uint256) = 2**16 - 1
MASK24: constant(uint256) = 2**24 - 1
MASK40: constant(uint256) = 2**40 - 1
MASK96: constant(uint256) = 2**96 - 1
MASK160: constant(uint256) = 2**160 - 1


# ---------------------------------------------------------------- types
struct Job:
    requester: address
    state: uint8
    replicas: uint256
    quorum: uint256
    claims: uint256
    commit_mask: uint256  # bit i: claimant i committed
    reveal_mask: uint256  # bit i: claimant i revealed
    fee: uint256
    collateral: uint256
    claim_deadline: uint256
    commit_deadline: uint256
    reveal_deadline: uint256
    terms_version: uint256  # the governance terms in force at posting


# ---------------------------------------------------------------- immutables
FEE_TOKEN: public(immutable(address))
STAKE_TOKEN: public(immutable(address))
STAKING: public(immutable(address))
EMITTER: public(immutable(address))


# ---------------------------------------------------------------- storage
job_count: public(uint256)
_core: HashMap[uint256, uint256]
_terms: HashMap[uint256, uint256]
# Per-claimant slots are keyed by index in a nested HashMap, not a static array: Vyper 0.4.3 copies a
# whole storage array when it is indexed by a variable (8 storage reads instead of 1).
_claimants: HashMap[uint256, HashMap[uint256, address]]
# claimant i's commitment, replaced by its result digest on reveal
_seals: HashMap[uint256, HashMap[uint256, bytes32]]

protocol_fee_bps: public(uint256)
wrong_result_slash_bps: public(uint256)
liveness_slash_bps: public(uint256)
min_fee: public(uint256)
min_collateral: public(uint256)
# Every change of protocol_fee_bps or a slash rate makes a new version; a job keeps the one it was posted under.
terms_version: public(uint256)
_terms_at: HashMap[uint256, uint256]


# ---------------------------------------------------------------- constructor
@deploy
def __init__(fee_token: address, staking: address, emitter: address, protocol_fee_bps: uint256,
             wrong_result_slash_bps: uint256, liveness_slash_bps: uint256, min_fee: uint256,
             min_collateral: uint256):
    """
    @notice Deploy with bounded parameters; the deployer becomes the owner.
    @param fee_token Token fees are paid in: TSR, which must also be the stake and the emitter's token (so
           emission is only ever minted against burned TSR). Must support `burn`.
    @param staking The Staking contract; this registry must be its job registry.
    @param emitter The RewardEmitter; this registry must be its job registry.
    @param protocol_fee_bps Share of each fee burned (and counted toward the epoch's emission budget).
    @param wrong_result_slash_bps Share of collateral slashed for revealing a result the quorum rejected.
    @param liveness_slash_bps Share of collateral slashed for claiming and not committing or revealing.
    @param min_fee Smallest fee a job may offer (spam floor).
    @param min_collateral Smallest collateral a job may ask for.
    """
    ownable.__init__()
    ownable_2step.__init__()
    pausable.__init__()
    assert fee_token != empty(address) and staking != empty(address) and emitter != empty(address), \
        "registry: zero address"
    FEE_TOKEN = fee_token
    STAKING = staking
    EMITTER = emitter
    STAKE_TOKEN = staticcall IStaking(staking).TOKEN()
    assert fee_token == STAKE_TOKEN and fee_token == staticcall IRewardEmitter(emitter).TOKEN(), \
        "registry: fee, stake and emission tokens differ"
    self._set_protocol_fee_bps(protocol_fee_bps)
    self._set_wrong_result_slash_bps(wrong_result_slash_bps)
    self._set_liveness_slash_bps(liveness_slash_bps)
    self._set_min_fee(min_fee)
    self._set_min_collateral(min_collateral)
    self._new_terms_version()


# ---------------------------------------------------------------- external: requesters
@external
def post_job(spec_cid: String[100], spec_digest: bytes32, fee: uint256, replicas: uint256, quorum: uint256,
             collateral: uint256, claim_window: uint256, commit_window: uint256, reveal_window: uint256) -> uint256:
    """
    @notice Post a job and escrow its fee (approve this contract for `fee` first).
    @param spec_cid IPFS CID of the job spec (JSON).
    @param spec_digest sha256 of the spec bytes: workers check the spec against it.
    @param fee Paid to the agreeing workers, less the protocol fee. At least `min_fee`.
    @param replicas Workers that may claim, 1..MAX_REPLICAS.
    @param quorum Agreeing reveals needed; a strict majority of `replicas`.
    @param collateral Stake each claimant locks; at least `min_collateral`, at most
           `MAX_COLLATERAL_PER_FEE` times the fee.
    @param claim_window Seconds from now during which workers may claim.
    @param commit_window Seconds after the claim deadline by which commitments are due.
    @param reveal_window Seconds after the commit deadline by which reveals are due.
    @return The new job id (ids start at 1).
    """
    pausable._require_not_paused()
    assert len(spec_cid) > 0, "registry: empty spec cid"
    assert spec_digest != empty(bytes32), "registry: empty spec digest"
    assert fee >= self.min_fee and fee <= MAX_AMOUNT, "registry: fee out of bounds"
    assert replicas >= 1 and replicas <= constants.MAX_REPLICAS, "registry: replicas out of bounds"
    assert quorum * 2 > replicas and quorum <= replicas, "registry: quorum must be a majority of replicas"
    assert collateral >= self.min_collateral and collateral <= MAX_AMOUNT, "registry: collateral out of bounds"
    assert collateral <= fee * MAX_COLLATERAL_PER_FEE, "registry: collateral above 100 x the fee"
    for window: uint256 in [claim_window, commit_window, reveal_window]:
        assert window >= MIN_WINDOW and window <= MAX_WINDOW, "registry: window out of bounds"

    before: uint256 = staticcall IBurnableToken(FEE_TOKEN).balanceOf(self)
    assert extcall IBurnableToken(FEE_TOKEN).transferFrom(msg.sender, self, fee, default_return_value=True), \
        "registry: transferFrom failed"
    assert staticcall IBurnableToken(FEE_TOKEN).balanceOf(self) == before + fee, \
        "registry: fee token took a transfer fee"

    job_id: uint256 = self.job_count + 1
    self.job_count = job_id
    job: Job = Job(
        requester=msg.sender,
        state=constants.OPEN,
        replicas=replicas,
        quorum=quorum,
        claims=0,
        commit_mask=0,
        reveal_mask=0,
        fee=fee,
        collateral=collateral,
        claim_deadline=block.timestamp + claim_window,
        commit_deadline=block.timestamp + claim_window + commit_window,
        reveal_deadline=block.timestamp + claim_window + commit_window + reveal_window,
        terms_version=self.terms_version,
    )
    self._store_core(job_id, job)
    self._terms[job_id] = (
        fee
        | (collateral << 96)
        | (job.claim_deadline << 192)
        | (commit_window << 232)
    )
    log IJobRegistry.JobPosted(
        job_id=job_id,
        requester=msg.sender,
        spec_cid=spec_cid,
        spec_digest=spec_digest,
        fee=fee,
        replicas=replicas,
        quorum=quorum,
        collateral=collateral,
        claim_deadline=job.claim_deadline,
        commit_deadline=job.commit_deadline,
        reveal_deadline=job.reveal_deadline,
    )
    return job_id


@external
def cancel(job_id: uint256):
    """
    @notice Withdraw a job nobody has claimed and get the fee back. Requester only.
    @param job_id The job.
    """
    job: Job = self._load(job_id)
    assert job.state == constants.OPEN, "registry: job not open"
    assert msg.sender == job.requester, "registry: caller is not the requester"
    self._close_unclaimed(job_id, job, constants.CANCELLED)
    log IJobRegistry.JobCancelled(job_id=job_id, refunded=job.fee)


@external
def expire(job_id: uint256):
    """
    @notice Refund a job whose claim window passed with no claims. Anyone.
    @param job_id The job.
    """
    job: Job = self._load(job_id)
    assert job.state == constants.OPEN, "registry: job not open"
    assert block.timestamp >= job.claim_deadline, "registry: claim window still open"
    self._close_unclaimed(job_id, job, constants.EXPIRED)
    log IJobRegistry.JobExpired(job_id=job_id, refunded=job.fee)


# ---------------------------------------------------------------- external: workers
@external
def claim(job_id: uint256):
    """
    @notice Take one of the job's replica slots, locking `collateral` of the caller's free stake.
    @param job_id The job.
    """
    job: Job = self._claim(job_id)
    self._store_core(job_id, job)


@external
def commit(job_id: uint256, commitment: bytes32):
    """
    @notice Commit to a result before the commit deadline; see `commitment_for`.
    @param job_id The job.
    @param commitment keccak256(abi_encode(chain_id, registry, job_id, worker, result_digest,
           keccak256(result_cid), salt)).
    """
    job: Job = self._load(job_id)
    assert job.state == constants.CLAIMED, "registry: job not in progress"
    assert block.timestamp < job.commit_deadline, "registry: commit deadline passed"
    assert commitment != empty(bytes32), "registry: empty commitment"
    self._commit(job_id, job, self._index_of(job_id, job, msg.sender), commitment)


@external
def claim_and_commit(job_id: uint256, commitment: bytes32):
    """
    @notice `claim` and `commit` in one transaction, for a worker that has its result before it claims
            (or will not need the slot otherwise): saves a transaction. Same checks as the two calls.
    @param job_id The job.
    @param commitment As for `commit`.
    """
    assert commitment != empty(bytes32), "registry: empty commitment"
    job: Job = self._claim(job_id)  # the claim window closes before the commit deadline
    self._commit(job_id, job, job.claims - 1, commitment)


@external
def reveal(job_id: uint256, result_digest: bytes32, result_cid: String[100], salt: bytes32):
    """
    @notice Open the caller's commitment once reveals are open and before the reveal deadline.
    @param job_id The job.
    @param result_digest sha256 of the canonical result bytes.
    @param result_cid IPFS CID of the result bytes, as committed.
    @param salt The salt used in the commitment.
    """
    self._reveal(job_id, result_digest, result_cid, salt)


@external
def reveal_and_finalize(job_id: uint256, result_digest: bytes32, result_cid: String[100], salt: bytes32) -> bool:
    """
    @notice `reveal`, then settle the job in the same transaction when this was the last reveal owed (every
            committer has now revealed): the last revealer saves a separate `finalize` transaction.
    @param job_id The job.
    @param result_digest sha256 of the canonical result bytes.
    @param result_cid IPFS CID of the result bytes, as committed.
    @param salt The salt used in the commitment.
    @return True if the job was settled (Completed or Failed), False if reveals are still owed.
    """
    job: Job = self._reveal(job_id, result_digest, result_cid, salt)
    if job.reveal_mask != job.commit_mask:
        return False
    self._settle(job_id, job)
    return True


@external
def finalize(job_id: uint256):
    """
    @notice Settle a job once every committer revealed or the reveal deadline passed. Anyone. On a job
            already Completed or Failed (a second finalizer lost the race) it only logs `JobAlreadySettled`.
    @dev Terms are the job's (`job_terms`). With `quorum` equal reveals: Completed; the agreeing workers
         share the fee less the protocol fee (burned) and earn work points (their share of that burn).
         Otherwise: Failed and the fee is refunded, nothing more. Either way a claimant that revealed a
         rejected result (Completed only) or committed and withheld its reveal is slashed at the
         wrong-result rate and jailed; one that never committed at the liveness rate. Slashes are burned.
    @param job_id The job.
    """
    job: Job = self._load(job_id)
    if job.state == constants.COMPLETED or job.state == constants.FAILED:
        log IJobRegistry.JobAlreadySettled(job_id=job_id, phase=job.state)
        return
    assert job.state == constants.CLAIMED, "registry: job not in progress"
    assert self._reveal_open(job), "registry: reveal not open"
    assert job.reveal_mask == job.commit_mask or block.timestamp >= job.reveal_deadline, \
        "registry: reveals pending"
    self._settle(job_id, job)


# ---------------------------------------------------------------- external: governance
@external
def pause():
    """
    @notice Stop new posts and claims. Owner only. Never blocks settlement or refunds.
    """
    ownable._check_owner()
    pausable._pause()


@external
def unpause():
    """
    @notice Resume posts and claims. Owner only.
    """
    ownable._check_owner()
    pausable._unpause()


@external
def set_protocol_fee_bps(new_value: uint256):
    """
    @notice Set the share of each fee that is burned, for jobs posted from now on. Owner only, at most
            `MAX_PROTOCOL_FEE_BPS`.
    @param new_value Basis points.
    """
    ownable._check_owner()
    self._set_protocol_fee_bps(new_value)
    self._new_terms_version()


@external
def set_wrong_result_slash_bps(new_value: uint256):
    """
    @notice Set the collateral share slashed for a rejected or withheld result, for jobs posted from now on.
            Owner only, within bounds.
    @param new_value Basis points.
    """
    ownable._check_owner()
    self._set_wrong_result_slash_bps(new_value)
    self._new_terms_version()


@external
def set_liveness_slash_bps(new_value: uint256):
    """
    @notice Set the collateral share slashed for a missed commit, for jobs posted from now on. Owner only,
            within bounds.
    @param new_value Basis points.
    """
    ownable._check_owner()
    self._set_liveness_slash_bps(new_value)
    self._new_terms_version()


@external
def set_min_fee(new_value: uint256):
    """
    @notice Set the smallest fee a job may offer. Owner only, within bounds.
    @param new_value Token amount.
    """
    ownable._check_owner()
    self._set_min_fee(new_value)


@external
def set_min_collateral(new_value: uint256):
    """
    @notice Set the smallest collateral a job may ask for. Owner only, within bounds.
    @param new_value Token amount.
    """
    ownable._check_owner()
    self._set_min_collateral(new_value)


# ---------------------------------------------------------------- views
@view
@external
def get_job(job_id: uint256) -> IJobRegistry.JobView:
    """
    @notice A job's terms, counts, deadlines and current phase (0 if it does not exist).
    @param job_id The job.
    @return The job.
    """
    job: Job = self._load(job_id)
    return IJobRegistry.JobView(
        requester=job.requester,
        phase=self._phase(job),
        fee=job.fee,
        collateral=job.collateral,
        replicas=job.replicas,
        quorum=job.quorum,
        claims=job.claims,
        commits=self._popcount(job.commit_mask),
        reveals=self._popcount(job.reveal_mask),
        claim_deadline=job.claim_deadline,
        commit_deadline=job.commit_deadline,
        reveal_deadline=job.reveal_deadline,
    )


@view
@external
def claimants(job_id: uint256) -> DynArray[address, constants.MAX_REPLICAS]:
    """
    @notice The job's claimants in claim order.
    @param job_id The job.
    @return Their addresses.
    """
    job: Job = self._load(job_id)
    result: DynArray[address, constants.MAX_REPLICAS] = []
    for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
        result.append(self._claimants[job_id][i])
    return result


@view
@external
def worker_entry(job_id: uint256, worker: address) -> IJobRegistry.WorkerEntry:
    """
    @notice One worker's progress on a job; `seal` is its commitment, or its result digest once revealed.
    @param job_id The job.
    @param worker The worker.
    @return The entry (all false if `worker` did not claim the job).
    """
    job: Job = self._load(job_id)
    for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
        if self._claimants[job_id][i] == worker:
            bit: uint256 = 1 << i
            return IJobRegistry.WorkerEntry(
                claimed=True,
                committed=job.commit_mask & bit != 0,
                revealed=job.reveal_mask & bit != 0,
                seal=self._seals[job_id][i],
            )
    return empty(IJobRegistry.WorkerEntry)


@view
@external
def commitment_for(job_id: uint256, worker: address, result_digest: bytes32, result_cid: String[100],
                   salt: bytes32) -> bytes32:
    """
    @notice The commitment `worker` must send for `result_digest`, `result_cid` and `salt` on this chain and
            registry.
    @param job_id The job.
    @param worker The committing worker.
    @param result_digest sha256 of the canonical result bytes.
    @param result_cid IPFS CID of the result bytes (the reveal must name the same).
    @param salt 32 random bytes kept secret until reveal.
    @return The commitment.
    """
    return self._commitment(job_id, worker, result_digest, result_cid, salt)


@view
@external
def job_terms(job_id: uint256) -> IJobRegistry.JobTerms:
    """
    @notice The governance terms a job settles under: those in force when it was posted.
    @param job_id The job (for an unknown job: the terms a job posted now would get).
    @return Protocol fee and slash rates in basis points.
    """
    version: uint256 = self.terms_version
    if job_id > 0 and job_id <= self.job_count:
        version = self._load(job_id).terms_version
    terms: uint256 = self._terms_at[version]
    return IJobRegistry.JobTerms(
        protocol_fee_bps=terms & MASK16,
        wrong_result_slash_bps=(terms >> 16) & MASK16,
        liveness_slash_bps=(terms >> 32) & MASK16,
    )


# ---------------------------------------------------------------- internal
@internal
def _claim(job_id: uint256) -> Job:
    pausable._require_not_paused()
    job: Job = self._load(job_id)
    assert job.state == constants.OPEN or job.state == constants.CLAIMED, "registry: job not claimable"
    assert block.timestamp < job.claim_deadline, "registry: claim window closed"
    assert job.claims < job.replicas, "registry: all replicas claimed"
    for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
        assert self._claimants[job_id][i] != msg.sender, "registry: already claimed"
    extcall IStaking(STAKING).lock_collateral(msg.sender, job.collateral)
    self._claimants[job_id][job.claims] = msg.sender
    log IJobRegistry.JobClaimed(job_id=job_id, worker=msg.sender, index=job.claims)
    job.claims += 1
    job.state = constants.CLAIMED
    return job


@internal
def _commit(job_id: uint256, job: Job, index: uint256, commitment: bytes32):
    bit: uint256 = 1 << index
    assert job.commit_mask & bit == 0, "registry: already committed"
    self._seals[job_id][index] = commitment
    job.commit_mask |= bit
    self._store_core(job_id, job)
    log IJobRegistry.ResultCommitted(job_id=job_id, worker=msg.sender, commitment=commitment)


@internal
def _reveal(job_id: uint256, result_digest: bytes32, result_cid: String[100], salt: bytes32) -> Job:
    job: Job = self._load(job_id)
    assert job.state == constants.CLAIMED, "registry: job not in progress"
    assert self._reveal_open(job), "registry: reveal not open"
    assert block.timestamp < job.reveal_deadline, "registry: reveal deadline passed"
    assert len(result_cid) > 0, "registry: empty result cid"
    index: uint256 = self._index_of(job_id, job, msg.sender)
    bit: uint256 = 1 << index
    assert job.commit_mask & bit != 0, "registry: no commitment"
    assert job.reveal_mask & bit == 0, "registry: already revealed"
    assert self._seals[job_id][index] == self._commitment(job_id, msg.sender, result_digest, result_cid, salt), \
        "registry: reveal does not match commitment"
    self._seals[job_id][index] = result_digest
    job.reveal_mask |= bit
    self._store_core(job_id, job)
    log IJobRegistry.ResultRevealed(
        job_id=job_id, worker=msg.sender, result_digest=result_digest, result_cid=result_cid
    )
    return job


@internal
def _settle(job_id: uint256, job: Job):
    terms: uint256 = self._terms_at[job.terms_version]
    wrong_slash: uint256 = job.collateral * ((terms >> 16) & MASK16) // constants.BPS
    liveness_slash: uint256 = job.collateral * ((terms >> 32) & MASK16) // constants.BPS
    workers: DynArray[address, constants.MAX_REPLICAS] = []
    seals: DynArray[bytes32, constants.MAX_REPLICAS] = []
    for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
        workers.append(self._claimants[job_id][i])
        seals.append(self._seals[job_id][i])
    winner: bytes32 = empty(bytes32)
    agreeing: uint256 = 0
    for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
        if job.reveal_mask & (1 << i) == 0:
            continue
        votes: uint256 = 0
        for j: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
            if job.reveal_mask & (1 << j) != 0 and seals[j] == seals[i]:
                votes += 1
        if votes >= job.quorum:  # a strict majority: at most one digest can reach it
            winner = seals[i]
            agreeing = votes
            break

    if agreeing == 0:
        job.state = constants.FAILED
        self._store_core(job_id, job)
        for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
            extcall IStaking(STAKING).unlock_collateral(workers[i], job.collateral)
            bit: uint256 = 1 << i
            if job.reveal_mask & bit != 0:
                continue  # without a quorum nobody can tell a revealer wrong
            if job.commit_mask & bit != 0:
                self._slash(workers[i], wrong_slash, job_id, constants.REASON_WITHHELD)
            else:
                self._slash(workers[i], liveness_slash, job_id, constants.REASON_LIVENESS)
        self._send(FEE_TOKEN, job.requester, job.fee)
        log IJobRegistry.JobFailed(job_id=job_id, refunded=job.fee)
        return

    job.state = constants.COMPLETED
    self._store_core(job_id, job)
    protocol_fee: uint256 = job.fee * (terms & MASK16) // constants.BPS
    pool: uint256 = job.fee - protocol_fee
    share: uint256 = pool // agreeing
    # Work points are the burned protocol fee, split like the pool: an epoch's points then equal its burn
    # exactly, so emission (at most the burn) can never mint a self-dealer more than it burned.
    point_share: uint256 = protocol_fee // agreeing
    paid_workers: DynArray[address, constants.MAX_REPLICAS] = []
    points: DynArray[uint256, constants.MAX_REPLICAS] = []
    for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
        worker: address = workers[i]
        bit: uint256 = 1 << i
        extcall IStaking(STAKING).unlock_collateral(worker, job.collateral)
        if job.reveal_mask & bit != 0 and seals[i] == winner:
            # the first agreeing worker also takes the rounding remainder, so the parts sum to the fee
            amount: uint256 = share
            earned: uint256 = point_share
            if len(paid_workers) == 0:
                amount += pool - share * agreeing
                earned += protocol_fee - point_share * agreeing
            paid_workers.append(worker)
            points.append(earned)
            self._send(FEE_TOKEN, worker, amount)
            log IJobRegistry.WorkerPaid(job_id=job_id, worker=worker, amount=amount)
        elif job.reveal_mask & bit != 0:
            self._slash(worker, wrong_slash, job_id, constants.REASON_WRONG_RESULT)
        elif job.commit_mask & bit != 0:
            self._slash(worker, wrong_slash, job_id, constants.REASON_WITHHELD)
        else:
            self._slash(worker, liveness_slash, job_id, constants.REASON_LIVENESS)
    if protocol_fee > 0:
        extcall IBurnableToken(FEE_TOKEN).burn(protocol_fee)
    extcall IRewardEmitter(EMITTER).record_work(paid_workers, points, protocol_fee)
    log IJobRegistry.JobCompleted(job_id=job_id, result_digest=winner, agreeing=agreeing, paid=pool,
                                  protocol_fee=protocol_fee)


@view
@internal
def _load(job_id: uint256) -> Job:
    core: uint256 = self._core[job_id]
    terms: uint256 = self._terms[job_id]
    claim_deadline: uint256 = (terms >> 192) & MASK40
    commit_deadline: uint256 = claim_deadline + (terms >> 232)
    return Job(
        requester=convert(core & MASK160, address),
        state=convert((core >> 160) & MASK8, uint8),
        replicas=(core >> 168) & MASK8,
        quorum=(core >> 176) & MASK8,
        claims=(core >> 184) & MASK8,
        commit_mask=(core >> 192) & MASK8,
        reveal_mask=(core >> 200) & MASK8,
        fee=terms & MASK96,
        collateral=(terms >> 96) & MASK96,
        claim_deadline=claim_deadline,
        commit_deadline=commit_deadline,
        reveal_deadline=commit_deadline + ((core >> 208) & MASK24),
        terms_version=core >> 232,
    )


@internal
def _store_core(job_id: uint256, job: Job):
    self._core[job_id] = (
        convert(job.requester, uint256)
        | (convert(job.state, uint256) << 160)
        | (job.replicas << 168)
        | (job.quorum << 176)
        | (job.claims << 184)
        | (job.commit_mask << 192)
        | (job.reveal_mask << 200)
        | ((job.reveal_deadline - job.commit_deadline) << 208)
        | (job.terms_version << 232)
    )


@view
@internal
def _reveal_open(job: Job) -> bool:
    if block.timestamp >= job.commit_deadline:
        return True
    claims_closed: bool = job.claims == job.replicas or block.timestamp >= job.claim_deadline
    return claims_closed and job.commit_mask == (1 << job.claims) - 1


@view
@internal
def _phase(job: Job) -> uint8:
    if job.state != constants.CLAIMED:
        return job.state
    if self._reveal_open(job):
        return constants.REVEALING
    if job.claims == job.replicas or block.timestamp >= job.claim_deadline:
        return constants.COMMITTING
    return constants.CLAIMED


@view
@internal
def _index_of(job_id: uint256, job: Job, worker: address) -> uint256:
    for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
        if self._claimants[job_id][i] == worker:
            return i
    raise "registry: caller did not claim this job"


@view
@internal
def _commitment(job_id: uint256, worker: address, result_digest: bytes32, result_cid: String[100],
                salt: bytes32) -> bytes32:
    return keccak256(abi_encode(chain.id, self, job_id, worker, result_digest, keccak256(result_cid), salt))


@pure
@internal
def _popcount(mask: uint256) -> uint256:
    count: uint256 = 0
    for i: uint256 in range(constants.MAX_REPLICAS):
        count += (mask >> i) & 1
    return count


@internal
def _close_unclaimed(job_id: uint256, job: Job, state: uint8):
    job.state = state
    self._store_core(job_id, job)
    self._send(FEE_TOKEN, job.requester, job.fee)


@internal
def _slash(worker: address, amount: uint256, job_id: uint256, reason: uint8):
    # no beneficiary: Staking burns the whole slash
    extcall IStaking(STAKING).slash(worker, amount, job_id, reason, empty(address))


@internal
def _send(token: address, to: address, amount: uint256):
    if amount > 0:
        assert extcall IBurnableToken(token).transfer(to, amount, default_return_value=True), \
            "registry: transfer failed"


@internal
def _set_protocol_fee_bps(new_value: uint256):
    assert new_value <= MAX_PROTOCOL_FEE_BPS, "registry: protocol_fee_bps out of bounds"
    self.protocol_fee_bps = new_value
    log IJobRegistry.ParameterChanged(name="protocol_fee_bps", value=new_value)


@internal
def _set_wrong_result_slash_bps(new_value: uint256):
    assert new_value >= MIN_WRONG_RESULT_SLASH_BPS and new_value <= constants.BPS, \
        "registry: wrong_result_slash_bps out of bounds"
    self.wrong_result_slash_bps = new_value
    log IJobRegistry.ParameterChanged(name="wrong_result_slash_bps", value=new_value)


@internal
def _set_liveness_slash_bps(new_value: uint256):
    assert new_value >= MIN_LIVENESS_SLASH_BPS and new_value <= MAX_LIVENESS_SLASH_BPS, \
        "registry: liveness_slash_bps out of bounds"
    self.liveness_slash_bps = new_value
    log IJobRegistry.ParameterChanged(name="liveness_slash_bps", value=new_value)


@internal
def _new_terms_version():
    version: uint256 = self.terms_version + 1
    assert version <= MASK24, "registry: too many terms versions"  # 24 bits in a job's core word
    self.terms_version = version
    self._terms_at[version] = (
        self.protocol_fee_bps | (self.wrong_result_slash_bps << 16) | (self.liveness_slash_bps << 32)
    )


@internal
def _set_min_fee(new_value: uint256):
    assert new_value >= 1 and new_value <= MAX_MIN_FEE, "registry: min_fee out of bounds"
    self.min_fee = new_value
    log IJobRegistry.ParameterChanged(name="min_fee", value=new_value)


@internal
def _set_min_collateral(new_value: uint256):
    assert new_value <= MAX_MIN_COLLATERAL, "registry: min_collateral out of bounds"
    self.min_collateral = new_value
    log IJobRegistry.ParameterChanged(name="min_collateral", value=new_value)
