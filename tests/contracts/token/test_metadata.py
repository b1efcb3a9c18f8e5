"""TesseraToken views: DOMAIN_SEPARATOR and eip712Domain (EIP-5267)."""

from eth_abi import encode
from eth_utils import keccak

EIP712_TYPE = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")


def test_domain_separator_matches_eip712(token):
    expected = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [EIP712_TYPE, keccak(b"Tessera"), keccak(b"1"), 1, str(token.address)],
        )
    )
    assert token.DOMAIN_SEPARATOR() == expected


def test_eip712_domain_describes_the_token(token):
    fields, name, version, chain_id, verifying_contract, salt, extensions = token.eip712Domain()
    assert fields == b"\x0f"
    assert (name, version, chain_id, verifying_contract) == ("Tessera", "1", 1, token.address)
    assert salt == b"\x00" * 32
    assert extensions == []
