"""Staking.stake_share: (the operator's bonded stake, total_bonded), the weight JobRegistry selects
claimants by. Locked collateral still counts (it is bonded); unbonding stake and slashed stake do not."""

import boa

from tests.contracts.staking.conftest import STAKE, SlashReason, bond


def test_stake_share_of_an_unknown_account_is_zero_of_the_total(staking, stranger, operators):
    assert staking.stake_share(stranger) == (0, 0)
    bond(staking, operators[0])
    assert staking.stake_share(stranger) == (0, STAKE)


def test_stake_share_is_bonded_stake_over_total_bonded(staking, operators):
    bond(staking, operators[0], STAKE)
    bond(staking, operators[1], 3 * STAKE // 2)
    total = STAKE + 3 * STAKE // 2
    assert staking.stake_share(operators[0]) == (STAKE, total)
    assert staking.stake_share(operators[1]) == (3 * STAKE // 2, total)
    assert staking.total_bonded() == total


def test_locked_collateral_still_counts(staking, operators, job_registry):
    bond(staking, operators[0])
    with boa.env.prank(job_registry):
        staking.lock_collateral(operators[0], STAKE // 2)
    assert staking.stake_share(operators[0]) == (STAKE, STAKE)


def test_unbonding_leaves_the_share_and_the_total(staking, operators):
    bond(staking, operators[0])
    bond(staking, operators[1])
    with boa.env.prank(operators[0]):
        lock_id = staking.request_unstake(STAKE // 4)
    assert staking.stake_share(operators[0]) == (3 * STAKE // 4, 7 * STAKE // 4)
    with boa.env.prank(operators[0]):
        staking.cancel_unstake(lock_id)
    assert staking.stake_share(operators[0]) == (STAKE, 2 * STAKE)


def test_a_slash_shrinks_the_share_and_the_total(staking, operators, job_registry):
    bond(staking, operators[0])
    bond(staking, operators[1])
    with boa.env.prank(job_registry):
        staking.slash(operators[0], STAKE // 10, 1, SlashReason.LIVENESS, "0x" + "00" * 20)
    assert staking.stake_share(operators[0]) == (STAKE - STAKE // 10, 2 * STAKE - STAKE // 10)
    assert staking.stake_share(operators[1]) == (STAKE, 2 * STAKE - STAKE // 10)


def test_the_share_sums_to_the_total(staking, operators):
    for i, op in enumerate(operators):
        bond(staking, op, STAKE // (i + 1))
    shares = [staking.stake_share(op) for op in operators]
    assert sum(stake for stake, _ in shares) == shares[0][1] == staking.total_bonded()
