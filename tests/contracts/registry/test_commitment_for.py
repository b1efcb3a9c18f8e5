"""JobRegistry.commitment_for: keccak256(abi_encode(chain_id, registry, job_id, worker, result_digest,
keccak256(result_cid), salt)), the same value workers compute off-chain
(`offchain.chain.bindings.commitment`)."""

import boa
from eth_abi import encode
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from offchain.chain.bindings import commitment as worker_commitment
from tests.contracts.registry.conftest import addresses, capped

words = st.binary(min_size=32, max_size=32)
cids = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=100)
CID = "bafyresult"


def expected(chain_id, registry, job_id, worker, result_digest, result_cid, salt) -> bytes:
    return keccak(
        encode(
            ["uint256", "address", "uint256", "address", "bytes32", "bytes32", "bytes32"],
            [
                chain_id,
                str(registry.address),
                job_id,
                worker,
                result_digest,
                keccak(result_cid.encode()),
                salt,
            ],
        )
    )


@capped
@given(job_id=st.integers(0, 2**256 - 1), worker=addresses, result_digest=words, result_cid=cids, salt=words)
def test_commitment_matches_the_python_encoding(registry, job_id, worker, result_digest, result_cid, salt):
    ours = registry.commitment_for(job_id, worker, result_digest, result_cid, salt)
    assert ours == expected(1, registry, job_id, worker, result_digest, result_cid, salt)
    assert ours == worker_commitment(1, registry.address, job_id, worker, result_digest, result_cid, salt)


def test_commitment_binds_the_chain_id(registry, operator):
    args = (1, operator, b"\x01" * 32, CID, b"\x02" * 32)
    on_mainnet = registry.commitment_for(*args)
    boa.env.evm.patch.chain_id = 8453
    assert registry.commitment_for(*args) == expected(8453, registry, *args) != on_mainnet


def test_commitment_binds_the_registry_worker_job_cid_and_salt(registry, operators):
    base = registry.commitment_for(1, operators[0], b"\x01" * 32, CID, b"\x02" * 32)
    assert registry.commitment_for(2, operators[0], b"\x01" * 32, CID, b"\x02" * 32) != base
    assert registry.commitment_for(1, operators[1], b"\x01" * 32, CID, b"\x02" * 32) != base
    assert registry.commitment_for(1, operators[0], b"\x01" * 32, CID, b"\x03" * 32) != base
    assert registry.commitment_for(1, operators[0], b"\x04" * 32, CID, b"\x02" * 32) != base
    assert registry.commitment_for(1, operators[0], b"\x01" * 32, CID + "x", b"\x02" * 32) != base
