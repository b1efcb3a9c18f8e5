// The chain as the dashboard sees it: one viem public client (JSON-RPC requests batched), the deployment's
// contracts with their typed ABIs, and the reads the pages share.

import {
  createPublicClient,
  defineChain,
  getContract,
  http,
  type Address,
  type Chain,
  type PublicClient,
} from "viem";
import {
  jobRegistryAbi,
  rewardEmitterAbi,
  stakingAbi,
  tesseraTokenAbi,
} from "../../abi/index.ts";
import type { Config } from "./config.ts";

export const LOCAL_CHAIN_ID = 1337;

export const PHASES = [
  "Unknown",
  "Open",
  "Claimed",
  "Committing",
  "Revealing",
  "Completed",
  "Failed",
  "Cancelled",
  "Expired",
] as const;
export type PhaseName = (typeof PHASES)[number];
export const TERMINAL = new Set<PhaseName>(["Completed", "Failed", "Cancelled", "Expired"]);

export function chainFor(config: Config): Chain {
  const id = config.manifest.chain_id;
  return defineChain({
    id,
    name: id === LOCAL_CHAIN_ID ? "Local (anvil)" : config.manifest.network,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
  });
}

export function makeClient(config: Config): PublicClient {
  return createPublicClient({
    chain: chainFor(config),
    transport: http(config.rpcUrl, { batch: { batchSize: 200, wait: 16 }, retryCount: 1, timeout: 15_000 }),
  }) as PublicClient;
}

export function contracts(config: Config, client: PublicClient) {
  const c = config.manifest.contracts;
  return {
    token: getContract({ address: c.TesseraToken.address, abi: tesseraTokenAbi, client }),
    staking: getContract({ address: c.Staking.address, abi: stakingAbi, client }),
    registry: getContract({ address: c.JobRegistry.address, abi: jobRegistryAbi, client }),
    emitter: getContract({ address: c.RewardEmitter.address, abi: rewardEmitterAbi, client }),
  };
}
export type Contracts = ReturnType<typeof contracts>;

export interface Head {
  number: bigint;
  timestamp: bigint;
}

export interface JobView {
  requester: Address;
  phase: PhaseName;
  fee: bigint;
  collateral: bigint;
  replicas: bigint;
  quorum: bigint;
  claims: bigint;
  commits: bigint;
  reveals: bigint;
  claim_deadline: bigint;
  commit_deadline: bigint;
  reveal_deadline: bigint;
  /** 0 as posted; each escalation adds one. Replicas, quorum, counts and deadlines are this round's. */
  round: bigint;
  /** Index in `claimants(job)` where the current round starts. */
  first_slot: bigint;
}

export async function getJob(c: Contracts, jobId: bigint): Promise<JobView> {
  const view = await c.registry.read.get_job([jobId]);
  return { ...view, phase: PHASES[view.phase] ?? "Unknown" };
}

/** The live protocol parameters (governance may change them after deployment). */
export async function readParameters(c: Contracts) {
  const [
    minStake, unbondingPeriod, jailPeriod, slashRewardBps,
    protocolFeeBps, wrongResultSlashBps, livenessSlashBps, minFee, minCollateral,
    epochLength, initialEmission, halvingEpochs, genesis, paused,
  ] = await Promise.all([
    c.staking.read.min_stake(),
    c.staking.read.unbonding_period(),
    c.staking.read.jail_period(),
    c.staking.read.slash_reward_bps(),
    c.registry.read.protocol_fee_bps(),
    c.registry.read.wrong_result_slash_bps(),
    c.registry.read.liveness_slash_bps(),
    c.registry.read.min_fee(),
    c.registry.read.min_collateral(),
    c.emitter.read.EPOCH_LENGTH(),
    c.emitter.read.INITIAL_EMISSION(),
    c.emitter.read.HALVING_EPOCHS(),
    c.emitter.read.GENESIS(),
    c.registry.read.paused(),
  ]);
  return {
    minStake, unbondingPeriod, jailPeriod, slashRewardBps,
    protocolFeeBps, wrongResultSlashBps, livenessSlashBps, minFee, minCollateral,
    epochLength, initialEmission, halvingEpochs, genesis, paused,
  };
}
export type Parameters = Awaited<ReturnType<typeof readParameters>>;
