// Everything the pages show that only events tell: every log of Staking, JobRegistry and RewardEmitter
// since the deployment block, decoded with the typed ABIs and folded into jobs and operators. After the
// first catch-up (in ranges of RANGE blocks) it polls for new blocks and tells its listeners, so new jobs
// and state changes appear without a reload.

import {
  decodeEventLog,
  type Address,
  type Hash,
  type Log,
  type PublicClient,
} from "viem";
import { jobRegistryAbi, rewardEmitterAbi, stakingAbi } from "../../abi/index.ts";
import type { Config } from "./config.ts";
import type { Head } from "./chain.ts";

const RANGE = 5_000n;

export interface Step {
  txHash: Hash;
  blockNumber: bigint;
  logIndex: number;
}

export interface Replica {
  worker: Address;
  index: number;
  claimed: Step;
  commitment?: Hash;
  committed?: Step;
  resultDigest?: Hash;
  resultCid?: string;
  revealed?: Step;
  paid?: bigint;
  slashed: { reason: number; amount: bigint }[];
  /** The round it claimed: 0 as posted, each `JobEscalated` opens the next. */
  round: number;
}

/** A `JobEscalated` event: the job's disputed round closed and `round` opened with fresh replicas. */
export interface Escalation {
  round: number;
  replicas: bigint;
  quorum: bigint;
  claimDeadline: bigint;
  commitDeadline: bigint;
  revealDeadline: bigint;
  step: Step;
}

export type Outcome =
  | { kind: "Completed"; resultDigest: Hash; agreeing: bigint; paid: bigint; protocolFee: bigint; step: Step }
  | { kind: "Failed" | "Cancelled" | "Expired"; refunded: bigint; step: Step };

export interface JobRecord {
  id: bigint;
  requester: Address;
  specCid: string;
  specDigest: Hash;
  fee: bigint;
  replicas: bigint;
  quorum: bigint;
  collateral: bigint;
  claimDeadline: bigint;
  commitDeadline: bigint;
  revealDeadline: bigint;
  posted: Step;
  replicasList: Replica[];
  /** Escalations in order; empty for a job settled in its first round. */
  escalations: Escalation[];
  outcome?: Outcome;
}

export interface OperatorRecord {
  address: Address;
  metadataCid: string;
  registered?: Step;
  jobsCompleted: number;
  feesEarned: bigint;
  emissionClaimed: bigint;
  slashes: { jobId: bigint; reason: number; amount: bigint; burned: bigint }[];
  jailedUntil: bigint;
}

export interface Totals {
  protocolFeesBurned: bigint;
  slashedBurned: bigint;
  emissionClaimed: bigint;
}

type Listener = () => void;

export class Indexer {
  readonly jobs = new Map<bigint, JobRecord>();
  readonly operators = new Map<Address, OperatorRecord>();
  readonly totals: Totals = { protocolFeesBurned: 0n, slashedBurned: 0n, emissionClaimed: 0n };
  head: Head | null = null;
  synced = false;
  error: string | null = null;
  private next: bigint;
  private listeners = new Set<Listener>();
  private timer: number | undefined;
  private readonly abiOf: Map<string, typeof stakingAbi | typeof jobRegistryAbi | typeof rewardEmitterAbi>;

  constructor(private readonly config: Config, private readonly client: PublicClient) {
    const c = config.manifest.contracts;
    this.next = BigInt(config.manifest.deployment_block);
    this.abiOf = new Map<string, typeof stakingAbi | typeof jobRegistryAbi | typeof rewardEmitterAbi>([
      [c.Staking.address.toLowerCase(), stakingAbi],
      [c.JobRegistry.address.toLowerCase(), jobRegistryAbi],
      [c.RewardEmitter.address.toLowerCase(), rewardEmitterAbi],
    ]);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    await this.poll();
    const tick = async () => {
      await this.poll();
      this.timer = window.setTimeout(tick, this.config.pollIntervalMs);
    };
    this.timer = window.setTimeout(tick, this.config.pollIntervalMs);
  }

  stop(): void {
    window.clearTimeout(this.timer);
  }

  /** Fetch new blocks' logs; tell listeners when the head moved or anything changed. */
  async poll(): Promise<void> {
    try {
      const block = await this.client.getBlock({ blockTag: "latest" });
      const headChanged = this.head?.number !== block.number || this.head?.timestamp !== block.timestamp;
      let changed = false;
      const latest = block.number;
      while (this.next <= latest) {
        const to = this.next + RANGE - 1n < latest ? this.next + RANGE - 1n : latest;
        const logs = await this.client.getLogs({
          address: [...this.abiOf.keys()] as Address[],
          fromBlock: this.next,
          toBlock: to,
        });
        for (const log of logs) changed = this.apply(log) || changed;
        this.next = to + 1n;
      }
      this.head = { number: block.number, timestamp: block.timestamp };
      const wasError = this.error !== null;
      this.error = null;
      if (changed || headChanged || !this.synced || wasError) {
        this.synced = true;
        this.emit();
      }
    } catch (err) {
      const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
      const first = this.error === null;
      this.error = `Cannot read the chain at ${this.config.rpcUrl}: ${message}`;
      if (first) this.emit();
    }
  }

  /** Tell listeners to render again (something outside the chain, such as an IPFS fetch, finished). */
  poke(): void {
    this.emit();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }

  private apply(log: Log): boolean {
    const abi = this.abiOf.get(log.address.toLowerCase());
    if (!abi || log.blockNumber === null || log.transactionHash === null || log.logIndex === null) return false;
    let decoded;
    try {
      decoded = decodeEventLog({ abi, data: log.data, topics: log.topics });
    } catch {
      return false; // an event this build does not know (a newer contract); ignore it
    }
    const step: Step = { txHash: log.transactionHash, blockNumber: log.blockNumber, logIndex: log.logIndex };
    // the switch narrows by event name; fields are read by their ABI names
    const a = decoded.args as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    switch (decoded.eventName) {
      case "JobPosted": {
        const id = a.job_id as bigint;
        this.jobs.set(id, {
          id,
          requester: a.requester,
          specCid: a.spec_cid,
          specDigest: a.spec_digest,
          fee: a.fee,
          replicas: a.replicas,
          quorum: a.quorum,
          collateral: a.collateral,
          claimDeadline: a.claim_deadline,
          commitDeadline: a.commit_deadline,
          revealDeadline: a.reveal_deadline,
          posted: step,
          replicasList: [],
          escalations: [],
        });
        return true;
      }
      case "JobClaimed": {
        const job = this.jobs.get(a.job_id);
        job?.replicasList.push({
          worker: a.worker, index: Number(a.index), claimed: step, slashed: [], round: job.escalations.length,
        });
        return true;
      }
      case "JobEscalated": {
        const job = this.jobs.get(a.job_id);
        job?.escalations.push({
          round: Number(a.round), replicas: a.replicas, quorum: a.quorum, claimDeadline: a.claim_deadline,
          commitDeadline: a.commit_deadline, revealDeadline: a.reveal_deadline, step,
        });
        return true;
      }
      case "ResultCommitted": {
        const replica = this.replica(a.job_id, a.worker);
        if (replica) Object.assign(replica, { commitment: a.commitment, committed: step });
        return true;
      }
      case "ResultRevealed": {
        const replica = this.replica(a.job_id, a.worker);
        if (replica) Object.assign(replica, { resultDigest: a.result_digest, resultCid: a.result_cid, revealed: step });
        return true;
      }
      case "WorkerPaid": {
        const replica = this.replica(a.job_id, a.worker);
        if (replica) replica.paid = a.amount;
        const op = this.operator(a.worker);
        op.jobsCompleted += 1;
        op.feesEarned += a.amount as bigint;
        return true;
      }
      case "JobCompleted": {
        const job = this.jobs.get(a.job_id);
        if (job) {
          job.outcome = {
            kind: "Completed",
            resultDigest: a.result_digest,
            agreeing: a.agreeing,
            paid: a.paid,
            protocolFee: a.protocol_fee,
            step,
          };
        }
        this.totals.protocolFeesBurned += a.protocol_fee as bigint;
        return true;
      }
      case "JobFailed":
      case "JobCancelled":
      case "JobExpired": {
        const job = this.jobs.get(a.job_id);
        const kind = decoded.eventName.slice(3) as "Failed" | "Cancelled" | "Expired";
        if (job) job.outcome = { kind, refunded: a.refunded, step };
        return true;
      }
      case "OperatorRegistered": {
        const op = this.operator(a.operator);
        op.metadataCid = a.metadata_cid;
        op.registered = step;
        return true;
      }
      case "OperatorSlashed": {
        const op = this.operator(a.operator);
        op.slashes.push({ jobId: a.job_id, reason: Number(a.reason), amount: a.amount, burned: a.burned });
        this.totals.slashedBurned += a.burned as bigint;
        const replica = this.replica(a.job_id, a.operator);
        replica?.slashed.push({ reason: Number(a.reason), amount: a.amount });
        return true;
      }
      case "OperatorJailed": {
        this.operator(a.operator).jailedUntil = a.until;
        return true;
      }
      case "EmissionClaimed": {
        this.operator(a.operator).emissionClaimed += a.amount as bigint;
        this.totals.emissionClaimed += a.amount as bigint;
        return true;
      }
      case "Staked": {
        this.operator(a.operator);
        return true;
      }
      default:
        return true; // parameters, unbonding, collateral: read live from views where shown
    }
  }

  private replica(jobId: bigint, worker: Address): Replica | undefined {
    return this.jobs.get(jobId)?.replicasList.find((r) => r.worker === worker);
  }

  private operator(address: Address): OperatorRecord {
    let op = this.operators.get(address);
    if (!op) {
      op = {
        address,
        metadataCid: "",
        jobsCompleted: 0,
        feesEarned: 0n,
        emissionClaimed: 0n,
        slashes: [],
        jailedUntil: 0n,
      };
      this.operators.set(address, op);
    }
    return op;
  }

  /** Jobs newest first. */
  jobList(): JobRecord[] {
    return [...this.jobs.values()].sort((x, y) => (x.id < y.id ? 1 : -1));
  }
}
