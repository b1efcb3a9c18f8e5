"""JobRegistry.is_selected: whether an operator passes selection for the job's current round now and the
round's claim window is open. The ticket is bound to the operator: in the same block one operator may
claim and another may not (a mempool watcher cannot take a selected operator's slot)."""

import boa
import pytest
from eth_utils import keccak

from tests.contracts.conftest import post_job
from tests.contracts.registry.conftest import WINDOW, claim, deploy_protocol, warp_to
from tests.contracts.registry.selection import set_prevrandao

NOT_SELECTED = "registry: not selected for this job yet (see selected_at)"


@pytest.fixture(scope="module")
def protocol(token_deployer, staking_deployer, emitter_deployer, registry_deployer, governance):
    deployers = (token_deployer, staking_deployer, emitter_deployer, registry_deployer)
    return deploy_protocol(*deployers, governance, selection_factor=None)


def split_job(protocol, requester, operators):
    """A job (1 replica, k = 2 of 8 equal stakes: 25 % each at the opening) with both a selected and an
    unselected operator at the opening."""
    set_prevrandao(keccak(b"is_selected"))
    registry = protocol.registry
    for _ in range(30):
        job_id = post_job(protocol, requester)
        opened = registry.get_job(job_id).claim_deadline - WINDOW
        times = {op: registry.selected_at(job_id, op) for op in operators}
        chosen = [op for op in operators if times[op] == opened]
        waiting = [op for op in operators if times[op] > opened]
        if chosen and waiting:
            return job_id, chosen[0], waiting[0]
    pytest.fail("no job with both a selected and an unselected operator in 30")


def test_is_selected_agrees_with_selected_at(protocol, registry, requester, staked_operators):
    job_id, chosen, waiting = split_job(protocol, requester, staked_operators)
    assert registry.is_selected(job_id, chosen)
    assert not registry.is_selected(job_id, waiting)
    warp_to(registry.selected_at(job_id, waiting))
    assert registry.is_selected(job_id, waiting) == (
        registry.selected_at(job_id, waiting) < registry.get_job(job_id).claim_deadline
    )


def test_the_ticket_is_bound_to_the_sender(protocol, registry, requester, staked_operators):
    """Same block: the unselected operator's claim reverts, the selected one's succeeds."""
    job_id, chosen, waiting = split_job(protocol, requester, staked_operators)
    with boa.env.prank(waiting), boa.reverts(NOT_SELECTED):
        registry.claim(job_id)
    claim(protocol, job_id, chosen)
    assert registry.claimants(job_id) == [chosen]


def test_not_selected_once_the_claim_window_closes(protocol, registry, requester, staked_operators):
    job_id, chosen, _ = split_job(protocol, requester, staked_operators)
    warp_to(registry.get_job(job_id).claim_deadline - 1)
    assert registry.is_selected(job_id, chosen)
    warp_to(registry.get_job(job_id).claim_deadline)
    assert not registry.is_selected(job_id, chosen)


def test_unknown_job_or_no_stake_is_not_selected(protocol, registry, requester, staked_operators, stranger):
    job_id = post_job(protocol, requester)
    assert not registry.is_selected(job_id, stranger)
    for unknown in (0, job_id + 1):
        assert not registry.is_selected(unknown, staked_operators[0])
