"""Result bytes depend only on the tensors and metadata: fixed key and data order, aligned, loadable.

safetensors' own ``save`` is not enough: in 0.8 it writes ``__metadata__`` in a per-process hash order,
so the same tensors could hash differently on two workers.
"""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load

from offchain.compute.tensorio import DTYPE_CODES, canonical_bytes

METADATA = {"tessera.version": "1", "tessera.workload": "matmul", "tessera.determinism": "exact"}


def _tensors() -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return {
        "weights": torch.randn(3, 5, generator=generator),
        "a_bias": torch.randn(3, dtype=torch.float64, generator=generator),
        "mask": torch.tensor([True, False, True]),
        "steps": torch.arange(7, dtype=torch.int16),
        "half": torch.randn(2, 3, generator=generator).to(torch.bfloat16),
        "empty": torch.zeros(0, 4),
        "scalar": torch.tensor(2.5),
    }


def _header(data: bytes) -> dict[str, dict]:
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + size])


def test_insertion_order_of_tensors_and_metadata_does_not_matter() -> None:
    tensors = _tensors()
    reordered = dict(reversed(tensors.items()))
    assert canonical_bytes(tensors, METADATA) == canonical_bytes(reordered, dict(reversed(METADATA.items())))


def test_bytes_load_back_with_safetensors() -> None:
    tensors = _tensors()
    loaded = load(canonical_bytes(tensors, METADATA))
    assert set(loaded) == set(tensors)
    for name, tensor in tensors.items():
        assert loaded[name].dtype == tensor.dtype and torch.equal(loaded[name], tensor), name


def test_layout_is_sorted_compact_and_aligned() -> None:
    data = canonical_bytes(_tensors(), METADATA)
    size = int.from_bytes(data[:8], "little")
    text = data[8 : 8 + size]
    assert size % 8 == 0
    assert text.rstrip(b" ") == json.dumps(_header(data), sort_keys=True, separators=(",", ":")).encode()
    header = _header(data)
    assert header.pop("__metadata__") == METADATA
    spans = sorted((entry["data_offsets"], name) for name, entry in header.items())
    end = 0
    for (begin, stop), name in spans:
        item = {code: item for code, item in DTYPE_CODES.values()}[header[name]["dtype"]]
        assert begin == end and begin % item == 0, name  # contiguous, each tensor aligned to its element size
        end = stop
    assert 8 + size + end == len(data)


def test_views_and_transposes_serialise_as_their_values() -> None:
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    assert canonical_bytes({"t": base.t()}, {}) == canonical_bytes({"t": base.t().contiguous()}, {})
    assert canonical_bytes({"t": base[1]}, {}) == canonical_bytes({"t": base[1].clone()}, {})


def test_unsupported_dtypes_are_refused() -> None:
    with pytest.raises(ValueError, match="complex64"):
        canonical_bytes({"z": torch.zeros(2, dtype=torch.complex64)}, {})
