"""TesseraToken.permit (EIP-2612) and nonces."""

import boa
import pytest
from eth_account import Account
from eth_utils import keccak

from tests.contracts.token.conftest import events

DEADLINE_SLACK = 3_600


@pytest.fixture(scope="module")
def signer():
    return Account.from_key(keccak(b"tessera permit signer"))


def sign_permit(token, signer, spender, value, nonce, deadline, chain_id=1):
    signed = Account.sign_typed_data(
        signer.key,
        domain_data={
            "name": "Tessera",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": str(token.address),
        },
        message_types={
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ]
        },
        message_data={
            "owner": signer.address,
            "spender": str(spender),
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        },
    )
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def test_valid_permit_sets_allowance_and_bumps_nonce(token, signer, spender, stranger):
    deadline = boa.env.timestamp + DEADLINE_SLACK
    v, r, s = sign_permit(token, signer, spender, 500, 0, deadline)
    with boa.env.prank(stranger):  # anyone may submit a signed permit
        token.permit(signer.address, spender, 500, deadline, v, r, s)
    (approval,) = events(token, "Approval")
    assert (approval.owner, approval.spender, approval.value) == (signer.address, spender, 500)
    assert token.allowance(signer.address, spender) == 500
    assert token.nonces(signer.address) == 1


def test_permit_replay_reverts(token, signer, spender):
    deadline = boa.env.timestamp + DEADLINE_SLACK
    v, r, s = sign_permit(token, signer, spender, 500, 0, deadline)
    token.permit(signer.address, spender, 500, deadline, v, r, s)
    with boa.reverts("erc20: invalid signature"):
        token.permit(signer.address, spender, 500, deadline, v, r, s)


def test_permit_at_deadline_is_accepted_and_one_second_later_reverts(token, signer, spender):
    deadline = boa.env.timestamp + DEADLINE_SLACK
    v, r, s = sign_permit(token, signer, spender, 500, 0, deadline)
    with boa.env.anchor():
        boa.env.time_travel(seconds=DEADLINE_SLACK)
        token.permit(signer.address, spender, 500, deadline, v, r, s)
    boa.env.time_travel(seconds=DEADLINE_SLACK + 1)
    with boa.reverts("erc20: expired deadline"):
        token.permit(signer.address, spender, 500, deadline, v, r, s)


def test_permit_with_altered_value_reverts(token, signer, spender):
    deadline = boa.env.timestamp + DEADLINE_SLACK
    v, r, s = sign_permit(token, signer, spender, 500, 0, deadline)
    with boa.reverts("erc20: invalid signature"):
        token.permit(signer.address, spender, 501, deadline, v, r, s)


def test_permit_signed_for_another_chain_reverts(token, signer, spender):
    deadline = boa.env.timestamp + DEADLINE_SLACK
    v, r, s = sign_permit(token, signer, spender, 500, 0, deadline, chain_id=5)
    with boa.reverts("erc20: invalid signature"):
        token.permit(signer.address, spender, 500, deadline, v, r, s)
