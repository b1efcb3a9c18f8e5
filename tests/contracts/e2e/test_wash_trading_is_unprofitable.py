"""An operator that posts jobs and serves them itself cannot mint itself a profit (DESIGN §2.3, SPEC §6).

The burn-and-mint bound. A self-dealer pays fee `F` per job, gets the pool `F - pf` back as the worker
and burns the protocol fee `pf = F * b // BPS` (`b = protocol_fee_bps`). Epoch `e` mints at most what was
burned in it, `emission(e) = min(schedule(e), burned(e))`, shared by work points, and a job's points are
the protocol fee it burned, split among its agreeing workers. An epoch's points therefore equal its burn,
`P = burned(e)`, and the self-dealer's emission is

    emission_w = emission(e) * p_w / P  <=  burned(e) * p_w / burned(e)  =  p_w  =  pf_w:

at most what it burned, with or without honest traffic in the epoch, whatever the schedule and however
the fees round. It ends with at most the TSR it started with and is out of pocket by its gas.

Regression: points used to be the pool paid (`F - pf`). With the protocol fee floored, a job whose fee is
not a multiple of 20 wei (under the default 5 %) burned up to 1 wei less than `b * F` yet earned points on
it, so a self-dealer sharing an epoch with exact honest traffic minted back up to `n_w - 1` wei more than
it burned; `test_fees_that_round_down_do_not_let_a_self_dealer_profit` pins the fix.
"""

import boa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offchain.chain.protocol import BPS
from tests.contracts.conftest import DEFAULTS, TSR, deploy_protocol, digest_of, fund, run_job, stake_operator

MIN_FEE = DEFAULTS["min_fee"]


@pytest.fixture
def trader(protocol, operators):
    """An operator with stake, and TSR of its own to pay for the jobs it serves."""
    trader = operators[0]
    stake_operator(protocol, trader)
    fund(protocol, trader, 20_000 * TSR)
    return trader


@pytest.fixture
def honest_workers(protocol, operators):
    for op in operators[1:]:
        stake_operator(protocol, op)
    return operators[1:]


def holdings(protocol, account) -> int:
    """TSR the account controls: wallet, bonded stake and unbonding locks."""
    locks = sum(lock.amount for lock in protocol.staking.locks(account))
    return protocol.token.balanceOf(account) + protocol.staking.bonded(account) + locks


def serve_own_jobs(protocol, trader, fees) -> None:
    for n, fee in enumerate(fees):
        run_job(
            protocol,
            trader,
            [trader],
            [digest_of(f"wash{n}")],
            fee=fee,
            replicas=1,
            quorum=1,
            fund_requester=False,
        )


def serve_honest_jobs(protocol, requester, workers, fees) -> None:
    for n, fee in enumerate(fees):
        worker = workers[n % len(workers)]
        run_job(protocol, requester, [worker], [digest_of(f"honest{n}")], fee=fee, replicas=1, quorum=1)


def claim_everything(protocol, operator) -> int:
    """Move to the next epoch and claim the current one's emission."""
    epoch = protocol.emitter.current_epoch()
    boa.env.time_travel(seconds=protocol.emitter.epoch_start(epoch + 1) - boa.env.timestamp)
    with boa.env.prank(operator):
        return protocol.emitter.claim([epoch])


def test_self_dealing_alone_mints_back_at_most_what_it_burned(protocol, trader):
    start = holdings(protocol, trader)
    fees = [10 * TSR, 250 * TSR, MIN_FEE]
    gas = boa.env.get_gas_used()
    serve_own_jobs(protocol, trader, fees)
    gas = boa.env.get_gas_used() - gas
    minted = claim_everything(protocol, trader)

    burned = sum(fee * DEFAULTS["protocol_fee_bps"] // BPS for fee in fees)
    assert minted == burned  # break-even in TSR: the whole epoch's emission is the trader's own burn
    assert holdings(protocol, trader) == start
    assert gas > 0  # ...and every job cost gas, paid in the chain's native coin


def test_self_dealing_beside_honest_traffic_mints_back_at_most_what_it_burned(
    protocol, trader, honest_workers, requester
):
    start = holdings(protocol, trader)
    serve_honest_jobs(protocol, requester, honest_workers, [30 * TSR, 5 * TSR, 1_000 * TSR])
    serve_own_jobs(protocol, trader, [10 * TSR, 400 * TSR])
    serve_honest_jobs(protocol, requester, honest_workers, [MIN_FEE])
    minted = claim_everything(protocol, trader)

    burned = (10 + 400) * TSR * DEFAULTS["protocol_fee_bps"] // BPS
    assert minted <= burned
    assert holdings(protocol, trader) <= start


def test_self_dealing_when_the_schedule_binds_loses(
    token_deployer, staking_deployer, emitter_deployer, registry_deployer, governance, operators
):
    """With a schedule below the burn, the emission is capped and the trader ends strictly poorer."""
    protocol = deploy_protocol(
        token_deployer,
        staking_deployer,
        emitter_deployer,
        registry_deployer,
        governance,
        initial_emission=TSR,
    )
    trader = operators[0]
    stake_operator(protocol, trader)
    fund(protocol, trader, 1_000 * TSR)
    start = holdings(protocol, trader)
    serve_own_jobs(protocol, trader, [100 * TSR])
    assert claim_everything(protocol, trader) == TSR  # schedule(0) < 5 TSR burned
    assert holdings(protocol, trader) == start - 4 * TSR


# Fees as clients quote them (tenths of a TSR: the protocol fee is exact) or any wei amount at all.
fee = st.one_of(
    st.integers(1, 20_000).map(lambda tenths: tenths * TSR // 10), st.integers(MIN_FEE, 2_000 * TSR)
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wash_fees=st.lists(fee, min_size=1, max_size=4), honest_fees=st.lists(fee, max_size=3))
def test_self_dealing_never_mints_more_than_it_burned(
    protocol, trader, honest_workers, requester, wash_fees, honest_fees
):
    """Over fee sizes and job counts, rounding included: never any gain."""
    start = holdings(protocol, trader)
    serve_honest_jobs(protocol, requester, honest_workers, honest_fees)
    serve_own_jobs(protocol, trader, wash_fees)
    claim_everything(protocol, trader)
    gain = holdings(protocol, trader) - start

    assert gain <= 0


def test_fees_that_round_down_do_not_let_a_self_dealer_profit(protocol, trader, honest_workers, requester):
    start = holdings(protocol, trader)
    serve_honest_jobs(protocol, requester, honest_workers, [10_000 * TSR])  # exact: burns 500 TSR
    serve_own_jobs(protocol, trader, [MIN_FEE + 19] * 3)  # each burns MIN_FEE / 20, 0.95 wei short
    claim_everything(protocol, trader)
    assert holdings(protocol, trader) <= start  # was 2 wei richer when points were the pool paid
