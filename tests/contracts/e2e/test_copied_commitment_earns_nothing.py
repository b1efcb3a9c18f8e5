"""A worker that copies another's commitment instead of computing cannot open it, and pays for trying.

The commitment binds the worker's address and a secret salt (DESIGN §2.2, reliability §2.4 / T5):
`keccak256(abi_encode(chain_id, registry, job_id, worker, result_digest, keccak256(result_cid), salt))`.
A copier that
front-runs or mirrors the honest worker's commitment holds a value that only the honest worker can
reveal; even once the honest reveal has published the digest and salt, the copier's reveal does not
match (its own address is what the registry hashes). It stays a committed, unrevealed claimant: slashed at
the wrong-result rate and jailed at finalisation (a withheld reveal, T29), the slash burned; the honest
workers are paid.
"""

import boa

from offchain.chain.protocol import BPS, Phase, SlashReason
from tests.contracts.conftest import DEFAULTS, RESULT_CID, TSR, commit, digest_of, post_job, reveal, salt_of

COMPLETED = Phase.COMPLETED
REASON_WITHHELD = SlashReason.WITHHELD


def test_copied_commitment_cannot_be_revealed_and_is_slashed(protocol, requester, staked_operators):
    honest, second, copier = staked_operators[:3]
    result = digest_of("the true result")
    fee, collateral = 30 * TSR, 20 * TSR
    job_id = post_job(protocol, requester, fee=fee, replicas=3, quorum=2, collateral=collateral)
    for worker in (honest, second, copier):
        with boa.env.prank(worker):
            protocol.registry.claim(job_id)

    # The copier reads the honest commitment (from the mempool) and lands it first: uniqueness is per
    # (job, worker), not per hash, so the honest worker can still commit the same value after it.
    honest_commitment = protocol.registry.commitment_for(job_id, honest, result, RESULT_CID, salt_of(honest))
    with boa.env.prank(copier):
        protocol.registry.commit(job_id, honest_commitment)
    commit(protocol, job_id, honest, result)
    commit(protocol, job_id, second, result)

    reveal(protocol, job_id, honest, result)
    # Everything the honest reveal made public does not open the copier's commitment.
    for salt in (salt_of(honest), salt_of(copier)):
        with boa.env.prank(copier), boa.reverts("registry: reveal does not match commitment"):
            protocol.registry.reveal(job_id, result, "bafyresult", salt)
    reveal(protocol, job_id, second, result)
    assert protocol.registry.worker_entry(job_id, copier).revealed is False

    with boa.reverts("registry: reveals pending"):
        protocol.registry.finalize(job_id)
    boa.env.time_travel(seconds=protocol.registry.get_job(job_id).reveal_deadline - boa.env.timestamp)

    wallets = {w: protocol.token.balanceOf(w) for w in (honest, second, copier)}
    copier_bonded = protocol.staking.bonded(copier)
    protocol.registry.finalize(job_id)
    slashed = [e for e in protocol.registry.get_logs() if type(e).__name__ == "OperatorSlashed"]

    assert protocol.registry.get_job(job_id).phase == COMPLETED
    slash = collateral * DEFAULTS["wrong_result_slash_bps"] // BPS
    pool = fee - fee * DEFAULTS["protocol_fee_bps"] // BPS
    # The copier committed and could not reveal: paid nothing, no points, slashed like a wrong result
    # (a withheld reveal is never cheaper than a wrong one) and jailed; the slash is burned.
    assert protocol.token.balanceOf(copier) == wallets[copier]
    assert protocol.staking.bonded(copier) == copier_bonded - slash
    assert protocol.emitter.points_of(copier, 0) == 0
    assert not protocol.staking.is_eligible(copier)
    assert [(str(e.operator), e.reason, e.amount, e.reward) for e in slashed] == [
        (copier, REASON_WITHHELD, slash, 0)
    ]
    # The honest workers split the pool; nobody is paid from the copier's slash.
    for worker in (honest, second):
        assert protocol.token.balanceOf(worker) - wallets[worker] == pool // 2
        assert protocol.emitter.points_of(worker, 0) == (fee - pool) // 2
        assert protocol.staking.locked(worker) == 0
