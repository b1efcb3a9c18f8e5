// An operator's reliability record, folded from the events the indexer already holds: the claims it made,
// how many of them reached a settled job (Completed, Failed or Expired; a cancelled job is never claimed),
// how many it was paid for (its result agreed with the quorum), how many it missed (a settled claim with
// no reveal: it never committed, or committed and withheld), and its slashes by reason. Nothing here is on
// chain: assignment does not weigh it today (docs/SPEC.md §10); it is the evidence a requester or a
// future assignment rule would read. `offchain/chain/reliability.py` computes the same record in Python.

import type { Address } from "viem";
import { stakingConstants } from "../../abi/index.ts";
import type { Indexer } from "./indexer.ts";

export interface ReliabilityRecord {
  claims: number;
  settled: number;
  agreed: number;
  misses: number;
  wrongResult: number;
  withheld: number;
  liveness: number;
  slashedAmount: bigint;
}

/** The record of `address` from everything `indexer` has seen. */
export function reliabilityOf(indexer: Indexer, address: Address): ReliabilityRecord {
  const record: ReliabilityRecord = {
    claims: 0,
    settled: 0,
    agreed: 0,
    misses: 0,
    wrongResult: 0,
    withheld: 0,
    liveness: 0,
    slashedAmount: 0n,
  };
  for (const job of indexer.jobs.values()) {
    for (const replica of job.replicasList) {
      if (replica.worker !== address) continue;
      record.claims += 1;
      if (replica.paid !== undefined) record.agreed += 1;
      if (!job.outcome || job.outcome.kind === "Cancelled") continue;
      record.settled += 1;
      if (!replica.revealed) record.misses += 1;
    }
  }
  for (const slash of indexer.operators.get(address)?.slashes ?? []) {
    record.slashedAmount += slash.amount;
    if (slash.reason === stakingConstants.REASON_WRONG_RESULT) record.wrongResult += 1;
    else if (slash.reason === stakingConstants.REASON_WITHHELD) record.withheld += 1;
    else if (slash.reason === stakingConstants.REASON_LIVENESS) record.liveness += 1;
  }
  return record;
}

/** Agreed over settled claims, in basis points; null before any claim settled. */
export function agreedBps(record: ReliabilityRecord): number | null {
  return record.settled === 0 ? null : Math.floor((record.agreed * 10_000) / record.settled);
}
