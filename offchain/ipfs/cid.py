"""Content identifiers: the `CID` value type, its string forms, and the varint / multibase codings it needs.

Only what Tessera meets is supported: CIDv0 (base58btc ``Qm...``, always dag-pb) and CIDv1 in lower-case
base32 (``b...``), with a sha2-256 multihash. Anything else is rejected with `InvalidCid`, because a CID we
cannot verify is a CID we must not trust.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Final

from offchain.errors import InvalidCid

# Multicodec codes (https://github.com/multiformats/multicodec/blob/master/table.csv).
DAG_PB: Final = 0x70
RAW: Final = 0x55
SHA2_256: Final = 0x12
SHA2_256_LEN: Final = 32

CODEC_NAMES: Final = {DAG_PB: "dag-pb", RAW: "raw"}

_B58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX: Final = {c: i for i, c in enumerate(_B58_ALPHABET)}
_MAX_CID_TEXT: Final = 256


# --- varint ---------------------------------------------------------------------------------------------
def encode_varint(value: int) -> bytes:
    """Unsigned LEB128, as used by multiformats and protobuf."""
    if value < 0:
        raise ValueError(f"varint must be non-negative, got {value}")
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(buf: bytes | memoryview, pos: int = 0) -> tuple[int, int]:
    """Decode an unsigned varint at ``pos``; return ``(value, next_pos)``. Raises ValueError if malformed."""
    value = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 64 bits")


# --- base58btc ------------------------------------------------------------------------------------------
def b58encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    num = int.from_bytes(data, "big")
    chars = []
    while num:
        num, rem = divmod(num, 58)
        chars.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(chars))


def b58decode(text: str) -> bytes:
    num = 0
    for char in text:
        index = _B58_INDEX.get(char)
        if index is None:
            raise ValueError(f"invalid base58 character {char!r}")
        num = num * 58 + index
    zeros = len(text) - len(text.lstrip("1"))
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    return b"\0" * zeros + body


# --- the CID type ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CID:
    """An immutable CID: ``version`` (0 or 1), ``codec`` (multicodec code) and the raw ``multihash`` bytes.

    ``str(cid)`` gives the canonical text: base58btc for v0, lower-case base32 multibase (``b``) for v1.
    Equality is structural, so a v0 CID and the v1 CID of the same dag-pb block are different values; use
    `same_block` to compare what they address.
    """

    version: int
    codec: int
    multihash: bytes

    def __post_init__(self) -> None:
        if self.version not in (0, 1):
            raise InvalidCid(f"CID version {self.version} is not supported")
        if self.version == 0 and self.codec != DAG_PB:
            raise InvalidCid("a CIDv0 can only address a dag-pb block")
        if (
            len(self.multihash) != 2 + SHA2_256_LEN
            or self.multihash[0] != SHA2_256
            or self.multihash[1] != SHA2_256_LEN
        ):
            raise InvalidCid(
                f"multihash {self.multihash[:2].hex()}... is not sha2-256, the only hash verified here",
                hint="re-add the content with the default hash (sha2-256)",
            )

    # -- constructors --------------------------------------------------------------------------------
    @classmethod
    def from_digest(cls, digest: bytes, *, codec: int = DAG_PB, version: int = 0) -> CID:
        """Build a CID from a sha2-256 digest (32 bytes)."""
        return cls(version, codec, bytes((SHA2_256, SHA2_256_LEN)) + digest)

    @classmethod
    def for_block(cls, block: bytes | memoryview, *, codec: int = DAG_PB, version: int = 0) -> CID:
        """Hash ``block`` with sha2-256 and return its CID."""
        return cls.from_digest(hashlib.sha256(block).digest(), codec=codec, version=version)

    @classmethod
    def parse(cls, text: str | CID) -> CID:
        """Parse ``Qm...`` (CIDv0) or ``b...`` (CIDv1, base32 lower-case). Raises `InvalidCid`."""
        if isinstance(text, CID):
            return text
        if not isinstance(text, str) or not text or len(text) > _MAX_CID_TEXT:
            raise InvalidCid(f"{text!r} is not a CID string")
        text = text.strip()
        if len(text) == 46 and text.startswith("Qm"):
            try:
                multihash = b58decode(text)
            except ValueError as exc:
                raise InvalidCid(f"{text!r} is not valid base58btc ({exc})") from None
            return cls(0, DAG_PB, multihash)
        if text.startswith("b"):
            body = text[1:]
            if body != body.lower():
                raise InvalidCid(f"{text!r}: base32 CIDs must be lower-case after the 'b' prefix")
            try:
                raw = base64.b32decode(body.upper() + "=" * (-len(body) % 8))
            except ValueError as exc:
                raise InvalidCid(f"{text!r} is not valid base32 ({exc})") from None
            return cls.from_bytes(raw, text=text)
        raise InvalidCid(f"{text!r} is neither a CIDv0 (Qm...) nor a base32 CIDv1 (b...)")

    @classmethod
    def from_bytes(cls, raw: bytes | memoryview, *, text: str | None = None) -> CID:
        """Decode the binary form: a bare multihash (v0) or ``<version><codec><multihash>`` (v1)."""
        raw = bytes(raw)
        label = text or raw.hex()
        if len(raw) == 2 + SHA2_256_LEN and raw[0] == SHA2_256 and raw[1] == SHA2_256_LEN:
            return cls(0, DAG_PB, raw)
        try:
            version, pos = decode_varint(raw)
            codec, pos = decode_varint(raw, pos)
            hash_code, hpos = decode_varint(raw, pos)
            length, dpos = decode_varint(raw, hpos)
        except ValueError as exc:
            raise InvalidCid(f"{label!r} is not a binary CID ({exc})") from None
        if version != 1:
            raise InvalidCid(f"{label!r} has CID version {version}; only 0 and 1 exist")
        if hash_code != SHA2_256 or length != SHA2_256_LEN or len(raw) - dpos != length:
            raise InvalidCid(
                f"{label!r} does not use a 32-byte sha2-256 multihash; only those can be verified",
                hint="re-add the content with the default hash (sha2-256)",
            )
        return cls(1, codec, raw[pos:])

    # -- views ---------------------------------------------------------------------------------------
    @property
    def digest(self) -> bytes:
        """The 32-byte sha2-256 digest."""
        return self.multihash[2:]

    @property
    def codec_name(self) -> str:
        return CODEC_NAMES.get(self.codec, hex(self.codec))

    def to_bytes(self) -> bytes:
        """Binary form, as it appears in a dag-pb link."""
        if self.version == 0:
            return self.multihash
        return encode_varint(1) + encode_varint(self.codec) + self.multihash

    def to_v1(self) -> CID:
        return CID(1, self.codec, self.multihash)

    def same_block(self, other: CID) -> bool:
        """True when both CIDs address the same bytes (multihashes match), whatever version or codec."""
        return self.multihash == other.multihash

    def verify(self, block: bytes | memoryview) -> bool:
        """True when ``block`` hashes to this CID's digest."""
        return hashlib.sha256(block).digest() == self.digest

    def __str__(self) -> str:
        if self.version == 0:
            return b58encode(self.multihash)
        return "b" + base64.b32encode(self.to_bytes()).decode("ascii").rstrip("=").lower()

    def __repr__(self) -> str:
        return f"CID({str(self)!r})"
