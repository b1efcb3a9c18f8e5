// The network page: parameters, the current epoch, the emission schedule, stake and jobs by state.

import { readParameters, PHASES, TERMINAL, getJob, type PhaseName } from "../chain.ts";
import { recentEpochsChart, scheduleChart, type EpochPoint } from "../chart.ts";
import { live, type Ctx } from "../context.ts";
import { bps, clock, duration, esc, int, relative, stat, tsr } from "../format.ts";

const RECENT_EPOCHS = 12n;

/** Phase of every job: terminal ones from events, the rest from `get_job` (phases move with time). */
export async function jobPhases(ctx: Ctx): Promise<Map<bigint, PhaseName>> {
  const phases = new Map<bigint, PhaseName>();
  const open = [];
  for (const job of ctx.indexer.jobs.values()) {
    if (job.outcome) phases.set(job.id, job.outcome.kind);
    else open.push(job.id);
  }
  const views = await Promise.all(open.map((id) => getJob(ctx.c, id)));
  open.forEach((id, i) => phases.set(id, views[i].phase));
  return phases;
}

export function networkPage(ctx: Ctx, root: HTMLElement) {
  const m = ctx.config.manifest;
  return live(ctx, root, "network", async () => {
    const { c, indexer } = ctx;
    const now = indexer.head?.timestamp ?? 0n;
    const [p, epoch, totalBonded, totalUnbonding, supply, minted, jobCount, phases] = await Promise.all([
      readParameters(c),
      c.emitter.read.current_epoch(),
      c.staking.read.total_bonded(),
      c.staking.read.total_unbonding(),
      c.token.read.totalSupply(),
      c.emitter.read.total_minted(),
      c.registry.read.job_count(),
      jobPhases(ctx),
    ]);
    const first = epoch >= RECENT_EPOCHS - 1n ? epoch - RECENT_EPOCHS + 1n : 0n;
    const epochs: bigint[] = [];
    for (let e = first; e <= epoch; e++) epochs.push(e);
    const [start, burned, points, emission, schedule] = await Promise.all([
      c.emitter.read.epoch_start([epoch]),
      Promise.all(epochs.map((e) => c.emitter.read.epoch_burned([e]))),
      Promise.all(epochs.map((e) => c.emitter.read.epoch_points([e]))),
      Promise.all(epochs.map((e) => c.emitter.read.epoch_emission([e]))),
      Promise.all(epochs.map((e) => c.emitter.read.schedule([e]))),
    ]);
    const end = start + p.epochLength;
    const recent: EpochPoint[] = epochs.map((e, i) => ({ epoch: e, schedule: schedule[i], burned: burned[i], emission: emission[i] }));
    const current = recent[recent.length - 1];
    const counts = new Map<PhaseName, number>();
    for (const phase of phases.values()) counts.set(phase, (counts.get(phase) ?? 0) + 1);
    const operators = [...indexer.operators.values()].filter((o) => o.registered).length;

    const parameters: [string, string, string, bigint][] = [
      ["min_stake", "Minimum stake", tsr(p.minStake), p.minStake],
      ["unbonding_period", "Unbonding period", duration(p.unbondingPeriod), p.unbondingPeriod],
      ["jail_period", "Jail period", duration(p.jailPeriod), p.jailPeriod],
      ["slash_reward_bps", "Slash reward", bps(p.slashRewardBps), p.slashRewardBps],
      ["protocol_fee_bps", "Protocol fee (burned)", bps(p.protocolFeeBps), p.protocolFeeBps],
      ["wrong_result_slash_bps", "Wrong-result slash", bps(p.wrongResultSlashBps), p.wrongResultSlashBps],
      ["liveness_slash_bps", "Liveness slash", bps(p.livenessSlashBps), p.livenessSlashBps],
      ["min_fee", "Minimum fee", tsr(p.minFee), p.minFee],
      ["min_collateral", "Minimum collateral", tsr(p.minCollateral), p.minCollateral],
      ["epoch_length", "Epoch length", duration(p.epochLength), p.epochLength],
      ["initial_emission", "Initial emission / epoch", tsr(p.initialEmission, 0), p.initialEmission],
      ["halving_epochs", "Halving every", `${int(p.halvingEpochs)} epochs`, p.halvingEpochs],
    ];
    const stateNames = PHASES.slice(1);
    return `
<h1>Network</h1>
<p class="muted">Chain ${esc(m.chain_id)} · block <span data-testid="head-block">${esc(indexer.head?.number ?? "?")}</span> · chain time ${esc(clock(now))} · deployed ${esc(m.deployed_at)} at block ${esc(m.deployment_block)}${p.paused ? ' · <strong class="warn">posting and claiming paused</strong>' : ""}</p>
<section class="cards">
  ${stat("total-staked", "Total staked", tsr(totalBonded, 2), totalBonded)}
  ${stat("total-unbonding", "Unbonding", tsr(totalUnbonding, 2), totalUnbonding)}
  ${stat("operators-count", "Operators", int(operators), operators)}
  ${stat("job-count", "Jobs posted", int(jobCount), jobCount)}
  ${stat("total-supply", "TSR supply", tsr(supply, 0), supply)}
  ${stat("total-minted", "Emission minted", tsr(minted, 2), minted)}
  ${stat("fees-burned", "Protocol fees burned", tsr(indexer.totals.protocolFeesBurned, 4), indexer.totals.protocolFeesBurned)}
  ${stat("slashed-burned", "Slashes burned", tsr(indexer.totals.slashedBurned, 4), indexer.totals.slashedBurned)}
</section>

<h2>Jobs by state</h2>
<section class="states" data-testid="jobs-by-state">
  ${stateNames.map((s) => `<a class="state phase-${s.toLowerCase()}${TERMINAL.has(s) ? " terminal" : ""}" href="#/jobs?state=${s}" data-state="${s}" data-value="${counts.get(s) ?? 0}"><span class="n">${counts.get(s) ?? 0}</span> ${s}</a>`).join("")}
</section>

<h2>Epoch</h2>
<section class="cards">
  ${stat("current-epoch", "Current epoch", int(epoch), epoch)}
  ${stat("epoch-ends", "Ends", relative(end, now), end)}
  ${stat("epoch-burned", "Fees burned this epoch", tsr(current.burned, 4), current.burned)}
  ${stat("epoch-points", "Work points this epoch", tsr(points[points.length - 1], 4, ""), points[points.length - 1])}
  ${stat("epoch-schedule", "Scheduled emission", tsr(current.schedule, 0), current.schedule)}
  ${stat("epoch-emission", "Emission (≤ burned)", tsr(current.emission, 4), current.emission)}
</section>

<h2>Emission</h2>
<section class="charts">
<figure class="chart-box">
  ${scheduleChart(p.initialEmission, p.halvingEpochs, epoch)}
  <figcaption>Scheduled emission per epoch: ${esc(tsr(p.initialEmission, 0))}, halving every ${esc(int(p.halvingEpochs))} epochs. An epoch mints at most the protocol fees burned in it.</figcaption>
</figure>
<figure class="chart-box">
  ${recentEpochsChart(recent)}
  <figcaption>Emission of the last ${recent.length} epoch${recent.length === 1 ? "" : "s"}: min(schedule, fees burned).</figcaption>
</figure>
</section>

<h2>Parameters</h2>
<div class="table-wrap"><table class="kv" data-testid="parameters">
  <tbody>${parameters.map(([key, label, shown, raw]) => `<tr><th scope="row">${esc(label)} <code class="muted">${key}</code></th><td data-param="${key}" data-value="${raw}">${esc(shown)}</td></tr>`).join("")}</tbody>
</table></div>
<p class="muted small">Contracts: ${(["TesseraToken", "Staking", "JobRegistry", "RewardEmitter"] as const).map((n) => `${n} <code>${esc(m.contracts[n].address)}</code>`).join(" · ")}</p>`;
  });
}
