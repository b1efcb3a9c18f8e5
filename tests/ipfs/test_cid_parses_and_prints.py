"""CID strings round-trip; anything that is not a verifiable CIDv0/base32 CIDv1 is refused with InvalidCid."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from offchain.errors import InvalidCid
from offchain.ipfs import CID
from offchain.ipfs.cid import DAG_PB, RAW, decode_varint, encode_varint

V0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
V1_RAW = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4"
# The CIDv1 (dag-pb) form of V0: same multihash.
V1_PB = "bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby"


@pytest.mark.parametrize("text", [V0, V1_RAW, V1_PB])
def test_round_trip(text: str) -> None:
    cid = CID.parse(text)
    assert str(cid) == text
    assert CID.from_bytes(cid.to_bytes()) == cid
    assert CID.parse(cid) is cid


def test_fields() -> None:
    v0, raw = CID.parse(V0), CID.parse(V1_RAW)
    assert (v0.version, v0.codec, v0.codec_name) == (0, DAG_PB, "dag-pb")
    assert (raw.version, raw.codec, raw.codec_name) == (1, RAW, "raw")
    assert len(v0.digest) == 32


def test_v0_and_v1_of_one_block_are_different_values_for_the_same_block() -> None:
    v0, v1 = CID.parse(V0), CID.parse(V1_PB)
    assert v0 != v1
    assert v0.same_block(v1)
    assert v0.to_v1() == v1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        V0[:-1],
        V0[:-1] + "0",  # '0' is not base58
        "B" + V1_RAW[1:].upper(),  # base32 upper-case multibase: not accepted
        "b" + V1_RAW[1:].upper(),
        "zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA",  # base58 CIDv1: not accepted
        "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei",  # truncated
        # identity multihash (an inline CID): nothing to verify against
        "bafkqaddimvwgy3zao5xxe3debi",
        "x" * 1000,
    ],
)
def test_invalid_strings_are_refused(text: str) -> None:
    with pytest.raises(InvalidCid):
        CID.parse(text)


def test_invalid_cid_message_says_what_to_pass() -> None:
    with pytest.raises(InvalidCid, match=r"E_INVALID_CID: 'nope' is neither .* Next: pass a CIDv0"):
        CID.parse("nope")


@settings(max_examples=200)
@given(st.integers(0, 2**63 - 1))
def test_varint_round_trip(value: int) -> None:
    encoded = encode_varint(value)
    assert decode_varint(encoded) == (value, len(encoded))
