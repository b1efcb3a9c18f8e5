"""A requester's own model: `tessera model export` exports it, checks it as workers do and uploads it; a
worker runs the spec it prints and gets what the eager module computes; an unsafe model is refused on the
requester's machine, with the operator's name, before anything is uploaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from offchain.compute import export_tool
from offchain.compute.errors import UnsafeModel
from offchain.compute.models.gpt import VOCAB
from offchain.compute.spec import parse_spec
from offchain.compute.tensorio import canonical_bytes, load_tensors

REPO = Path(__file__).resolve().parents[2]
USER_MODEL = """
import torch


class Scorer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(7)
        self.encoder = torch.nn.Sequential(torch.nn.Linear(6, 12), torch.nn.GELU(), torch.nn.Linear(12, 3))

    def forward(self, features, bias):
        scores = self.encoder(features) + bias
        return {"scores": scores, "best": scores.argmax(dim=1)}


class Branching(torch.nn.Module):
    def forward(self, features, bias):
        return torch.cond(features.sum() > 0, lambda f: f * 2, lambda f: f - 1, (features,)) + bias.sum()


def build():
    return Scorer()


def build_unsafe():
    return Branching()
"""


@pytest.fixture
def user_files(tmp_path: Path) -> tuple[Path, Path]:
    model = tmp_path / "my_model.py"
    model.write_text(USER_MODEL)
    generator = torch.Generator().manual_seed(3)
    example = {
        "features": torch.randn(5, 6, generator=generator),
        "bias": torch.randn(3, generator=generator),
    }
    inputs = tmp_path / "example.safetensors"
    inputs.write_bytes(canonical_bytes(example, {}))
    return model, inputs


def _tessera(*args: str, root: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env |= {"TESSERA_IPFS": "local", "TESSERA_IPFS_DIR": str(root / "ipfs"), "TESSERA_DEVICE": "cpu"}
    return subprocess.run(
        [sys.executable, "-m", "offchain.cli", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_exported_user_model_runs_on_a_worker_as_it_runs_eagerly(user_files, make_runner, tmp_path: Path):
    model_file, inputs_file = user_files
    result = _tessera(
        "model", "export", f"{model_file}:build", "--input", str(inputs_file), "--out", "out", root=tmp_path
    )

    assert result.returncode == 0, result.stderr[-2000:]
    spec = parse_spec(result.stdout.strip().encode())
    assert spec.workload.name == "export" and set(spec.inputs) == {"model", "input"}
    assert [path for path in (tmp_path / "ipfs").rglob("*") if path.is_file()]  # uploaded to the store
    archive, inputs = (
        (tmp_path / "out" / "model.pt2").read_bytes(),
        (tmp_path / "out" / "input.safetensors").read_bytes(),
    )
    ran = make_runner().run(spec, {"model": archive, "input": inputs}, tmp_path / "job")

    outputs = load_tensors(ran.path.read_bytes(), source="result")
    module = export_tool.load_module(f"{model_file}:build")
    with torch.no_grad():
        expected = module(**export_tool.read_tensors(inputs_file))
    assert set(outputs) == {"scores", "best"}
    assert torch.equal(outputs["scores"], expected["scores"]) and torch.equal(
        outputs["best"], expected["best"]
    )


def test_unsafe_user_model_is_refused_locally_with_the_operator_name(user_files, tmp_path: Path):
    model_file, inputs_file = user_files
    result = _tessera(
        "model", "export", f"{model_file}:build_unsafe", "--input", str(inputs_file), root=tmp_path
    )

    assert result.returncode == 2
    assert "E_UNSAFE_MODEL" in result.stderr and "torch.ops.higher_order.cond" in result.stderr
    assert not [path for path in (tmp_path / "ipfs").rglob("*") if path.is_file()]  # nothing uploaded
    assert result.stdout == ""


def test_export_module_refuses_example_inputs_that_do_not_match_forward(user_files):
    model_file, _ = user_files
    module = export_tool.load_module(f"{model_file}:build")

    with pytest.raises(Exception, match="forward takes \\['features', 'bias'\\]"):
        export_tool.export_module(module, {"features": torch.zeros(5, 6)})


def test_token_ids_read_back_as_text():
    ids = torch.tensor([[VOCAB.index(c) for c in "hello world"]])

    assert export_tool.ids_as_text(ids) == ["hello world"]


def test_check_archive_names_every_operator_of_a_safe_model(user_files):
    model_file, inputs_file = user_files
    exported = export_tool.export_module(
        export_tool.load_module(f"{model_file}:build"), export_tool.read_tensors(inputs_file)
    )

    checked = export_tool.check_archive(exported.archive)

    assert "torch.ops.aten.linear.default" in checked.operators
    assert checked.input_names == ("features", "bias")
    with pytest.raises(UnsafeModel):
        export_tool.check_archive(exported.archive[:-100])
    json.dumps(sorted(checked.operators))
