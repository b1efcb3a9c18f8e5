"""Each workload runs end to end through the runner on CPU and gives what its torch code gives in-process."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load, load_file

from offchain.compute import demo_models
from offchain.compute.runner import WorkloadRunner
from offchain.compute.tensorio import canonical_bytes
from offchain.compute.workloads import Matmul
from offchain.compute.workloads.mlp import forward, mlp_layers

from .support import DATA_CID, INPUT_CID, WEIGHTS_CID, matmul_document, spec_of

CPU = torch.device("cpu")


def test_matmul_returns_the_seeded_product(make_runner: Callable[..., WorkloadRunner], job_dir: Path) -> None:
    spec = spec_of(matmul_document(n=24, seed=5, iterations=3, dtype="float64"))
    result = make_runner().run(spec, {}, job_dir)

    generator = torch.Generator().manual_seed(5)
    a = torch.randn(24, 24, dtype=torch.float64, generator=generator)
    b = torch.randn(24, 24, dtype=torch.float64, generator=generator)
    torch.testing.assert_close(load_file(result.path)["c"], a @ b, rtol=1e-12, atol=1e-12)
    assert result.digest == hashlib.sha256(result.path.read_bytes()).digest()
    assert result.size == result.path.stat().st_size
    assert (
        result.device == "cpu"
        and result.device_class.startswith("cpu:")
        and "threads-1" in result.device_class
    )
    assert 0 < result.compute_s < result.wall_s and 0 < result.startup_s < result.wall_s
    with safe_open(result.path, framework="pt") as handle:
        assert handle.metadata() == {
            "tessera.determinism": "exact",
            "tessera.version": "1",
            "tessera.workload": "matmul",
        }


def test_large_matmul_returns_a_bounded_summary() -> None:
    n = 520
    out = Matmul(name="matmul", n=n, seed=2).run({}, CPU)
    stride = math.ceil(n / 64)
    generator = torch.Generator().manual_seed(2)
    a, b = torch.randn(n, n, generator=generator), torch.randn(n, n, generator=generator)
    product = a @ b
    assert sorted(out) == ["col_sums", "row_sums", "sample"]
    assert out["sample"].shape == (math.ceil(n / stride), math.ceil(n / stride))
    torch.testing.assert_close(out["sample"], product[::stride, ::stride])
    torch.testing.assert_close(out["row_sums"], product.sum(dim=1, dtype=torch.float64), rtol=1e-5, atol=1e-3)
    torch.testing.assert_close(out["col_sums"], product.sum(dim=0, dtype=torch.float64), rtol=1e-5, atol=1e-3)
    assert out["row_sums"].dtype == torch.float64


def test_mlp_infer_applies_the_weights(
    make_runner: Callable[..., WorkloadRunner], job_dir: Path, tmp_path: Path
) -> None:
    weights, batch = demo_models.mlp_weights(seed=4), demo_models.mlp_input(seed=5)
    input_file = tmp_path / "input.safetensors"
    input_file.write_bytes(batch)
    spec = demo_models.mlp_infer_spec(weights_cid=WEIGHTS_CID, input_cid=INPUT_CID, decimals=None)

    result = make_runner().run(spec, {"weights": weights, "input": input_file}, job_dir)

    expected = forward(mlp_layers(load(weights), source="weights"), load(batch)["x"])
    y = load_file(result.path)["y"]
    assert y.shape == (8, demo_models.DEMO_SIZES[-1])
    torch.testing.assert_close(y, expected)


def test_mlp_train_lowers_the_loss_and_its_weights_feed_mlp_infer(
    make_runner: Callable[..., WorkloadRunner], tmp_path: Path
) -> None:
    runner = make_runner()
    spec = demo_models.mlp_train_spec(steps=40, weights_cid=WEIGHTS_CID, data_cid=DATA_CID)
    inputs = {"weights": demo_models.mlp_weights(), "data": demo_models.training_data()}
    trained = runner.run(spec, inputs, tmp_path / "train")

    tensors = load_file(trained.path)
    losses = tensors.pop("losses")
    assert losses.shape == (40,) and losses.dtype == torch.float64
    assert losses[-5:].mean() < 0.5 * losses[:5].mean()
    assert {key: t.shape for key, t in tensors.items()} == {
        key: t.shape for key, t in load(demo_models.mlp_weights()).items()
    }

    weights = tmp_path / "trained.safetensors"
    weights.write_bytes(canonical_bytes(tensors, {}))  # the trained layers, without the losses
    infer = demo_models.mlp_infer_spec(weights_cid=WEIGHTS_CID, input_cid=INPUT_CID)
    inferred = runner.run(infer, {"weights": weights, "input": demo_models.mlp_input()}, tmp_path / "infer")
    assert load_file(inferred.path)["y"].shape == (8, demo_models.DEMO_SIZES[-1])
