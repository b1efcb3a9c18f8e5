# pragma version 0.4.3
# pragma nonreentrancy on
"""
@title JobRegistry
@custom:contract-name JobRegistry
@license GNU Affero General Public License v3.0 only
@notice The compute market: requesters post jobs with an escrowed fee; staked operators selected by stake
        claim them, commit to a result, reveal it, and are paid when `quorum` reveals agree. Disagreeing
        reveals escalate the job to fresh replicas; faults are slashed (via Staking) only at the end.
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
     triggers is burned, except that in a proven escalation Staking's `slash_reward_bps` of the faulty
     revealers' slashes pays the escalation rounds' agreeing workers (fresh replicas, never the round
     that disagreed): neither the requester nor a round's own majority profits from another's slash.
     Selection: an operator may claim once `selected_at(job, operator)` has passed: a ticket
     keccak256(seed, job, round, operator) (64 bits) below `replicas * selection_factor * stake / total`,
     a threshold that widens linearly to 16x by the claim deadline so small networks still fill. The
     seed is drawn from `block.prevrandao` when the round opens (at posting, or at escalation), so
     nobody knows it before then; a ticket is bound to the claimant, so a mempool watcher cannot take
     another's slot, and splitting a stake over identities buys no more expected slots than keeping it.
     Rounds: round 0 has the posted replicas. A round whose reveals disagree, or that has reveals but
     no quorum, escalates once its reveal deadline passes: a new round of `replicas + ESCALATION_STEP`
     fresh replicas (nobody who claimed an earlier round may claim again) and a majority quorum, with
     new windows and a new seed. The last round (no `MIN_ESCALATION_REPLICAS` slots left, or
     `MAX_ROUND`) decides: its majority's digest wins across every round; revealers of other digests
     are slashed at the wrong-result rate and half of it (Staking's `slash_reward_bps`) pays the
     escalation rounds' agreeing workers; nobody is slashed for a revealed result before then. If the
     last round has no quorum (a small network may not supply fresh replicas), a strict majority of all
     rounds' reveals that an escalation round's revealer confirmed completes the job unproven: its
     revealers are paid at most a round-0 replica's share (the rest is refunded) and no revealer is
     slashed; without one the job fails and the fee is refunded.
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
    constants.MAX_POSTED_REPLICAS,
    constants.MIN_ESCALATION_REPLICAS,
    constants.ESCALATION_STEP,
    constants.MAX_ROUND,
    constants.SELECTION_WIDENING,
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
MAX_AMOUNT: public(constant(uint256)) = 2**80 - 1  # fee and collateral are packed into 80 bits each
MIN_WINDOW: public(constant(uint256)) = 30  # seconds
MAX_WINDOW: public(constant(uint256)) = 86_400  # 1 day; Staking.MIN_UNBONDING_PERIOD covers 3 windows + 1 day

MAX_COLLATERAL_PER_FEE: public(constant(uint256)) = 100  # collateral <= 100 x fee: a job cannot bait stake

MAX_PROTOCOL_FEE_BPS: public(constant(uint256)) = 2_000
MIN_WRONG_RESULT_SLASH_BPS: public(constant(uint256)) = 1_000
MIN_LIVENESS_SLASH_BPS: public(constant(uint256)) = 500  # squatting a slot is never free
MAX_LIVENESS_SLASH_BPS: public(constant(uint256)) = 5_000
MAX_MIN_FEE: public(constant(uint256)) = 10**24
MAX_MIN_COLLATERAL: public(constant(uint256)) = 10**24
DEFAULT_SELECTION_FACTOR: public(constant(uint256)) = 2  # expected selected operators per replica at posting
MAX_SELECTION_FACTOR: public(constant(uint256)) = 64

# Word layouts (bit widths). core: requester 160 | state 4 | round 2 | first slot 4 | base replicas 4 |
# replicas 4 | quorum 4 | claims 4 | commit mask 8 | reveal mask 8 | terms version 16 | seed 38.
# terms: fee 80 | collateral 80 | claim deadline 40 | claim window 17 | commit window 17 | reveal window 17 |
# optimistic 1.
# A terms version packs protocol fee | wrong-result slash | liveness slash, 16 bits each.
MASK2: constant(uint256) = 2**2 - 1
MASK4: constant(uint256) = 2**4 - 1
MASK8: constant(uint256) = 2**8 - 1
MASK16: constant(uint256) = 2**16 - 1
MASK17: constant(uint256) = 2**17 - 1
MASK40: constant(uint256) = 2**40 - 1
MASK80: constant(uint256) = 2**80 - 1
MASK160: constant(uint256) = 2**160 - 1
SEED_SHIFT: constant(uint256) = 218  # the seed is the top 38 bits of the core word


# ---------------------------------------------------------------- types
struct Job:
    requester: address
    state: uint8
    round: uint256  # 0 as posted; each escalation adds one
    first: uint256  # claimant slot where the current round starts
    base: uint256  # round 0's slots: its posted replicas, then (from the first escalation) its claimants
    replicas: uint256  # of the current round
    quorum: uint256  # of the current round
    claims: uint256  # slots taken, every round together
    commit_mask: uint256  # bit i: claimant i committed
    reveal_mask: uint256  # bit i: claimant i revealed
    fee: uint256
    collateral: uint256
    claim_window: uint256
    commit_window: uint256
    reveal_window: uint256
    claim_deadline: uint256  # of the current round; the other two follow from the windows
    commit_deadline: uint256
    reveal_deadline: uint256
    terms_version: uint256  # the governance terms in force at posting
    seed: uint256  # the current round's selection seed
    optimistic: bool  # one replica whose result settles after a challenge window (`post_job_optimistic`)


struct Tally:
    winner: bytes32  # the digest with the round's quorum, if any
    agreeing: uint256  # the round's reveals of `winner`
    revealed: bool  # the round has at least one reveal
    disputed: bool  # the round has reveals but no quorum, or a reveal other than `winner`


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
# Expected selected operators per replica when a round opens (before widening).
selection_factor: public(uint256)


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
    self._set_selection_factor(DEFAULT_SELECTION_FACTOR)


# ---------------------------------------------------------------- external: requesters
@external
def post_job(spec_cid: String[100], spec_digest: bytes32, fee: uint256, replicas: uint256, quorum: uint256,
             collateral: uint256, claim_window: uint256, commit_window: uint256, reveal_window: uint256) -> uint256:
    """
    @notice Post a job and escrow its fee (approve this contract for `fee` first).
    @param spec_cid IPFS CID of the job spec (JSON).
    @param spec_digest sha256 of the spec bytes: workers check the spec against it.
    @param fee Paid to the agreeing workers, less the protocol fee. At least `min_fee`.
    @param replicas Workers that may claim, 1..MAX_POSTED_REPLICAS (the other slots are for escalation).
    @param quorum Agreeing reveals needed; a strict majority of `replicas`.
    @param collateral Stake each claimant locks; at least `min_collateral`, at most
           `MAX_COLLATERAL_PER_FEE` times the fee.
    @param claim_window Seconds from now during which workers may claim.
    @param commit_window Seconds after the claim deadline by which commitments are due.
    @param reveal_window Seconds after the commit deadline by which reveals are due.
    @return The new job id (ids start at 1).
    """
    return self._post(spec_cid, spec_digest, fee, replicas, quorum, collateral, claim_window, commit_window,
                      reveal_window, False)


@external
def post_job_optimistic(spec_cid: String[100], spec_digest: bytes32, fee: uint256, collateral: uint256,
                        claim_window: uint256, commit_window: uint256, challenge_window: uint256) -> uint256:
    """
    @notice Post an optimistic job (approve this contract for `fee` first): one worker runs it, and its
            revealed result settles only when `challenge_window` has passed without a `challenge`. A
            challenge escalates the job to fresh replicas, as a disagreeing round would.
    @param spec_cid IPFS CID of the job spec (JSON).
    @param spec_digest sha256 of the spec bytes.
    @param fee As for `post_job`.
    @param collateral As for `post_job`; a challenger locks the same.
    @param claim_window Seconds from now during which a worker may claim.
    @param commit_window Seconds after the claim deadline by which the commitment is due.
    @param challenge_window Seconds after the commit deadline by which the worker reveals; the result can
           be challenged until then, so it settles no earlier.
    @return The new job id.
    """
    return self._post(spec_cid, spec_digest, fee, 1, 1, collateral, claim_window, commit_window,
                      challenge_window, True)


@external
def challenge(job_id: uint256, result_digest: bytes32, result_cid: String[100]):
    """
    @notice Dispute an optimistic job's revealed result before its challenge window closes, naming the
            result you computed. You lock the job's collateral as a bond and become its second revealer;
            when the window closes the job escalates to fresh replicas, and whoever's result they do not
            confirm is slashed at the wrong-result rate (your bond if the original stands). Any operator
            that may claim jobs (registered, bonded, not jailed) may challenge; pausing does not stop it.
    @param job_id The optimistic job.
    @param result_digest sha256 of the result bytes you computed (must differ from the revealed one).
    @param result_cid IPFS CID of those bytes.
    """
    job: Job = self._load(job_id)
    assert job.optimistic, "registry: not an optimistic job"
    assert job.state == constants.CLAIMED and job.round == 0, "registry: job not in its first round"
    assert job.reveal_mask & 1 != 0, "registry: no result revealed yet"
    assert block.timestamp < job.reveal_deadline, "registry: challenge window closed"
    assert job.claims == 1, "registry: already challenged"
    assert self._claimants[job_id][0] != msg.sender, "registry: cannot challenge your own result"
    assert result_digest != empty(bytes32) and len(result_cid) > 0, "registry: empty result"
    assert result_digest != self._seals[job_id][0], "registry: the challenge names the revealed result"
    extcall IStaking(STAKING).lock_collateral(msg.sender, job.collateral)
    self._claimants[job_id][1] = msg.sender
    self._seals[job_id][1] = result_digest
    job.claims = 2
    job.commit_mask |= 2
    job.reveal_mask |= 2
    self._store_core(job_id, job)
    log IJobRegistry.JobClaimed(job_id=job_id, worker=msg.sender, index=1)
    log IJobRegistry.ResultChallenged(job_id=job_id, challenger=msg.sender, result_digest=result_digest,
                                      result_cid=result_cid)


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
    @notice Take one of the current round's replica slots, locking `collateral` of the caller's free stake.
            The caller must be selected (`selected_at` has passed) and must not have claimed an earlier round.
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
    index: uint256 = self._index_of(job_id, job, msg.sender)
    assert index >= job.first, "registry: claimed in an earlier round"
    self._commit(job_id, job, index, commitment)


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
            committer of the round has now revealed) and the round agrees: the last revealer saves a
            separate `finalize` transaction. A disagreeing round waits for its reveal deadline (`finalize`).
    @param job_id The job.
    @param result_digest sha256 of the canonical result bytes.
    @param result_cid IPFS CID of the result bytes, as committed.
    @param salt The salt used in the commitment.
    @return True if the job was settled (Completed or Failed), False if reveals are still owed or the round
            disagrees (it escalates at its reveal deadline).
    """
    job: Job = self._reveal(job_id, result_digest, result_cid, salt)
    mask: uint256 = self._round_mask(job)
    if job.reveal_mask & mask != job.commit_mask & mask:
        return False
    if job.optimistic and job.round == 0:
        return False  # the result can still be challenged until the window closes
    tally: Tally = self._tally(job_id, job)
    if tally.disputed and self._can_escalate(job):
        return False
    self._settle(job_id, job, tally)
    return True


@external
def finalize(job_id: uint256):
    """
    @notice Close the job's current round once every committer of it revealed or its reveal deadline
            passed: settle the job, or escalate it to a new round. Anyone. On a job already Completed or
            Failed (a second finalizer lost the race) it only logs `JobAlreadySettled`.
    @dev Terms are the job's (`job_terms`). A round whose revealers all agree, at least `quorum` of them,
         settles: Completed. A round with reveals that disagree or fall short of the quorum escalates
         (`JobEscalated`) once its reveal deadline passed, while slots and rounds remain; the last round
         settles on its own majority: Completed if it has one; else, in an escalated job, Completed
         unproven on a strict majority of all rounds' reveals that an escalation round confirmed (no
         revealer slashed; each paid at most a round-0 replica's share, the rest refunded); else Failed and
         the fee is refunded.
         On Completed the workers (every round) that revealed the winning digest share the fee less the
         protocol fee (burned) and earn work points; revealers of another digest are slashed at the
         wrong-result rate and jailed. Whatever the outcome, a claimant that committed and withheld its
         reveal is slashed at the wrong-result rate and jailed, one that never committed at the liveness
         rate. Slashes are burned, except that in an escalated job `slash_reward_bps` of the wrong-result
         and withheld slashes pays the escalation rounds' agreeing workers.
    @param job_id The job.
    """
    job: Job = self._load(job_id)
    if job.state == constants.COMPLETED or job.state == constants.FAILED:
        log IJobRegistry.JobAlreadySettled(job_id=job_id, phase=job.state)
        return
    assert job.state == constants.CLAIMED, "registry: job not in progress"
    assert self._reveal_open(job), "registry: reveal not open"
    mask: uint256 = self._round_mask(job)
    past_deadline: bool = block.timestamp >= job.reveal_deadline
    assert job.reveal_mask & mask == job.commit_mask & mask or past_deadline, "registry: reveals pending"
    assert past_deadline or not (job.optimistic and job.round == 0), \
        "registry: an optimistic result settles when its challenge window closes"
    tally: Tally = self._tally(job_id, job)
    if tally.disputed and self._can_escalate(job):
        assert past_deadline, "registry: reveals disagree; the round escalates at its reveal deadline"
        self._escalate(job_id, job)
        return
    self._settle(job_id, job, tally)


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


@external
def set_selection_factor(new_value: uint256):
    """
    @notice Set how many operators per replica a round selects when it opens (before widening): higher
            fills faster on a network with idle stake, lower makes a stake minority's majority rarer.
            Owner only, 1..MAX_SELECTION_FACTOR. Applies to claims from now on.
    @param new_value Operators per replica.
    """
    ownable._check_owner()
    self._set_selection_factor(new_value)


# ---------------------------------------------------------------- views
@view
@external
def get_job(job_id: uint256) -> IJobRegistry.JobView:
    """
    @notice A job's terms, current round (its replicas, quorum, counts and deadlines; `first_slot` is the
            round's first index in `claimants`) and current phase (0 if it does not exist).
    @param job_id The job.
    @return The job.
    """
    job: Job = self._load(job_id)
    mask: uint256 = self._round_mask(job)
    return IJobRegistry.JobView(
        requester=job.requester,
        phase=self._phase(job),
        fee=job.fee,
        collateral=job.collateral,
        replicas=job.replicas,
        quorum=job.quorum,
        claims=job.claims - job.first,
        commits=self._popcount(job.commit_mask & mask),
        reveals=self._popcount(job.reveal_mask & mask),
        claim_deadline=job.claim_deadline,
        commit_deadline=job.commit_deadline,
        reveal_deadline=job.reveal_deadline,
        round=job.round,
        first_slot=job.first,
    )


@view
@external
def claimants(job_id: uint256) -> DynArray[address, constants.MAX_REPLICAS]:
    """
    @notice The job's claimants in claim order, every round (see `get_job().first_slot`).
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
def selected_at(job_id: uint256, operator: address) -> uint256:
    """
    @notice When `operator` becomes selected for the job's current round: the earliest block timestamp at
            which its claim passes selection. Selection widens with time, so this is fixed for a round
            unless stakes change. A claim also needs the round open, a free slot and free stake.
    @param job_id The job.
    @param operator The operator.
    @return A timestamp; at or after the claim deadline means not in this round; max_value(uint256) for an
            operator with no bonded stake or an unknown job.
    """
    if job_id == 0 or job_id > self.job_count:
        return max_value(uint256)
    return self._selected_at(job_id, self._load(job_id), operator)


@view
@external
def is_optimistic(job_id: uint256) -> bool:
    """
    @notice Whether the job was posted with `post_job_optimistic` (one replica and a challenge window).
    @param job_id The job.
    @return True for an optimistic job.
    """
    return self._load(job_id).optimistic


@view
@external
def is_selected(job_id: uint256, operator: address) -> bool:
    """
    @notice Whether `operator` passes selection for the job's current round now (see `selected_at`).
    @param job_id The job.
    @param operator The operator.
    @return True when selected now and the round's claim window is open.
    """
    if job_id == 0 or job_id > self.job_count:
        return False
    job: Job = self._load(job_id)
    return block.timestamp < job.claim_deadline and block.timestamp >= self._selected_at(job_id, job, operator)


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
def _post(spec_cid: String[100], spec_digest: bytes32, fee: uint256, replicas: uint256, quorum: uint256,
          collateral: uint256, claim_window: uint256, commit_window: uint256, reveal_window: uint256,
          optimistic: bool) -> uint256:
    pausable._require_not_paused()
    assert len(spec_cid) > 0, "registry: empty spec cid"
    assert spec_digest != empty(bytes32), "registry: empty spec digest"
    assert fee >= self.min_fee and fee <= MAX_AMOUNT, "registry: fee out of bounds"
    assert replicas >= 1 and replicas <= constants.MAX_POSTED_REPLICAS, "registry: replicas out of bounds"
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
        round=0,
        first=0,
        base=replicas,
        replicas=replicas,
        quorum=quorum,
        claims=0,
        commit_mask=0,
        reveal_mask=0,
        fee=fee,
        collateral=collateral,
        claim_window=claim_window,
        commit_window=commit_window,
        reveal_window=reveal_window,
        claim_deadline=block.timestamp + claim_window,
        commit_deadline=block.timestamp + claim_window + commit_window,
        reveal_deadline=block.timestamp + claim_window + commit_window + reveal_window,
        terms_version=self.terms_version,
        seed=self._draw_seed(job_id, 0),
        optimistic=optimistic,
    )
    self._store_core(job_id, job)
    self._store_terms(job_id, job)
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



@internal
def _claim(job_id: uint256) -> Job:
    pausable._require_not_paused()
    job: Job = self._load(job_id)
    assert job.state == constants.OPEN or job.state == constants.CLAIMED, "registry: job not claimable"
    assert block.timestamp < job.claim_deadline, "registry: claim window closed"
    assert job.claims - job.first < job.replicas, "registry: all replicas claimed"
    for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
        assert self._claimants[job_id][i] != msg.sender, "registry: already claimed"
    assert block.timestamp >= self._selected_at(job_id, job, msg.sender), \
        "registry: not selected for this job yet (see selected_at)"
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
    assert index >= job.first, "registry: claimed in an earlier round"
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


@view
@internal
def _tally(job_id: uint256, job: Job) -> Tally:
    # the current round's vote: a digest with `quorum` reveals (a strict majority: at most one can), and
    # whether any reveal of the round differs from it
    mask: uint256 = self._round_mask(job) & job.reveal_mask
    tally: Tally = empty(Tally)
    if mask == 0:
        return tally
    tally.revealed = True
    for i: uint256 in range(job.first, job.claims, bound=constants.MAX_REPLICAS):
        if mask & (1 << i) == 0:
            continue
        seal: bytes32 = self._seals[job_id][i]
        votes: uint256 = 0
        for j: uint256 in range(job.first, job.claims, bound=constants.MAX_REPLICAS):
            if mask & (1 << j) != 0 and self._seals[job_id][j] == seal:
                votes += 1
        if votes >= job.quorum:
            tally.winner = seal
            tally.agreeing = votes
            break
    tally.disputed = tally.agreeing != self._popcount(mask)
    return tally


@view
@internal
def _tally_all(job_id: uint256, job: Job) -> Tally:
    # every round's reveals together: a digest revealed by a strict majority of them, if any
    tally: Tally = empty(Tally)
    revealed: uint256 = self._popcount(job.reveal_mask)
    tally.revealed = revealed > 0
    for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
        if job.reveal_mask & (1 << i) == 0:
            continue
        seal: bytes32 = self._seals[job_id][i]
        votes: uint256 = 0
        for j: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
            if job.reveal_mask & (1 << j) != 0 and self._seals[job_id][j] == seal:
                votes += 1
        if votes * 2 > revealed:
            tally.winner = seal
            tally.agreeing = votes
            break
    tally.disputed = tally.agreeing != revealed
    return tally


@view
@internal
def _backed_across_rounds(job_id: uint256, job: Job, digest: bytes32) -> bool:
    # whether a revealer of round 0 (slot < base) and one of an escalation round (slot >= base) revealed it
    first: bool = False
    later: bool = False
    for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
        if job.reveal_mask & (1 << i) != 0 and self._seals[job_id][i] == digest:
            if i < job.base:
                first = True
            else:
                later = True
    return first and later


@view
@internal
def _can_escalate(job: Job) -> bool:
    return job.round < constants.MAX_ROUND and constants.MAX_REPLICAS - job.claims >= constants.MIN_ESCALATION_REPLICAS


@internal
def _escalate(job_id: uint256, job: Job):
    # a fresh round: new slots after every earlier claimant, a larger majority quorum, new windows, new seed
    if job.round == 0 and not job.optimistic:
        # round 0 as it ran (it may not have filled): later slots are escalation slots. An optimistic job's
        # round 0 is its one worker: the challenger (slot 1) is the first escalation slot and shares the bounty
        job.base = job.claims
    job.round += 1
    job.first = job.claims
    job.replicas = min(job.replicas + constants.ESCALATION_STEP, constants.MAX_REPLICAS - job.claims)
    job.quorum = job.replicas // 2 + 1
    job.claim_deadline = block.timestamp + job.claim_window
    job.commit_deadline = job.claim_deadline + job.commit_window
    job.reveal_deadline = job.commit_deadline + job.reveal_window
    job.seed = self._draw_seed(job_id, job.round)
    self._store_core(job_id, job)
    self._store_terms(job_id, job)
    log IJobRegistry.JobEscalated(
        job_id=job_id,
        round=job.round,
        replicas=job.replicas,
        quorum=job.quorum,
        claim_deadline=job.claim_deadline,
        commit_deadline=job.commit_deadline,
        reveal_deadline=job.reveal_deadline,
    )


@internal
def _settle(job_id: uint256, job: Job, tally: Tally):
    # the job's end: the current round's winner (if it has a quorum) is the result across every round
    terms: uint256 = self._terms_at[job.terms_version]
    wrong_slash: uint256 = job.collateral * ((terms >> 16) & MASK16) // constants.BPS
    liveness_slash: uint256 = job.collateral * ((terms >> 32) & MASK16) // constants.BPS
    workers: DynArray[address, constants.MAX_REPLICAS] = []
    seals: DynArray[bytes32, constants.MAX_REPLICAS] = []
    for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
        workers.append(self._claimants[job_id][i])
        seals.append(self._seals[job_id][i])
    # The final round proves a result only with its own quorum. When it has none (on a small network the
    # fresh replicas may not come), a strict majority of every round's reveals, backed by a revealer of round
    # 0 and one of a later round, completes the job unproven: nobody is slashed for revealing another digest,
    # only round 0's agreeing revealers are paid, each at most an honest round-0 replica's share, and the
    # rest goes back to the requester; so outvoting round 0, starving the escalation and confirming there
    # with more identities gains nothing.
    proven: bool = True
    if tally.agreeing == 0 and job.round > 0:
        tally = self._tally_all(job_id, job)
        proven = False
        if not self._backed_across_rounds(job_id, job, tally.winner):
            tally = empty(Tally)
    # an escalated, proven job pays the escalation rounds from the faulty workers' slashes; else all is burned
    bounty_to: address = empty(address)
    if job.round > 0 and proven:
        bounty_to = self

    if tally.agreeing == 0:
        job.state = constants.FAILED
        self._store_core(job_id, job)
        for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
            extcall IStaking(STAKING).unlock_collateral(workers[i], job.collateral)
            bit: uint256 = 1 << i
            if job.reveal_mask & bit != 0:
                continue  # without a final quorum nobody can tell a revealer wrong
            if job.commit_mask & bit != 0:
                self._slash(workers[i], wrong_slash, job_id, constants.REASON_WITHHELD, empty(address))
            else:
                self._slash(workers[i], liveness_slash, job_id, constants.REASON_LIVENESS, empty(address))
        self._send(FEE_TOKEN, job.requester, job.fee)
        log IJobRegistry.JobFailed(job_id=job_id, refunded=job.fee)
        return

    winner: bytes32 = tally.winner
    agreeing: uint256 = 0
    escalation_agreeing: uint256 = 0
    for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
        if job.reveal_mask & (1 << i) != 0 and seals[i] == winner:
            agreeing += 1
            if i >= job.base:
                escalation_agreeing += 1

    job.state = constants.COMPLETED
    self._store_core(job_id, job)
    # faults first: in an escalated job their reward share funds the escalation rounds' agreeing workers
    bounty: uint256 = 0
    for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
        worker: address = workers[i]
        bit: uint256 = 1 << i
        extcall IStaking(STAKING).unlock_collateral(worker, job.collateral)
        if job.reveal_mask & bit != 0 and seals[i] == winner:
            continue
        if job.reveal_mask & bit != 0:
            if proven:
                bounty += self._slash(worker, wrong_slash, job_id, constants.REASON_WRONG_RESULT, bounty_to)
        elif job.commit_mask & bit != 0:
            bounty += self._slash(worker, wrong_slash, job_id, constants.REASON_WITHHELD, bounty_to)
        else:
            self._slash(worker, liveness_slash, job_id, constants.REASON_LIVENESS, empty(address))

    protocol_fee: uint256 = job.fee * (terms & MASK16) // constants.BPS
    pool: uint256 = job.fee - protocol_fee
    payees: uint256 = agreeing
    share: uint256 = pool // agreeing
    refund: uint256 = 0
    if not proven:  # round 0's agreeing revealers only (the backing above makes them > 0), capped
        payees = agreeing - escalation_agreeing
        share = min(pool // payees, pool // job.base)
        refund = pool - share * payees
    # Work points are the burned protocol fee, split like the pool: an epoch's points then equal its burn
    # exactly, so emission (at most the burn) can never mint a self-dealer more than it burned.
    point_share: uint256 = protocol_fee // payees
    bounty_share: uint256 = 0
    if escalation_agreeing > 0:
        bounty_share = bounty // escalation_agreeing
    paid_workers: DynArray[address, constants.MAX_REPLICAS] = []
    points: DynArray[uint256, constants.MAX_REPLICAS] = []
    bounty_paid: bool = False
    for i: uint256 in range(job.claims, bound=constants.MAX_REPLICAS):
        if job.reveal_mask & (1 << i) == 0 or seals[i] != winner or (not proven and i >= job.base):
            continue
        # the first paid worker also takes the rounding remainders, so the parts sum exactly
        amount: uint256 = share
        earned: uint256 = point_share
        if len(paid_workers) == 0:
            amount += pool - share * payees - refund
            earned += protocol_fee - point_share * payees
        if i >= job.base:
            amount += bounty_share
            if not bounty_paid:
                amount += bounty - bounty_share * escalation_agreeing
                bounty_paid = True
        paid_workers.append(workers[i])
        points.append(earned)
        self._send(FEE_TOKEN, workers[i], amount)
        log IJobRegistry.WorkerPaid(job_id=job_id, worker=workers[i], amount=amount)
    self._send(FEE_TOKEN, job.requester, refund)
    if protocol_fee > 0:
        extcall IBurnableToken(FEE_TOKEN).burn(protocol_fee)
    extcall IRewardEmitter(EMITTER).record_work(paid_workers, points, protocol_fee)
    log IJobRegistry.JobCompleted(job_id=job_id, result_digest=winner, agreeing=agreeing, paid=pool - refund,
                                  protocol_fee=protocol_fee)


@view
@internal
def _load(job_id: uint256) -> Job:
    core: uint256 = self._core[job_id]
    terms: uint256 = self._terms[job_id]
    claim_deadline: uint256 = (terms >> 160) & MASK40
    commit_window: uint256 = (terms >> 217) & MASK17
    reveal_window: uint256 = (terms >> 234) & MASK17
    return Job(
        requester=convert(core & MASK160, address),
        state=convert((core >> 160) & MASK4, uint8),
        round=(core >> 164) & MASK2,
        first=(core >> 166) & MASK4,
        base=(core >> 170) & MASK4,
        replicas=(core >> 174) & MASK4,
        quorum=(core >> 178) & MASK4,
        claims=(core >> 182) & MASK4,
        commit_mask=(core >> 186) & MASK8,
        reveal_mask=(core >> 194) & MASK8,
        fee=terms & MASK80,
        collateral=(terms >> 80) & MASK80,
        claim_window=(terms >> 200) & MASK17,
        commit_window=commit_window,
        reveal_window=reveal_window,
        claim_deadline=claim_deadline,
        commit_deadline=claim_deadline + commit_window,
        reveal_deadline=claim_deadline + commit_window + reveal_window,
        terms_version=(core >> 202) & MASK16,
        seed=core >> SEED_SHIFT,
        optimistic=(terms >> 251) & 1 == 1,
    )


@internal
def _store_core(job_id: uint256, job: Job):
    self._core[job_id] = (
        convert(job.requester, uint256)
        | (convert(job.state, uint256) << 160)
        | (job.round << 164)
        | (job.first << 166)
        | (job.base << 170)
        | (job.replicas << 174)
        | (job.quorum << 178)
        | (job.claims << 182)
        | (job.commit_mask << 186)
        | (job.reveal_mask << 194)
        | (job.terms_version << 202)
        | (job.seed << SEED_SHIFT)
    )


@internal
def _store_terms(job_id: uint256, job: Job):
    self._terms[job_id] = (
        job.fee
        | (job.collateral << 80)
        | (job.claim_deadline << 160)
        | (job.claim_window << 200)
        | (job.commit_window << 217)
        | (job.reveal_window << 234)
        | (convert(job.optimistic, uint256) << 251)
    )


@view
@internal
def _draw_seed(job_id: uint256, round: uint256) -> uint256:
    # unknown to anyone but the block's proposer before the round opens; 38 bits fit the core word
    return convert(keccak256(abi_encode(block.prevrandao, job_id, round)), uint256) >> SEED_SHIFT


@view
@internal
def _selected_at(job_id: uint256, job: Job, operator: address) -> uint256:
    # Selected at time t when ticket * total * window < k * stake * 2^64 * (window + WIDENING * (t - opened)),
    # ticket a 64-bit hash, k = replicas * selection_factor: probability k * stake / total at opening.
    stake: uint256 = 0
    total: uint256 = 0
    stake, total = staticcall IStaking(STAKING).stake_share(operator)
    if stake == 0:
        return max_value(uint256)
    ticket: uint256 = convert(keccak256(abi_encode(job.seed, job_id, job.round, operator)), uint256) >> 192
    opened: uint256 = job.claim_deadline - job.claim_window
    need: uint256 = ticket * total * job.claim_window
    have: uint256 = (job.replicas * self.selection_factor * stake) << 64
    if have * job.claim_window > need:
        return opened
    return opened + (need - have * job.claim_window) // (have * constants.SELECTION_WIDENING) + 1


@pure
@internal
def _round_mask(job: Job) -> uint256:
    # the slots claimed in the current round
    return ((1 << job.claims) - 1) ^ ((1 << job.first) - 1)


@view
@internal
def _reveal_open(job: Job) -> bool:
    if block.timestamp >= job.commit_deadline:
        return True
    mask: uint256 = self._round_mask(job)
    claims_closed: bool = job.claims - job.first == job.replicas or block.timestamp >= job.claim_deadline
    return claims_closed and job.commit_mask & mask == mask


@view
@internal
def _phase(job: Job) -> uint8:
    if job.state != constants.CLAIMED:
        return job.state
    if self._reveal_open(job):
        return constants.REVEALING
    if job.claims - job.first == job.replicas or block.timestamp >= job.claim_deadline:
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
def _slash(worker: address, amount: uint256, job_id: uint256, reason: uint8, beneficiary: address) -> uint256:
    # no beneficiary: Staking burns the whole slash; else it sends `slash_reward_bps` of it there
    return extcall IStaking(STAKING).slash(worker, amount, job_id, reason, beneficiary)


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
    assert version <= MASK16, "registry: too many terms versions"  # 16 bits in a job's core word
    self.terms_version = version
    self._terms_at[version] = (
        self.protocol_fee_bps | (self.wrong_result_slash_bps << 16) | (self.liveness_slash_bps << 32)
    )


@internal
def _set_selection_factor(new_value: uint256):
    assert new_value >= 1 and new_value <= MAX_SELECTION_FACTOR, "registry: selection_factor out of bounds"
    self.selection_factor = new_value
    log IJobRegistry.ParameterChanged(name="selection_factor", value=new_value)


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
