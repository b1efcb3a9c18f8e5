"""On a CUDA device the reference models run through the ``export`` workload and agree with the CPU on what
is discrete (generated token ids, predicted labels); the exact-mode digests are printed for the record
(CPU and GPU are different device classes, so equal digests are not required). Skipped without CUDA."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from offchain.compute.models.reference import REFERENCE_MODELS, export_spec
from offchain.compute.tensorio import load_tensors

from .export_archives import INPUT_CID, MODEL_CID, reference

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="no CUDA device: the reference models run on CPU only here"
)


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_reference_model_runs_on_cuda_and_agrees_with_the_cpu(name, make_runner, tmp_path: Path):
    job = reference(name)
    spec = export_spec(model_cid=MODEL_CID, input_cid=INPUT_CID, outputs=job.outputs)
    results = {}
    for device in ("cpu", "cuda"):
        result = make_runner(device=device).run(
            spec, {"model": job.archive, "input": job.inputs}, tmp_path / device
        )
        assert result.device == device
        results[device] = (result.digest_hex, load_tensors(result.path.read_bytes(), source=device))

    (cpu_digest, cpu), (cuda_digest, cuda) = results["cpu"], results["cuda"]
    print(f"{name}: cpu {cpu_digest} cuda {cuda_digest} equal={cpu_digest == cuda_digest}")
    for key in ("ids", "label"):
        if key in cpu:
            assert torch.equal(cpu[key], cuda[key]), key
    for key, tensor in cpu.items():
        if tensor.is_floating_point():
            assert torch.allclose(tensor, cuda[key], rtol=1e-4, atol=1e-5), key
