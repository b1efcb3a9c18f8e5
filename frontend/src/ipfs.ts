// IPFS from the browser: read files through an HTTP gateway and check them against the digest the chain
// holds (WebCrypto sha256), and add a spec through a Kubo-compatible RPC (`tessera ipfs serve` or Kubo).
// The gateway itself is not trusted: what counts is that the bytes hash to the on-chain digest.

import { bytesToHex, type Hash } from "viem";

export const MAX_SPEC_BYTES = 1 << 20; // = offchain.compute.spec.MAX_SPEC_BYTES
export const MAX_VERIFY_BYTES = 32 << 20; // results larger than this are linked, not checked in the page

export class IpfsProblem extends Error {}

export async function sha256(bytes: Uint8Array): Promise<Hash> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return bytesToHex(new Uint8Array(digest));
}

export function fileUrl(gateway: string, cid: string, filename?: string, download = false): string {
  const base = `${gateway.replace(/\/+$/, "")}/ipfs/${encodeURIComponent(cid)}`;
  if (!filename) return base;
  return `${base}?filename=${encodeURIComponent(filename)}${download ? "&download=true" : ""}`;
}

export interface Fetched {
  bytes: Uint8Array;
  digest: Hash;
  matches: boolean;
}

/** The file `cid` from the gateway, at most `maxBytes`, with its sha256 compared to `expected`. */
export async function fetchChecked(gateway: string, cid: string, expected: Hash, maxBytes: number): Promise<Fetched> {
  let response: Response;
  try {
    response = await fetch(fileUrl(gateway, cid), { signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new IpfsProblem(`the IPFS gateway ${gateway} did not answer (${(err as Error).message})`);
  }
  if (!response.ok) {
    const detail = await response.text().catch(() => "");
    throw new IpfsProblem(`the gateway answered HTTP ${response.status} for ${cid}: ${messageOf(detail)}`);
  }
  const declared = Number(response.headers.get("Content-Length") ?? "0");
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new IpfsProblem(`${cid} is ${declared.toLocaleString("en")} bytes, over the ${maxBytes.toLocaleString("en")} bytes checked here`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length > maxBytes) throw new IpfsProblem(`${cid} is larger than ${maxBytes} bytes`);
  const digest = await sha256(bytes);
  return { bytes, digest, matches: digest.toLowerCase() === expected.toLowerCase() };
}

/** `ipfs add` one file through the Kubo RPC at `api` (CIDv0, Kubo's defaults); returns its CID. */
export async function addFile(api: string, bytes: Uint8Array, name: string): Promise<string> {
  const form = new FormData();
  form.append("file", new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/json" }), name);
  let response: Response;
  try {
    response = await fetch(`${api.replace(/\/+$/, "")}/api/v0/add?pin=true&cid-version=0`, {
      method: "POST",
      body: form,
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    throw new IpfsProblem(
      `could not add the spec through the IPFS RPC at ${api} (${(err as Error).message}). ` +
        "Is the node running, and does it allow this page's origin?",
    );
  }
  const text = await response.text();
  if (!response.ok) throw new IpfsProblem(`the IPFS RPC refused the spec (HTTP ${response.status}): ${messageOf(text)}`);
  const lines = text.trim().split("\n").filter(Boolean);
  const last = JSON.parse(lines[lines.length - 1] ?? "{}") as { Hash?: string };
  if (!last.Hash) throw new IpfsProblem(`the IPFS RPC answered without a CID: ${text.slice(0, 200)}`);
  return last.Hash;
}

function messageOf(body: string): string {
  try {
    return (JSON.parse(body) as { Message?: string }).Message ?? body.slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}
