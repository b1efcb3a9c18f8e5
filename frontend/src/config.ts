// What the page needs before anything else: the server's /config.json, the deployment manifest, and the
// user's overrides (another RPC or gateway, kept in localStorage; `?rpc=` and `?gateway=` set them too).

import { getAddress, type Address } from "viem";
import { abis, type ContractName } from "../../abi/index.ts";

export interface ServerConfig {
  rpc_url: string;
  chain_id: number | null;
  manifest_url: string;
  gateway_url: string | null;
  ipfs_api_url: string | null;
  poll_interval_ms: number;
}

export interface ContractRecord {
  address: Address;
  abi: readonly { type: string; name?: string }[];
  block: number;
  tx_hash: string;
}

export interface Manifest {
  schema_version: 1;
  chain_id: number;
  network: string;
  deployer: Address;
  deployment_block: number;
  deployed_at: string;
  compiler: string;
  parameters: Record<string, number | string>;
  contracts: Record<ContractName, ContractRecord>;
}

export interface Config {
  rpcUrl: string;
  gatewayUrl: string | null;
  ipfsApiUrl: string | null;
  pollIntervalMs: number;
  manifest: Manifest;
  server: ServerConfig;
}

const OVERRIDES_KEY = "tessera.overrides";

export interface Overrides {
  rpc_url?: string;
  gateway_url?: string;
  ipfs_api_url?: string;
}

export function readOverrides(): Overrides {
  try {
    const raw = localStorage.getItem(OVERRIDES_KEY);
    return raw ? (JSON.parse(raw) as Overrides) : {};
  } catch {
    return {};
  }
}

export function saveOverrides(overrides: Overrides): void {
  const clean = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v && String(v).trim()));
  if (Object.keys(clean).length === 0) localStorage.removeItem(OVERRIDES_KEY);
  else localStorage.setItem(OVERRIDES_KEY, JSON.stringify(clean));
}

export class ConfigProblem extends Error {}

async function getJson<T>(url: string, what: string): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch {
    throw new ConfigProblem(`Could not reach ${url} for ${what}. Is \`tessera dashboard\` still running?`);
  }
  if (!response.ok) {
    const detail = (await response.text()).slice(0, 300);
    throw new ConfigProblem(`${what}: HTTP ${response.status} from ${url}. ${detail}`);
  }
  return (await response.json()) as T;
}

export async function loadConfig(): Promise<Config> {
  const server = await getJson<ServerConfig>("config.json", "the dashboard configuration");
  const manifest = await getJson<Manifest>(server.manifest_url, "the deployment manifest");
  checkManifest(manifest);
  const params = new URLSearchParams(location.search);
  const stored = readOverrides();
  const pick = (key: keyof Overrides, fallback: string | null) =>
    params.get(key.replace("_url", "")) || stored[key] || fallback;
  return {
    rpcUrl: pick("rpc_url", server.rpc_url) as string,
    gatewayUrl: pick("gateway_url", server.gateway_url),
    ipfsApiUrl: pick("ipfs_api_url", server.ipfs_api_url),
    pollIntervalMs: server.poll_interval_ms || 1000,
    manifest,
    server,
  };
}

function checkManifest(manifest: Manifest): void {
  if (manifest.schema_version !== 1) {
    throw new ConfigProblem(`The deployment manifest has schema_version ${manifest.schema_version}; this dashboard reads 1.`);
  }
  for (const name of Object.keys(abis) as ContractName[]) {
    const record = manifest.contracts?.[name];
    if (!record) throw new ConfigProblem(`The deployment manifest has no ${name}.`);
    record.address = getAddress(record.address);
  }
}

/** Names in this build's ABIs that the deployment's ABIs lack: a dashboard built for other contracts. */
export function abiDrift(manifest: Manifest): string[] {
  const missing: string[] = [];
  for (const name of Object.keys(abis) as ContractName[]) {
    const deployed = new Set(manifest.contracts[name].abi.map((item) => `${item.type}:${item.name ?? ""}`));
    for (const item of abis[name] as readonly { type: string; name?: string }[]) {
      if (item.type !== "constructor" && !deployed.has(`${item.type}:${item.name ?? ""}`)) {
        missing.push(`${name}.${item.name}`);
      }
    }
  }
  return missing;
}
