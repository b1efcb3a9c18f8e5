"""Tensor files: recognise safetensors without loading anything, load them safely, write canonical results.

``check_safetensors`` reads only the 8-byte length prefix and the JSON header, so the parent process can
refuse a pickle (or anything else) before any loader touches it; nothing here ever unpickles.
``canonical_bytes`` is our own safetensors writer, because safetensors 0.8's ``save`` writes
``__metadata__`` in a per-process hash order, so equal tensors could give different digests. Its layout is
fixed: header keys sorted, no whitespace, padded with spaces to a multiple of 8 bytes; data ordered by
(element size descending, name), so every tensor is aligned to its element size; little-endian.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from offchain.compute.errors import UnsafeWeights
from offchain.compute.jsonscan import nesting_depth

if TYPE_CHECKING:
    import torch

MAX_HEADER_BYTES = 16 << 20
MAX_HEADER_DEPTH = 8
"""A safetensors header nests 3 deep (``{name: {"shape": [...]}}``). Deeper is refused by a linear scan before
``json.loads``, whose C parser recurses once per level, bounded only by the process's recursion limit, which
libraries raise on import (py_ecc sets 100,000): a header 100,000 deep then overflows the thread's C stack
and kills the worker itself, not just the job."""
# torch dtype name -> (safetensors dtype code, element size in bytes)
DTYPE_CODES: dict[str, tuple[str, int]] = {
    "float64": ("F64", 8),
    "float32": ("F32", 4),
    "float16": ("F16", 2),
    "bfloat16": ("BF16", 2),
    "int64": ("I64", 8),
    "int32": ("I32", 4),
    "int16": ("I16", 2),
    "int8": ("I8", 1),
    "uint8": ("U8", 1),
    "bool": ("BOOL", 1),
}
_FOREIGN = (
    (b"PK\x03\x04", "a zip archive (the torch.save format, which holds a pickle)"),
    (b"\x93NUMPY", "a NumPy .npy file (which may hold a pickle)"),
    (b"\x89HDF", "an HDF5 file"),
    (b"\x1f\x8b", "a gzip file"),
)


def check_safetensors(data: bytes, *, source: str, total: int | None = None) -> dict[str, Any]:
    """Return the parsed safetensors header of ``data`` or raise ``UnsafeWeights`` naming what it is.

    ``data`` may be only the start of the file (at least its header) when ``total`` gives the file size.
    """
    total = len(data) if total is None else total
    size = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    if not 2 <= size <= min(MAX_HEADER_BYTES, total - 8) or data[8:9] != b"{" or len(data) < 8 + size:
        what = _foreign_format(data) or f"not safetensors (length prefix {size:,} of {total:,} bytes)"
        raise UnsafeWeights(f"{source} is {what}; it was not loaded")
    try:
        text = data[8 : 8 + size].decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafeWeights(f"{source} has a safetensors length prefix but its header is not UTF-8") from None
    depth = nesting_depth(text)
    if depth > MAX_HEADER_DEPTH:
        raise UnsafeWeights(
            f"{source}: the safetensors header nests {depth:,} levels deep (a real one nests 3); "
            "it was not loaded"
        )
    try:
        header = json.loads(text)
    except (ValueError, RecursionError):
        raise UnsafeWeights(f"{source} has a safetensors length prefix but its header is not JSON") from None
    if not isinstance(header, dict):
        raise UnsafeWeights(f"{source}: the safetensors header is not a JSON object")
    return header


def check_safetensors_file(path: Path, *, source: str) -> dict[str, Any]:
    """``check_safetensors`` on a file, reading only its length prefix and header."""
    with open(path, "rb") as handle:
        total = os.fstat(handle.fileno()).st_size
        head = handle.read(8)
        size = int.from_bytes(head, "little") if len(head) == 8 else 0
        head += handle.read(min(size, MAX_HEADER_BYTES))
    return check_safetensors(head, source=source, total=total)


def load_tensors(data: bytes, *, source: str) -> dict[str, torch.Tensor]:
    """Check then load safetensors bytes onto the CPU (safetensors' Rust parser; never pickle)."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    check_safetensors(data, source=source)
    try:
        return load(data)
    except (SafetensorError, ValueError, TypeError, KeyError) as err:
        raise UnsafeWeights(f"{source} is not a valid safetensors file: {str(err)[:200]}") from None


def load_tensor_file(path: Path, *, source: str) -> dict[str, torch.Tensor]:
    """Check then load a safetensors file onto the CPU through a memory map (no second copy in memory)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    check_safetensors_file(path, source=source)
    try:
        return load_file(path, device="cpu")
    except (SafetensorError, ValueError, TypeError, KeyError) as err:
        raise UnsafeWeights(f"{source} is not a valid safetensors file: {str(err)[:200]}") from None


def canonical_bytes(tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str]) -> bytes:
    """Serialise CPU tensors as canonical safetensors: equal tensors and metadata give equal bytes."""
    if sys.byteorder != "little":
        raise RuntimeError("canonical results are little-endian; this host is big-endian")
    entries = []
    for name, tensor in tensors.items():
        dtype_name = str(tensor.dtype).removeprefix("torch.")
        if dtype_name not in DTYPE_CODES:
            raise ValueError(f"result tensor {name!r} has dtype {dtype_name}, which results do not support")
        code, item = DTYPE_CODES[dtype_name]
        entries.append((-item, name, code, tensor.detach().to("cpu").contiguous()))
    entries.sort(key=lambda entry: (entry[0], entry[1]))

    header: dict[str, Any] = {"__metadata__": dict(metadata)}
    chunks: list[bytes] = []
    offset = 0
    for _, name, code, tensor in entries:
        nbytes = tensor.numel() * tensor.element_size()
        chunks.append(ctypes.string_at(tensor.data_ptr(), nbytes) if nbytes else b"")
        header[name] = {"dtype": code, "shape": list(tensor.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + b"".join(chunks)


def _foreign_format(data: bytes) -> str | None:
    """Name a known format, for the message only (called once the bytes are known not to be safetensors)."""
    for magic, what in _FOREIGN:
        if data.startswith(magic):
            return what
    if data[:1] == b"\x80" or data[-1:] == b".":
        return "a Python pickle (the torch.save legacy format)"
    return None
