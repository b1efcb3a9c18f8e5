// A dApp's use of the Tessera frontend kit, as docs/FRONTEND.md walks through it: post a job, watch it,
// read its result. Type-checked with the dashboard (`npm run typecheck` in frontend/); viem is the only
// runtime dependency, the ABIs come from abi/index.ts (`make abi`), addresses from deployments/<id>.json.

import {
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  http,
  parseEventLogs,
  parseUnits,
  sha256,
  type Address,
  type EIP1193Provider,
  type Hash,
} from "viem";
import { jobRegistryAbi, jobRegistryConstants, tesseraTokenAbi } from "../../abi/index.ts";

// --- 1. the deployment: addresses and chain from the manifest the deploy script wrote
interface Manifest {
  chain_id: number;
  deployment_block: number;
  contracts: Record<"TesseraToken" | "JobRegistry" | "Staking" | "RewardEmitter", { address: Address }>;
}

export async function connect(manifestUrl: string, rpcUrl: string, provider: EIP1193Provider) {
  const manifest = (await (await fetch(manifestUrl)).json()) as Manifest;
  const chain = defineChain({
    id: manifest.chain_id,
    name: `chain ${manifest.chain_id}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl) });
  const [account] = await createWalletClient({ chain, transport: custom(provider) }).requestAddresses();
  const walletClient = createWalletClient({ account, chain, transport: custom(provider) });
  return {
    manifest,
    publicClient,
    walletClient,
    account,
    registry: manifest.contracts.JobRegistry.address,
    token: manifest.contracts.TesseraToken.address,
  };
}
type Tessera = Awaited<ReturnType<typeof connect>>;

// --- 2. post a job: spec on IPFS, its sha256 on chain, the fee escrowed
export async function postJob(t: Tessera, spec: object, ipfsApi: string, feeTsr: string): Promise<bigint> {
  const bytes = new TextEncoder().encode(JSON.stringify(spec));
  const form = new FormData();
  form.append("file", new Blob([bytes]), "spec.json");
  const added = await fetch(`${ipfsApi}/api/v0/add?pin=true`, { method: "POST", body: form });
  const specCid = ((await added.json()) as { Hash: string }).Hash;
  const specDigest = sha256(bytes); // workers refuse a spec whose bytes do not hash to this

  const fee = parseUnits(feeTsr, 18);
  const approve = await t.walletClient.writeContract({
    address: t.token,
    abi: tesseraTokenAbi,
    functionName: "approve",
    args: [t.registry, fee],
  });
  await t.publicClient.waitForTransactionReceipt({ hash: approve });

  // simulate first: a revert ("registry: fee out of bounds", ...) surfaces here, before any signature
  const { request } = await t.publicClient.simulateContract({
    account: t.account,
    address: t.registry,
    abi: jobRegistryAbi,
    functionName: "post_job",
    //      spec CID, digest,   fee, replicas, quorum, collateral,         claim, commit, reveal windows (s)
    args: [specCid, specDigest, fee, 3n, 2n, parseUnits("10", 18), 300n, 300n, 300n],
  });
  const hash = await t.walletClient.writeContract(request);
  const receipt = await t.publicClient.waitForTransactionReceipt({ hash });
  const [posted] = parseEventLogs({ abi: jobRegistryAbi, eventName: "JobPosted", logs: receipt.logs });
  return posted.args.job_id;
}

// --- 3. watch it: events filtered by the indexed job id, and the phase from get_job
const PHASES = ["Unknown", "Open", "Claimed", "Committing", "Revealing", "Completed", "Failed", "Cancelled", "Expired"];

export function watchJob(t: Tessera, jobId: bigint, onChange: (phase: string, note: string) => void): () => void {
  const refresh = async (note: string) => {
    const view = await t.publicClient.readContract({ address: t.registry, abi: jobRegistryAbi, functionName: "get_job", args: [jobId] });
    onChange(PHASES[view.phase], note);
  };
  // Without an eventName viem delivers every JobRegistry event (its `args` filter needs one): keep this job's.
  return t.publicClient.watchContractEvent({
    address: t.registry,
    abi: jobRegistryAbi,
    onLogs: (logs) => {
      for (const log of logs) {
        if ((log.args as { job_id?: bigint }).job_id === jobId) void refresh(`${log.eventName} in block ${log.blockNumber}`);
      }
    },
  });
}

// --- 4. read the result: the agreed digest from JobCompleted, its CID from the matching reveal
export async function readResult(t: Tessera, jobId: bigint, gateway: string): Promise<Uint8Array | null> {
  const fromBlock = BigInt(t.manifest.deployment_block);
  const [completed] = await t.publicClient.getContractEvents({
    address: t.registry, abi: jobRegistryAbi, eventName: "JobCompleted", args: { job_id: jobId }, fromBlock,
  });
  if (!completed) return null; // not settled yet, or Failed (the fee was refunded)
  const reveals = await t.publicClient.getContractEvents({
    address: t.registry, abi: jobRegistryAbi, eventName: "ResultRevealed", args: { job_id: jobId }, fromBlock,
  });
  const agreed: Hash = completed.args.result_digest!;
  const reveal = reveals.find((r) => r.args.result_digest === agreed)!;
  const bytes = new Uint8Array(await (await fetch(`${gateway}/ipfs/${reveal.args.result_cid}`)).arrayBuffer());
  if (sha256(bytes) !== agreed) throw new Error("the gateway served other bytes than the workers agreed on");
  return bytes; // canonical safetensors
}

// bounds a form can check before asking for a signature
export const bounds = {
  maxReplicas: jobRegistryConstants.MAX_REPLICAS,
  minWindow: jobRegistryConstants.MIN_WINDOW,
  maxWindow: jobRegistryConstants.MAX_WINDOW,
};
