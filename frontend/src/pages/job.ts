// One job: its terms and live phase, its spec fetched through the gateway and checked against the on-chain
// spec_digest, each replica's claim, commitment and reveal, the result with a download link (checked
// against the agreed result digest), and the gas each step used, from the transactions' receipts.

import type { Hash } from "viem";
import { getJob } from "../chain.ts";
import { live, type Ctx } from "../context.ts";
import { addressLink, badge, clock, errorMessage, esc, int, relative, short, tsr, txLink } from "../format.ts";
import type { JobRecord, Step } from "../indexer.ts";
import { fetchChecked, fileUrl, MAX_SPEC_BYTES, MAX_VERIFY_BYTES, type Fetched } from "../ipfs.ts";

type Check = { state: "pending" } | { state: "done"; fetched: Fetched } | { state: "error"; message: string };

// Content-addressed answers never change: keep them for the page's lifetime.
const checks = new Map<string, Check>();
const receipts = new Map<Hash, { gasUsed: bigint; price: bigint }>();

function startCheck(ctx: Ctx, cid: string, digest: Hash, maxBytes: number, rerender: () => void): Check {
  const key = `${cid}:${digest}`;
  const known = checks.get(key);
  if (known) return known;
  const pending: Check = { state: "pending" };
  checks.set(key, pending);
  const gateway = ctx.config.gatewayUrl;
  if (!gateway) {
    const check: Check = { state: "error", message: "no IPFS gateway is configured (see Connection)" };
    checks.set(key, check);
    return check;
  }
  fetchChecked(gateway, cid, digest, maxBytes)
    .then((fetched) => checks.set(key, { state: "done", fetched }))
    .catch((err) => checks.set(key, { state: "error", message: errorMessage(err) }))
    .finally(rerender);
  return pending;
}

async function gasOf(ctx: Ctx, hashes: Hash[]): Promise<void> {
  const missing = hashes.filter((h) => !receipts.has(h));
  const got = await Promise.all(missing.map((hash) => ctx.client.getTransactionReceipt({ hash })));
  got.forEach((r, i) => receipts.set(missing[i], { gasUsed: r.gasUsed, price: r.effectiveGasPrice }));
}

function specSection(ctx: Ctx, job: JobRecord, check: Check): string {
  const link = ctx.config.gatewayUrl ? `<a href="${esc(fileUrl(ctx.config.gatewayUrl, job.specCid, `job-${job.id}-spec.json`))}" target="_blank" rel="noopener">${esc(job.specCid)}</a>` : esc(job.specCid);
  let verdict: string;
  let body = "";
  if (check.state === "pending") verdict = `<span class="muted" data-testid="spec-check" data-value="pending">fetching from the gateway…</span>`;
  else if (check.state === "error") verdict = `<span class="problem" data-testid="spec-check" data-value="error">could not check: ${esc(check.message)}</span>`;
  else if (check.fetched.matches) {
    verdict = `<span class="ok" data-testid="spec-check" data-value="match">✓ sha256 of the ${int(check.fetched.bytes.length)} bytes matches spec_digest</span>`;
    body = prettySpec(check.fetched.bytes);
  } else {
    verdict = `<span class="problem" data-testid="spec-check" data-value="mismatch">✗ the spec does not match spec_digest: its sha256 is <code>${esc(short(check.fetched.digest, 8))}</code>. Workers skip this job.</span>`;
    body = prettySpec(check.fetched.bytes);
  }
  return `<h2>Spec</h2>
<dl class="kv-list"><dt>CID</dt><dd><code>${link}</code></dd><dt>spec_digest</dt><dd><code title="${esc(job.specDigest)}">${esc(short(job.specDigest, 10))}</code></dd><dt>Check</dt><dd>${verdict}</dd></dl>
${body}`;
}

/** The rounds: round 0 as posted, then one row per `JobEscalated` (its reveals disagreed, fresh replicas). */
function escalationSection(job: JobRecord): string {
  if (!job.escalations.length) return "";
  const rounds = [
    { round: 0, replicas: job.replicas, quorum: job.quorum, revealDeadline: job.revealDeadline, step: job.posted },
    ...job.escalations,
  ];
  const rows = rounds
    .map((r) => {
      const claimants = job.replicasList.filter((x) => x.round === r.round).length;
      return `<tr data-round="${r.round}"><td data-label="Round">${r.round}</td><td data-label="Opened">${r.round ? "escalated" : "posted"} in block ${r.step.blockNumber} (${txLink(r.step.txHash)})</td><td data-label="Replicas · quorum">${r.replicas} · ${r.quorum}</td><td data-label="Claimed">${claimants}</td><td data-label="Reveal by">${esc(clock(r.revealDeadline))}</td></tr>`;
    })
    .join("");
  return `<h2>Escalation</h2>
<p class="muted">A round whose reveals disagree escalates at its reveal deadline to more, freshly selected replicas; the last round's majority decides.</p>
<div class="table-wrap"><table class="rows" data-testid="escalations" data-value="${job.escalations.length}"><thead><tr><th>Round</th><th>Opened</th><th>Replicas · quorum</th><th>Claimed</th><th>Reveal by</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function prettySpec(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes);
  try {
    return `<pre class="spec" data-testid="spec-json">${esc(JSON.stringify(JSON.parse(text), null, 2))}</pre>`;
  } catch {
    return `<pre class="spec" data-testid="spec-json">${esc(text.slice(0, 4000))}</pre>`;
  }
}

export function jobPage(ctx: Ctx, root: HTMLElement, arg: string) {
  let id: bigint | null = null;
  try {
    id = BigInt(arg);
  } catch {
    id = null;
  }
  let rerender = () => {};
  const cleanup = live(ctx, root, "job", async () => {
    const job = id === null ? undefined : ctx.indexer.jobs.get(id);
    if (!job) {
      return `<h1>Job ${esc(arg)}</h1><p class="muted" data-testid="no-job">No such job${ctx.indexer.synced ? "" : " yet (still reading events)"}. <a href="#/jobs">All jobs</a></p>`;
    }
    const now = ctx.indexer.head?.timestamp ?? 0n;
    const view = await getJob(ctx.c, job.id);
    const specCheck = startCheck(ctx, job.specCid, job.specDigest, MAX_SPEC_BYTES, rerender);
    const steps: { name: string; who?: string; step: Step }[] = [{ name: "post_job", who: job.requester, step: job.posted }];
    for (const r of job.replicasList) {
      steps.push({ name: `claim #${r.index}`, who: r.worker, step: r.claimed });
      if (r.committed) steps.push({ name: `commit #${r.index}`, who: r.worker, step: r.committed });
      if (r.revealed) steps.push({ name: `reveal #${r.index}`, who: r.worker, step: r.revealed });
    }
    for (const e of job.escalations) steps.push({ name: `escalate to round ${e.round}`, step: e.step });
    if (job.outcome) {
      const verb = { Completed: "finalize", Failed: "finalize", Cancelled: "cancel", Expired: "expire" }[job.outcome.kind];
      steps.push({ name: verb, step: job.outcome.step });
    }
    steps.sort((x, y) => (x.step.blockNumber === y.step.blockNumber ? x.step.logIndex - y.step.logIndex : x.step.blockNumber < y.step.blockNumber ? -1 : 1));
    await gasOf(ctx, steps.map((s) => s.step.txHash));
    // One transaction may hold several steps (reveal_and_finalize: ResultRevealed and JobCompleted), so the
    // total sums each transaction hash once.
    const totalGas = [...new Set(steps.map((s) => s.step.txHash))].reduce((sum, h) => sum + (receipts.get(h)?.gasUsed ?? 0n), 0n);

    const outcome = job.outcome;
    const winner = outcome?.kind === "Completed" ? job.replicasList.find((r) => r.resultDigest === outcome.resultDigest) : undefined;
    let result = `<p class="muted" data-testid="result" data-value="">No result yet.</p>`;
    if (outcome?.kind === "Completed" && winner?.resultCid) {
      const check = startCheck(ctx, winner.resultCid, outcome.resultDigest, MAX_VERIFY_BYTES, rerender);
      const gateway = ctx.config.gatewayUrl;
      const download = gateway
        ? `<a class="button" data-testid="result-download" href="${esc(fileUrl(gateway, winner.resultCid, `job-${job.id}-result.safetensors`, true))}" download>Download result</a>`
        : "";
      const verdict = check.state === "pending" ? `<span class="muted" data-testid="result-check" data-value="pending">checking…</span>`
        : check.state === "error" ? `<span class="problem" data-testid="result-check" data-value="error">${esc(check.message)}</span>`
        : check.fetched.matches ? `<span class="ok" data-testid="result-check" data-value="match">✓ ${int(check.fetched.bytes.length)} bytes, sha256 matches the agreed result digest</span>`
        : `<span class="problem" data-testid="result-check" data-value="mismatch">✗ the gateway's bytes do not match the result digest</span>`;
      result = `<dl class="kv-list"><dt>Result CID</dt><dd><code data-testid="result" data-value="${esc(winner.resultCid)}">${esc(winner.resultCid)}</code></dd>
<dt>Result digest</dt><dd><code title="${esc(outcome.resultDigest)}">${esc(short(outcome.resultDigest, 10))}</code></dd>
<dt>Agreeing</dt><dd>${outcome.agreeing} of ${job.replicasList.length} · paid ${esc(tsr(outcome.paid))} · burned ${esc(tsr(outcome.protocolFee))}</dd>
<dt>Check</dt><dd>${verdict}</dd></dl>${download}`;
    } else if (outcome && outcome.kind !== "Completed") {
      result = `<p data-testid="result" data-value="">${esc(outcome.kind)}: ${esc(tsr(outcome.refunded))} refunded to the requester.</p>`;
    }

    const replicaRows = job.replicasList
      .map((r) => {
        const agreed = outcome?.kind === "Completed" && r.resultDigest === outcome.resultDigest;
        const slashed = r.slashed.reduce((s, x) => s + x.amount, 0n);
        return `<tr data-replica="${r.index}">
  <td data-label="#">${r.index}</td>
  <td data-label="Round" data-col="round" data-value="${r.round}">${r.round}</td>
  <td data-label="Worker">${addressLink(r.worker)}</td>
  <td data-label="Commitment">${r.commitment ? `<code title="${esc(r.commitment)}">${esc(short(r.commitment, 6))}</code>` : "—"}</td>
  <td data-label="Revealed digest">${r.resultDigest ? `<code title="${esc(r.resultDigest)}">${esc(short(r.resultDigest, 6))}</code>${agreed ? ' <span class="ok">agrees</span>' : outcome?.kind === "Completed" ? ' <span class="problem">differs</span>' : ""}` : "—"}</td>
  <td data-label="Result CID" class="small">${r.resultCid ? `<code title="${esc(r.resultCid)}">${esc(short(r.resultCid, 8))}</code>` : "—"}</td>
  <td data-label="Paid / slashed">${r.paid !== undefined ? esc(tsr(r.paid)) : ""}${slashed ? ` <span class="problem">−${esc(tsr(slashed))}</span>` : ""}${r.paid === undefined && !slashed ? "—" : ""}</td>
</tr>`;
      })
      .join("");

    const gasRows = steps
      .map((s, i) => {
        const receipt = receipts.get(s.step.txHash);
        const earlier = steps.slice(0, i).find((o) => o.step.txHash === s.step.txHash);
        const shared = earlier ? ` <span class="muted" data-testid="gas-shared" data-value="${esc(earlier.name)}">(same transaction as ${esc(earlier.name)}, counted once)</span>` : "";
        return `<tr><td data-label="Step">${esc(s.name)}${shared}</td><td data-label="By">${s.who ? addressLink(s.who) : "—"}</td><td data-label="Block">${s.step.blockNumber}</td><td data-label="Transaction">${txLink(s.step.txHash)}</td><td data-label="Gas" data-step="${esc(s.name)}" data-value="${receipt?.gasUsed ?? ""}">${receipt ? int(receipt.gasUsed) : "?"}</td></tr>`;
      })
      .join("");

    return `<p><a href="#/jobs">← All jobs</a></p>
<h1>Job #${job.id} ${badge(view.phase)}</h1>
<section class="cards">
  <div class="stat"><span class="label">Requester</span><span class="value">${addressLink(job.requester)}</span></div>
  <div class="stat"><span class="label">Fee</span><span class="value" data-testid="job-fee" data-value="${job.fee}">${esc(tsr(job.fee))}</span></div>
  <div class="stat"><span class="label">Collateral / replica</span><span class="value">${esc(tsr(job.collateral))}</span></div>
  <div class="stat"><span class="label">Replicas · quorum</span><span class="value" data-testid="job-replicas">${job.replicas} · ${job.quorum}</span></div>
  <div class="stat"><span class="label">Round</span><span class="value" data-testid="job-round" data-value="${view.round}">${view.round}${view.round ? ` · ${view.replicas} · ${view.quorum}` : ""}</span></div>
</section>
<dl class="kv-list deadlines">
  <dt>Claim by</dt><dd>${esc(clock(view.claim_deadline))} <span class="muted">(${esc(relative(view.claim_deadline, now))})</span></dd>
  <dt>Commit by</dt><dd>${esc(clock(view.commit_deadline))} <span class="muted">(${esc(relative(view.commit_deadline, now))})</span></dd>
  <dt>Reveal by</dt><dd>${esc(clock(view.reveal_deadline))} <span class="muted">(${esc(relative(view.reveal_deadline, now))})</span></dd>
  <dt>Progress</dt><dd data-testid="job-progress">${view.claims} claimed · ${view.commits} committed · ${view.reveals} revealed</dd>
</dl>
${escalationSection(job)}
<h2>Result</h2>
${result}
${specSection(ctx, job, specCheck)}
<h2>Replicas</h2>
${job.replicasList.length ? `<div class="table-wrap"><table class="rows" data-testid="replicas"><thead><tr><th>#</th><th>Round</th><th>Worker</th><th>Commitment</th><th>Revealed digest</th><th>Result CID</th><th>Paid / slashed</th></tr></thead><tbody>${replicaRows}</tbody></table></div>` : '<p class="muted">No claims yet.</p>'}
<h2>Gas per step</h2>
<div class="table-wrap"><table class="rows" data-testid="gas"><thead><tr><th>Step</th><th>By</th><th>Block</th><th>Transaction</th><th>Gas</th></tr></thead><tbody>${gasRows}</tbody>
<tfoot><tr><th colspan="4" scope="row">Total</th><td data-testid="gas-total" data-value="${totalGas}">${int(totalGas)}</td></tr></tfoot></table></div>`;
  });
  // a finished IPFS check re-renders through the indexer's listeners path: poke the page directly
  rerender = () => ctx.indexer.poke();
  return cleanup;
}
