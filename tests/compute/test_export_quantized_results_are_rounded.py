"""An ``export`` job in quantized mode returns its model's outputs rounded like every workload's: floats to
the spec's decimals (integer outputs such as predicted labels unchanged)."""

from __future__ import annotations

from pathlib import Path

import torch

from offchain.compute.determinism import canonical_outputs
from offchain.compute.models.reference import export_spec, reference_module
from offchain.compute.spec import Quantized
from offchain.compute.tensorio import load_tensors

from .export_archives import INPUT_CID, MODEL_CID, reference


def test_quantized_export_job_rounds_the_model_outputs(make_runner, tmp_path: Path):
    cnn = reference("cnn")
    spec = export_spec(
        model_cid=MODEL_CID, input_cid=INPUT_CID, determinism=Quantized(mode="quantized", decimals=2)
    )

    result = make_runner().run(spec, {"model": cnn.archive, "input": cnn.inputs}, tmp_path / "job")

    outputs = load_tensors(result.path.read_bytes(), source="result")
    module, example, _ = reference_module("cnn")
    with torch.no_grad():
        expected = canonical_outputs(module(*example.values()), decimals=2)
    assert torch.equal(outputs["logits"], expected["logits"])
    assert torch.equal(outputs["label"], expected["label"]) and outputs["label"].dtype == torch.int64
    assert not torch.equal(outputs["logits"], module(*example.values())["logits"].detach())  # it did round
