"""On CUDA: matmul runs on the GPU, exact jobs repeat bit for bit, nondeterministic kernels are refused."""

from __future__ import annotations

import subprocess
import sys
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


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_a_nondeterministic_cuda_kernel_is_refused_under_the_childs_settings() -> None:
    script = (
        "import torch\n"
        "from offchain.compute.determinism import configure_torch\n"
        "configure_torch(1)\n"
        "try:\n"
        "    torch.histc(torch.rand(100, device='cuda'))\n"
        "except RuntimeError as err:\n"
        "    print('refused:', err)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert "refused:" in done.stdout and "deterministic" in done.stdout, done.stdout + done.stderr
