"""``quantized`` rounds float outputs to the declared decimals before hashing; ``exact`` keeps every bit."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file

from offchain.compute.determinism import canonical_outputs
from offchain.compute.runner import WorkloadRunner
from offchain.compute.tensorio import canonical_bytes

from .support import matmul_document, spec_of


def _bits(value: torch.Tensor) -> list[int]:
    return [struct.unpack("<I", struct.pack("<f", float(x)))[0] for x in value.flatten()]


def test_values_are_rounded_half_to_even_and_negative_zero_becomes_zero() -> None:
    x = torch.tensor([1.23456, -0.0004, 0.0625, 0.1875, -7.5e-7, 123456.789], dtype=torch.float64)
    out = canonical_outputs({"x": x}, decimals=3)["x"]  # 62.5 and 187.5 are exact halves: to even
    assert out.tolist() == [1.235, 0.0, 0.062, 0.188, 0.0, 123456.789]
    assert all(not torch.signbit(v) for v in out[[1, 4]])


def test_float32_is_rounded_and_stays_float32() -> None:
    x = torch.tensor([0.1234567, 5.55555], dtype=torch.float32)
    out = canonical_outputs({"x": x}, decimals=2)["x"]
    assert out.dtype == torch.float32
    assert out.tolist() == torch.tensor([0.12, 5.56], dtype=torch.float32).tolist()


def test_every_nan_becomes_one_bit_pattern_in_both_modes() -> None:
    nans = torch.tensor([1.0, 2.0, 3.0]).view(torch.int32)
    nans[:] = torch.tensor([0x7FC00000, 0x7FC00001, -0x00400000], dtype=torch.int32)  # three NaN payloads
    for decimals in (None, 4):
        out = canonical_outputs({"x": nans.view(torch.float32)}, decimals=decimals)["x"]
        assert len(set(_bits(out))) == 1


def test_huge_values_and_integers_pass_through() -> None:
    huge = torch.tensor([1e300, -1e300, float("inf")], dtype=torch.float64)
    assert canonical_outputs({"h": huge}, decimals=12)["h"].tolist() == huge.tolist()
    ints = torch.tensor([1, -2, 3], dtype=torch.int64)
    assert torch.equal(canonical_outputs({"i": ints}, decimals=2)["i"], ints)


def test_results_within_the_precision_hash_equal_only_when_quantized() -> None:
    x = torch.linspace(-3, 3, 50, dtype=torch.float64)
    nudged = x + 1e-10
    for decimals, equal in ((6, True), (None, False)):
        a = canonical_bytes(canonical_outputs({"x": x}, decimals=decimals), {})
        b = canonical_bytes(canonical_outputs({"x": nudged}, decimals=decimals), {})
        assert (a == b) is equal


def test_quantized_job_result_is_rounded(make_runner: Callable[..., WorkloadRunner], job_dir: Path) -> None:
    document = {**matmul_document(n=12, seed=3), "determinism": {"mode": "quantized", "decimals": 2}}
    result = make_runner().run(spec_of(document), {}, job_dir)
    c = load_file(result.path)["c"]
    assert torch.equal(c, torch.round(c.double(), decimals=2).float())
    generator = torch.Generator().manual_seed(3)
    a, b = torch.randn(12, 12, generator=generator), torch.randn(12, 12, generator=generator)
    torch.testing.assert_close(c, a @ b, atol=0.005 + 1e-5, rtol=0)
    with safe_open(result.path, framework="pt") as handle:
        assert handle.metadata()["tessera.determinism"] == "quantized:2"
