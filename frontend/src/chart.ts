// Two small inline SVG charts for the network page: the emission schedule (halving steps, the current
// epoch marked) and recent epochs' burned fees against the schedule's cap (emission = min of the two).

import { formatUnits } from "viem";
import { amount, esc } from "./format.ts";

const W = 480;
const H = 250;
const PAD = { left: 48, right: 22, top: 14, bottom: 36 };

function tsrNumber(wei: bigint): number {
  return Number(formatUnits(wei, 18));
}

function axisLabel(value: number): string {
  if (value >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  return `${+value.toPrecision(3)}`;
}

/** schedule(e) = initial >> floor(e / halving) for e in [0, halvings * halving), the current epoch marked. */
export function scheduleChart(initial: bigint, halvingEpochs: bigint, current: bigint, halvings = 5): string {
  const span = Number(halvingEpochs) * halvings;
  const top = tsrNumber(initial) || 1;
  const x = (e: number) => PAD.left + (e / span) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
  let path = `M ${x(0)} ${y(top)}`;
  for (let k = 0; k < halvings; k++) {
    const next = tsrNumber(initial >> BigInt(k + 1));
    const end = (k + 1) * Number(halvingEpochs);
    path += ` H ${x(end)}` + (k + 1 < halvings ? ` V ${y(next)}` : "");
  }
  const ticksY = [0, 0.25, 0.5, 0.75, 1].map((f) => top * f);
  const ticksX = Array.from({ length: halvings + 1 }, (_, k) => k * Number(halvingEpochs));
  const cur = Math.min(Number(current), span);
  const now = tsrNumber(initial >> (current / halvingEpochs));
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Emission schedule: ${esc(amount(initial, 0))} TSR per epoch, halving every ${esc(String(halvingEpochs))} epochs" data-testid="emission-chart">
  ${ticksY.map((v) => `<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}"/><text class="tick" x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end">${axisLabel(v)}</text>`).join("")}
  ${ticksX.map((e) => `<text class="tick" x="${x(e)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${e}</text>`).join("")}
  <text class="axis" x="${(W + PAD.left) / 2}" y="${H - 4}" text-anchor="middle">epoch</text>
  <path class="schedule" d="${path} V ${y(0)} H ${x(0)} Z"/>
  <path class="schedule-line" d="${path}"/>
  <line class="now" x1="${x(cur)}" x2="${x(cur)}" y1="${PAD.top}" y2="${H - PAD.bottom}"/>
  <circle class="now-dot" cx="${x(cur)}" cy="${y(now)}" r="4"/>
  <text class="now-label" x="${Math.min(x(cur) + 6, W - 120)}" y="${PAD.top + 12}">epoch ${esc(String(current))}</text>
</svg>`;
}

export interface EpochPoint {
  epoch: bigint;
  schedule: bigint;
  burned: bigint;
  emission: bigint;
}

/** Bars of each epoch's emission (= min(schedule, burned)); a tick shows the burned fees when below the cap. */
export function recentEpochsChart(points: EpochPoint[]): string {
  const top = Math.max(1e-18, ...points.map((p) => Math.max(tsrNumber(p.burned), tsrNumber(p.emission))));
  const n = Math.max(points.length, 6); // a few epochs do not make fat bars
  const slot = (W - PAD.left - PAD.right) / n;
  const y = (v: number) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
  const bars = points
    .map((p, i) => {
      const x0 = PAD.left + i * slot + slot * 0.15;
      const w = slot * 0.7;
      const e = tsrNumber(p.emission);
      return `<rect class="bar" x="${x0}" y="${y(e)}" width="${w}" height="${y(0) - y(e)}"><title>epoch ${p.epoch}: burned ${esc(amount(p.burned))} TSR, emission ${esc(amount(p.emission))} TSR</title></rect>
      <text class="tick" x="${x0 + w / 2}" y="${H - PAD.bottom + 16}" text-anchor="middle">${p.epoch}</text>`;
    })
    .join("");
  const ticksY = [0, 0.5, 1].map((f) => top * f);
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Emission of the last ${points.length} epochs" data-testid="epochs-chart">
  ${ticksY.map((v) => `<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v)}" y2="${y(v)}"/><text class="tick" x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end">${axisLabel(v)}</text>`).join("")}
  ${bars}
  <text class="axis" x="${(W + PAD.left) / 2}" y="${H - 4}" text-anchor="middle">epoch</text>
</svg>`;
}
