"""What a Sybil cluster with stake share f can expect from attacking a 3-replica job (docs/SPEC.md §10).

    .venv/bin/python benchmarks/sybil_economics.py                 # the tables SPEC §10 quotes
    .venv/bin/python benchmarks/sybil_economics.py --collateral-per-fee 100 --compute-share 0

The model, under the default parameters (scripts/params/default.json: wrong_result_slash_bps 10,000,
slash_reward_bps 5,000, protocol_fee_bps 500; the registry's selection_factor 2):

* Selection. A round with R replicas selects each operator at its opening with probability k·s (k = 2R,
  s its stake share); later, the threshold widens and operators become selected in the order of
  ticket / stake. The cluster splits its stake over many identities (a single identity can hold only one
  slot of a job, and many small identities are its best case: the number of them selected at opening
  tends to Poisson(k·f), the most spread a split can give with mean k·f); honest stake is spread over many
  operators too (Poisson(k·(1-f))). Each later selected identity is the cluster's with probability f.
* Claims are first come among the selected, and the cluster is always first: it takes min(A, R) slots
  with its A identities selected at opening, the honest selected take what is left, and any slot still
  free goes, in widening order, to the cluster with probability f each. Earlier-round claimants are
  left out of an escalation round; each is a negligible share of the stake in this limit.
* Strategy. Round 0 (3 replicas, quorum 2): with all 3 slots the cluster reveals garbage and the job
  completes with it (nothing disagrees); with 2 it reveals garbage and the honest third's reveal makes
  the round disputed, so it escalates to round 1 (5 fresh replicas, quorum 3, the last round: 8 slots
  used). With 3 or more of round 1's slots the cluster's garbage wins: it takes the whole pool and, as
  the escalation round's agreeing workers, half of every honest revealer's slash (the bounty); the
  other half is burned. With fewer, the honest majority wins: its 2 round-0 identities are slashed their
  whole collateral and jailed, and its round-1 identities play honest (they see the claimants before
  they commit) and earn a share of the pool and of the bounty. With at most 1 slot of round 0 it plays
  honest (a lone wrong reveal escalates and loses, see T42 in THREATS.md).
* Money, in units of the fee F: pool P = 0.95 F (5 % protocol fee burned), collateral C = c_f · F, and a
  compute cost of `compute_share` · P/3 per replica run (what the cluster saves by not computing).
  Honest play of the same slots earns P/3 − cost each and never escalates. Jail time and gas are left
  out: both only add to the attack's cost.

Everything is exact sums over the Poisson and binomial laws (no sampling).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

SHARES = (0.05, 0.10, 0.20, 0.33)
PROTOCOL_FEE = 0.05
SLASH_REWARD = 0.5
SELECTION_FACTOR = 2
ROUND0_REPLICAS = 3
ROUND1_REPLICAS = 5


def poisson(mean: float, n: int) -> float:
    return math.exp(-mean) * mean**n / math.factorial(n)


def capped_poisson(mean: float, cap: int) -> list[float]:
    """P(min(X, cap) = n) for X ~ Poisson(mean), n = 0..cap (the tail lumped at cap: exact, no truncation)."""
    law = [poisson(mean, n) for n in range(cap)]
    return [*law, max(0.0, 1 - sum(law))]


def slots_law(f: float, replicas: int, factor: int = SELECTION_FACTOR) -> list[float]:
    """P(the cluster holds j of a round's `replicas` slots), j = 0..replicas (see the module docstring)."""
    k = replicas * factor
    law = [0.0] * (replicas + 1)
    for taken, pa in enumerate(capped_poisson(k * f, replicas)):
        for h, ph in enumerate(capped_poisson(k * (1 - f), replicas)):
            free = replicas - taken - min(h, replicas - taken)
            for extra in range(free + 1):
                law[taken + extra] += pa * ph * math.comb(free, extra) * f**extra * (1 - f) ** (free - extra)
    return law


@dataclass(frozen=True)
class Attack:
    share: float
    majority0: float  # P(>= 2 of round 0's 3 slots)
    all0: float  # P(all 3): garbage completes unchallenged
    majority1: float  # P(>= 3 of round 1's 5 slots)
    win: float  # P(the job completes with the cluster's garbage)
    gain: float  # expected TSR per job of attacking minus playing the same slots honestly, in units of F


def attack(f: float, collateral_per_fee: float, compute_share: float) -> Attack:
    pool = 1 - PROTOCOL_FEE
    col = collateral_per_fee
    cost = compute_share * pool / ROUND0_REPLICAS
    r0 = slots_law(f, ROUND0_REPLICAS)
    r1 = slots_law(f, ROUND1_REPLICAS)
    honest_share = pool / ROUND0_REPLICAS - cost
    gain = r0[3] * (pool - 3 * honest_share)  # all three slots: the pool without computing
    for b, pb in enumerate(r1):
        if b >= 3:  # garbage wins round 1: whole pool + half the slashes of the 1 + (5 - b) honest revealers
            attacked = pool + SLASH_REWARD * (1 + ROUND1_REPLICAS - b) * col
        else:  # honest majority: 2 collaterals slashed; b honest round-1 identities paid pool/6, bounty/5
            bounty = SLASH_REWARD * 2 * col
            attacked = -2 * col + b * (pool / 6 + bounty / ROUND1_REPLICAS - cost)
        gain += r0[2] * pb * (attacked - 2 * honest_share)
    return Attack(
        share=f,
        majority0=r0[2] + r0[3],
        all0=r0[3],
        majority1=sum(r1[3:]),
        win=r0[3] + r0[2] * sum(r1[3:]),
        gain=gain,
    )


def ground_attack(f: float, collateral_per_fee: float, compute_share: float) -> float:
    """Expected gain (units of F) of a requester in league with the cluster that grinds round 0: it posts
    only in a block whose seed it could read in advance and that selects exactly 2 of its identities at
    opening, and claims with them in that block (a builder bundle), leaving one slot to an honest worker.
    It pays the fee F; round 1's seed it cannot read (honest workers finalize at the reveal deadline)."""
    pool = 1 - PROTOCOL_FEE
    col = collateral_per_fee
    cost = compute_share * pool / ROUND0_REPLICAS
    gain = -1.0  # the fee
    for b, pb in enumerate(slots_law(f, ROUND1_REPLICAS)):
        if b >= 3:
            gain += pb * (pool + SLASH_REWARD * (1 + ROUND1_REPLICAS - b) * col)
        else:
            gain += pb * (-2 * col + b * (pool / 6 + SLASH_REWARD * 2 * col / ROUND1_REPLICAS - cost))
    return gain


def break_even(collateral_per_fee: float, compute_share: float, ground: bool = False) -> float:
    """The smallest stake share at which attacking pays as much as honest work (bisection on f)."""

    def gain(f: float) -> float:
        if ground:
            return ground_attack(f, collateral_per_fee, compute_share)
        return attack(f, collateral_per_fee, compute_share).gain

    lo, hi = 0.001, 0.999
    if gain(lo) >= 0:
        return lo
    for _ in range(50):
        mid = (lo + hi) / 2
        if gain(mid) >= 0:
            hi = mid
        else:
            lo = mid
    return hi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collateral-per-fee", type=float, default=10.0, help="C / F (at most 100)")
    parser.add_argument("--compute-share", type=float, default=0.5, help="compute cost / pay per replica")
    args = parser.parse_args()
    c_f, cs = args.collateral_per_fee, args.compute_share
    print(f"3-replica job, selection_factor 2, C = {c_f:g} F, compute = {cs:g} x pay per replica")
    print(
        "| f | P(majority of round 0) | P(all 3 of round 0) | P(majority of round 1) | P(garbage wins) "
        "| E[attack - honest] per job |"
    )
    print("|---|---|---|---|---|---|")
    for f in SHARES:
        a = attack(f, c_f, cs)
        print(f"| {f:.0%} | {a.majority0:.4f} | {a.all0:.4f} | {a.majority1:.4f} | {a.win:.4f} "
              f"| {a.gain:+.3f} F |")  # fmt: skip
    print()
    print("| C / F | break-even f (compute 0) | break-even f (compute 0.5) | break-even f (compute 1) |")
    print("|---|---|---|---|")
    for col in (1, 10, 100):
        cells = " | ".join(f"{break_even(col, share):.1%}" for share in (0.0, 0.5, 1.0))
        print(f"| {col} | {cells} |")
    print()
    print("requester grinds round 0 (posts only when exactly 2 of its identities are selected at opening):")
    print("| C / F | " + " | ".join(f"gain at f = {f:.0%}" for f in SHARES) + " | break-even f |")
    print("|---|" + "---|" * (len(SHARES) + 1))
    for col in (1, 10, 100):
        cells = " | ".join(f"{ground_attack(f, col, cs):+.2f} F" for f in SHARES)
        print(f"| {col} | {cells} | {break_even(col, cs, ground=True):.1%} |")


if __name__ == "__main__":
    main()
