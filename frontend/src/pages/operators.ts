// The operators page: every registered operator's stake, locked collateral, completed jobs, reliability
// record (settled claims agreed and missed, slashes by reason: ../reliability.ts), slashes, jail status and
// earnings (fees from WorkerPaid, emission from EmissionClaimed). `#/operators/<address>` highlights one.

import { getAddress, isAddress } from "viem";
import { live, type Ctx } from "../context.ts";
import { stakingConstants } from "../../../abi/index.ts";
import { duration, esc, int, short, tsr } from "../format.ts";
import { agreedBps, reliabilityOf, type ReliabilityRecord } from "../reliability.ts";

// Slash reasons as `OperatorSlashed.reason` carries them (contracts/modules/constants.vy, via `make abi`).
const REASONS: Record<number, string> = {
  [stakingConstants.REASON_WRONG_RESULT]: "wrong result",
  [stakingConstants.REASON_LIVENESS]: "liveness",
  [stakingConstants.REASON_WITHHELD]: "withheld reveal",
};

export function operatorsPage(ctx: Ctx, root: HTMLElement, arg: string) {
  const selected = isAddress(arg) ? getAddress(arg) : null;
  return live(ctx, root, "operators", async () => {
    const { c, indexer } = ctx;
    const now = indexer.head?.timestamp ?? 0n;
    const ops = [...indexer.operators.values()].sort((a, b) => (a.address < b.address ? -1 : 1));
    const rows = await Promise.all(
      ops.map(async (op) => {
        const [bonded, locked, eligible, jailedUntil] = await Promise.all([
          c.staking.read.bonded([op.address]),
          c.staking.read.locked([op.address]),
          c.staking.read.is_eligible([op.address]),
          c.staking.read.jailed_until([op.address]),
        ]);
        return { op, bonded, locked, eligible, jailedUntil };
      }),
    );
    if (rows.length === 0) {
      return `<h1>Operators</h1><p class="muted" data-testid="no-operators">No operator has registered yet. An operator runs <code>tessera operator register</code> and <code>tessera operator stake</code>, then <code>tessera worker run</code>.</p>`;
    }
    const body = rows
      .map(({ op, bonded, locked, eligible, jailedUntil }) => {
        const jailed = jailedUntil > now;
        const slashed = op.slashes.reduce((sum, s) => sum + s.amount, 0n);
        const earnings = op.feesEarned + op.emissionClaimed;
        const slashList = op.slashes.map((s) => `job ${s.jobId}: ${tsr(s.amount, 2)} (${REASONS[s.reason] ?? s.reason})`).join("; ");
        const record = reliabilityOf(indexer, op.address);
        return `<tr data-operator="${esc(op.address)}"${op.address === selected ? ' class="selected"' : ""}>
  <td data-label="Operator"><code title="${esc(op.address)}">${esc(short(op.address, 5))}</code>${op.metadataCid ? `<br><span class="muted small" title="metadata CID">${esc(short(op.metadataCid, 6))}</span>` : ""}</td>
  <td data-label="Stake" data-col="bonded" data-value="${bonded}">${esc(tsr(bonded, 2))}</td>
  <td data-label="Locked" data-col="locked" data-value="${locked}">${esc(tsr(locked, 2))}</td>
  <td data-label="Jobs completed" data-col="jobs-completed" data-value="${op.jobsCompleted}">${esc(int(op.jobsCompleted))}</td>
  ${recordCell(record)}
  <td data-label="Slashes" data-col="slashes" data-value="${op.slashes.length}" data-amount="${slashed}" title="${esc(slashList)}">${op.slashes.length ? `${op.slashes.length} · ${esc(tsr(slashed, 2))}` : "—"}</td>
  <td data-label="Status" data-col="jailed" data-value="${jailed ? 1 : 0}">${jailed ? `<span class="badge phase-failed">jailed</span> <span class="small">${esc(duration(jailedUntil - now))} left</span>` : eligible ? '<span class="badge phase-completed">eligible</span>' : '<span class="badge">not eligible</span>'}</td>
  <td data-label="Earnings" data-col="earnings" data-value="${earnings}" data-fees="${op.feesEarned}" data-emission="${op.emissionClaimed}">${esc(tsr(earnings, 4))}<br><span class="muted small">${esc(tsr(op.feesEarned, 4, ""))} fees + ${esc(tsr(op.emissionClaimed, 4, ""))} emission</span></td>
</tr>`;
      })
      .join("");
    return `<h1>Operators</h1>
<p class="muted">${rows.length} operator${rows.length === 1 ? "" : "s"}. Stake, locked collateral and jail status are read from Staking; jobs, records, slashes and earnings are summed from events. A record counts the claims on settled jobs the operator was paid for (agreed) and those it never revealed (missed), and its slashes by reason; assignment does not weigh it yet.</p>
<div class="table-wrap"><table class="rows" data-testid="operators">
<thead><tr><th>Operator</th><th>Stake</th><th>Locked</th><th>Jobs completed</th><th>Record</th><th>Slashes</th><th>Status</th><th>Earnings</th></tr></thead>
<tbody>${body}</tbody></table></div>`;
  });
}

/** The record cell: agreed of settled claims (with the share), misses, slashes by reason. */
function recordCell(r: ReliabilityRecord): string {
  const share = agreedBps(r);
  const count = (col: string, n: number) => `<span data-col="${col}" data-value="${n}">${esc(int(n))}</span>`;
  const title = `${r.claims} claim${r.claims === 1 ? "" : "s"}, ${r.settled} on settled jobs`;
  return `<td data-label="Record" data-col="agreed-share" data-value="${share ?? ""}" data-claims="${r.claims}" title="${esc(title)}">${count("agreed", r.agreed)} of ${count("settled", r.settled)} agreed${share === null ? "" : ` (${esc((share / 100).toFixed(0))} %)`}<br><span class="muted small">${count("misses", r.misses)} missed · slashed: ${count("slashed-wrong-result", r.wrongResult)} wrong, ${count("slashed-withheld", r.withheld)} withheld, ${count("slashed-liveness", r.liveness)} liveness</span></td>`;
}
