"""Staking.set_job_registry: owner only, once, non-zero."""

import boa
from hypothesis import assume, given

from tests.contracts.staking.conftest import ZERO, addresses, capped, events


def test_owner_names_the_job_registry(unwired_staking, governance, job_registry):
    with boa.env.prank(governance):
        unwired_staking.set_job_registry(job_registry)
    (set_event,) = events(unwired_staking, "JobRegistrySet")
    assert set_event.job_registry == job_registry
    assert unwired_staking.job_registry() == job_registry


def test_job_registry_cannot_be_replaced(staking, governance, stranger):
    with boa.env.prank(governance), boa.reverts("staking: job registry already set"):
        staking.set_job_registry(stranger)


def test_zero_job_registry_reverts(unwired_staking, governance):
    with boa.env.prank(governance), boa.reverts("staking: job registry is zero"):
        unwired_staking.set_job_registry(ZERO)


@capped
@given(sender=addresses)
def test_non_owner_cannot_name_the_job_registry(unwired_staking, governance, sender):
    assume(sender != governance)
    with boa.env.prank(sender), boa.reverts("ownable: caller is not the owner"):
        unwired_staking.set_job_registry(sender)
