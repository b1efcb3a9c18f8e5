// The jobs page: every job from JobPosted events, newest first, updated as blocks arrive; `?state=` filters.

import { PHASES, type PhaseName } from "../chain.ts";
import { live, type Ctx } from "../context.ts";
import { addressLink, badge, esc, relative, short, tsr } from "../format.ts";
import { jobPhases } from "./network.ts";

export function jobsPage(ctx: Ctx, root: HTMLElement) {
  const state = new URLSearchParams(location.hash.split("?")[1] ?? "").get("state") as PhaseName | null;
  return live(ctx, root, "jobs", async () => {
    const { indexer } = ctx;
    const now = indexer.head?.timestamp ?? 0n;
    const phases = await jobPhases(ctx);
    const jobs = indexer.jobList().filter((j) => !state || phases.get(j.id) === state);
    const filters = ["All", ...PHASES.slice(1)]
      .map((s) => `<a class="chip${(state ?? "All") === s ? " on" : ""}" href="#/jobs${s === "All" ? "" : `?state=${s}`}">${s}</a>`)
      .join("");
    const rows = jobs
      .map((job) => {
        const phase = phases.get(job.id) ?? "Unknown";
        const r = job.replicasList;
        const round = job.escalations.length;
        const escalated = round ? ` <span class="chip" data-col="round" data-value="${round}" title="its reveals disagreed: fresh replicas re-ran it">escalated · round ${round}</span>` : "";
        const current = r.filter((x) => x.round === round); // the current round's claimants
        const replicas = round ? job.escalations[round - 1].replicas : job.replicas;
        const progress = `${current.length}/${replicas} claimed · ${current.filter((x) => x.committed).length} committed · ${current.filter((x) => x.revealed).length} revealed`;
        const result = job.outcome?.kind === "Completed" ? r.find((x) => x.resultDigest === (job.outcome as { resultDigest: string }).resultDigest)?.resultCid : undefined;
        const at = round ? job.escalations[round - 1] : job;
        const deadline = phase === "Open" || phase === "Claimed" ? at.claimDeadline : phase === "Committing" ? at.commitDeadline : at.revealDeadline;
        return `<tr data-job="${job.id}">
  <td data-label="Job"><a href="#/jobs/${job.id}">#${job.id}</a></td>
  <td data-label="State" data-col="phase" data-value="${esc(phase)}">${badge(phase)}${escalated}</td>
  <td data-label="Progress" class="small">${esc(progress)}${!job.outcome ? `<br><span class="muted">next deadline ${esc(relative(deadline, now))}</span>` : ""}</td>
  <td data-label="Fee" data-value="${job.fee}">${esc(tsr(job.fee, 4))}</td>
  <td data-label="Requester">${addressLink(job.requester)}</td>
  <td data-label="Result" class="small">${result ? `<code title="${esc(result)}">${esc(short(result, 8))}</code>` : "—"}</td>
</tr>`;
      })
      .join("");
    return `<h1>Jobs</h1>
<nav class="chips" aria-label="Filter by state">${filters}</nav>
<p class="muted" data-testid="jobs-total" data-value="${jobs.length}">${jobs.length} job${jobs.length === 1 ? "" : "s"}${state ? ` ${esc(state)}` : ""} · live from block ${esc(indexer.head?.number ?? "?")}</p>
${jobs.length ? `<div class="table-wrap"><table class="rows" data-testid="jobs"><thead><tr><th>Job</th><th>State</th><th>Progress</th><th>Fee</th><th>Requester</th><th>Result</th></tr></thead><tbody>${rows}</tbody></table></div>` : `<p class="muted">No jobs yet. <a href="#/post">Post one.</a></p>`}`;
  });
}
