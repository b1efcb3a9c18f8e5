"""RewardEmitter.set_job_registry: deployer only, once, non-zero."""

import boa
from hypothesis import assume, given

from tests.contracts.emitter.conftest import ZERO, addresses, capped, events


def test_deployer_names_the_job_registry(unwired_emitter, governance, job_registry):
    with boa.env.prank(governance):
        unwired_emitter.set_job_registry(job_registry)
    (set_event,) = events(unwired_emitter, "JobRegistrySet")
    assert set_event.job_registry == job_registry
    assert unwired_emitter.job_registry() == job_registry


def test_job_registry_cannot_be_replaced(emitter, governance, stranger):
    with boa.env.prank(governance), boa.reverts("emitter: job registry already set"):
        emitter.set_job_registry(stranger)


def test_zero_job_registry_reverts(unwired_emitter, governance):
    with boa.env.prank(governance), boa.reverts("emitter: job registry is zero"):
        unwired_emitter.set_job_registry(ZERO)


@capped
@given(sender=addresses)
def test_only_the_deployer_can_name_the_job_registry(unwired_emitter, governance, sender):
    assume(sender != governance)
    with boa.env.prank(sender), boa.reverts("emitter: caller is not the deployer"):
        unwired_emitter.set_job_registry(sender)
