"""The subset of DAG-CBOR that CAR files need: decode any DAG-CBOR value (to read a CAR header and to find
the links of a dag-cbor block), encode the few value kinds a CAR header holds.

DAG-CBOR is CBOR with rules (https://ipld.io/specs/codecs/dag-cbor/spec/): definite lengths only, map keys
are strings sorted by length then bytes, and a link is tag 42 over the bytes ``0x00 + binary CID``. The
input is untrusted: every length is checked against what is left, nesting is bounded, and anything outside
the rules is `MalformedDag`, never an exception from deeper down.
"""

from __future__ import annotations

import struct
from typing import Final

from offchain.ipfs.cid import CID
from offchain.ipfs.errors import InvalidCid, MalformedDag

DAG_CBOR: Final = 0x71
MAX_DEPTH: Final = 64
_TAG_CID: Final = 42

Value = None | bool | int | float | str | bytes | CID | list["Value"] | dict[str, "Value"]


# --- decoding -------------------------------------------------------------------------------------------
def decode(buf: bytes | memoryview, *, label: str = "DAG-CBOR") -> Value:
    """The one DAG-CBOR value that makes up ``buf`` (trailing bytes are an error)."""
    view = memoryview(buf)
    try:
        value, pos = _value(view, 0, 0)
    except (ValueError, IndexError, struct.error, UnicodeDecodeError) as exc:
        raise MalformedDag(f"cannot decode {label}: {exc}") from None
    except InvalidCid as exc:
        raise MalformedDag(f"cannot decode {label}: a link is not a verifiable CID ({exc.message})") from None
    if pos != len(view):
        raise MalformedDag(f"cannot decode {label}: {len(view) - pos} bytes after the value")
    return value


def links(value: Value) -> list[CID]:
    """Every CID in ``value``, in encoding order (map values in key order, as they were written)."""
    found: list[CID] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, CID):
            found.append(item)
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return found


def _head(view: memoryview, pos: int) -> tuple[int, int, int]:
    """``(major type, argument, next position)``; indefinite lengths and reserved values are refused."""
    initial = view[pos]
    major, info = initial >> 5, initial & 0x1F
    pos += 1
    if info < 24:
        return major, info, pos
    if info > 27:
        raise ValueError(f"additional information {info} (indefinite or reserved) is not DAG-CBOR")
    width = 1 << (info - 24)
    if pos + width > len(view):
        raise ValueError("truncated item head")
    return major, int.from_bytes(view[pos : pos + width], "big"), pos + width


def _value(view: memoryview, pos: int, depth: int) -> tuple[Value, int]:
    if depth > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH}")
    if pos >= len(view):
        raise ValueError("truncated value")
    initial = view[pos]
    major, arg, pos = _head(view, pos)
    if major == 0:
        return arg, pos
    if major == 1:
        return -1 - arg, pos
    if major in (2, 3):
        if pos + arg > len(view):
            raise ValueError("a byte or text string runs past the end")
        raw = bytes(view[pos : pos + arg])
        return (raw if major == 2 else raw.decode("utf-8")), pos + arg
    if major in (4, 5):
        if arg > len(view) - pos:
            raise ValueError(f"{arg} items announced with {len(view) - pos} bytes left")
        if major == 4:
            items: list[Value] = []
            for _ in range(arg):
                item, pos = _value(view, pos, depth + 1)
                items.append(item)
            return items, pos
        mapping: dict[str, Value] = {}
        for _ in range(arg):
            key, pos = _value(view, pos, depth + 1)
            if not isinstance(key, str):
                raise ValueError("a map key is not a string")
            if key in mapping:
                raise ValueError(f"duplicate map key {key!r}")
            mapping[key], pos = _value(view, pos, depth + 1)
        return mapping, pos
    if major == 6:
        if arg != _TAG_CID:
            raise ValueError(f"tag {arg} is not allowed (only 42, a link)")
        payload, pos = _value(view, pos, depth + 1)
        if not isinstance(payload, bytes) or not payload.startswith(b"\0"):
            raise ValueError("tag 42 does not hold 0x00 + a binary CID")
        return CID.from_bytes(payload[1:]), pos
    # major 7: simple values and floats
    info = initial & 0x1F
    simple = {20: False, 21: True, 22: None}
    if info in simple:
        return simple[info], pos
    if info in (25, 26, 27):
        fmt = {25: ">e", 26: ">f", 27: ">d"}[info]
        return struct.unpack(fmt, view[pos - struct.calcsize(fmt) : pos])[0], pos
    raise ValueError(f"simple value {info} is not DAG-CBOR")


# --- encoding -------------------------------------------------------------------------------------------
def encode(value: Value) -> bytes:
    """Canonical DAG-CBOR for maps, lists, strings, bytes, non-negative ints and CIDs (a CAR header)."""
    if isinstance(value, CID):
        payload = b"\0" + value.to_bytes()
        return _encode_head(6, _TAG_CID) + _encode_head(2, len(payload)) + payload
    if isinstance(value, bool) or value is None:
        return bytes((0xF5 if value else 0xF4,)) if value is not None else b"\xf6"
    if isinstance(value, int):
        if value < 0:
            raise ValueError("negative integers are not needed in a CAR header")
        return _encode_head(0, value)
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _encode_head(3, len(raw)) + raw
    if isinstance(value, bytes):
        return _encode_head(2, len(value)) + value
    if isinstance(value, list):
        return _encode_head(4, len(value)) + b"".join(encode(item) for item in value)
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode("utf-8")), k.encode("utf-8")))
        return _encode_head(5, len(keys)) + b"".join(encode(k) + encode(value[k]) for k in keys)
    raise TypeError(f"cannot encode {type(value).__name__} as DAG-CBOR here")


def _encode_head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes((major << 5 | arg,))
    for info, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * width):
            return bytes((major << 5 | info,)) + arg.to_bytes(width, "big")
    raise ValueError("integer too large for CBOR")
