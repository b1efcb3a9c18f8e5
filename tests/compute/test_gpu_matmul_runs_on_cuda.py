"""On a CUDA machine, matmul runs on the GPU and an exact job repeats bit for bit there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from offchain.compute import demo_models
from offchain.compute.runner import WorkloadRunner


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_matmul_runs_on_cuda_reproducibly(make_runner: Callable[..., WorkloadRunner], tmp_path: Path) -> None:
    runner = make_runner(device="cuda")
    spec = demo_models.matmul_spec(n=1024, seed=9, iterations=4)
    first = runner.run(spec, {}, tmp_path / "first")
    second = runner.run(spec, {}, tmp_path / "second")
    assert first.device == "cuda" and first.device_class.startswith("cuda:")
    assert first.digest == second.digest
