"""JobRegistry.unpause: owner only; posting and claiming resume."""

import boa
from hypothesis import assume, given

from tests.contracts.conftest import post_job
from tests.contracts.registry.conftest import addresses, capped, claim, events


def test_owner_unpauses_and_posting_and_claiming_resume(
    protocol, registry, governance, requester, operator, staked_operators
):
    with boa.env.prank(governance):
        registry.pause()
        registry.unpause()
    (unpaused,) = events(registry, "Unpaused")
    assert unpaused.account == governance
    assert not registry.paused()
    job_id = post_job(protocol, requester)
    claim(protocol, job_id, operator)
    assert registry.get_job(job_id).claims == 1


def test_unpause_when_not_paused_reverts(registry, governance):
    with boa.env.prank(governance), boa.reverts("pausable: contract is not paused"):
        registry.unpause()


@capped
@given(sender=addresses)
def test_non_owner_cannot_unpause(registry, governance, sender):
    assume(sender != governance)
    with boa.env.prank(governance):
        registry.pause()
    with boa.env.prank(sender), boa.reverts("ownable: caller is not the owner"):
        registry.unpause()
