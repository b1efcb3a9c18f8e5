"""The reference models of the ``export`` workload: seeded builds export to the same bytes in any process,
exact-mode jobs give the same digest every run (each run is a fresh child process), and what the worker
computes from the archive is bit for bit what the eager PyTorch module computes."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from offchain.compute.archive import validate_archive
from offchain.compute.models import gpt, lora
from offchain.compute.models.reference import REFERENCE_MODELS, export_spec, reference_module
from offchain.compute.tensorio import load_tensors

from .export_archives import INPUT_CID, MODEL_CID, reference

REPO = Path(__file__).resolve().parents[2]
_FINGERPRINT = """
import hashlib, json
from offchain.compute.models.reference import REFERENCE_MODELS, reference_job
jobs = {name: reference_job(name) for name in REFERENCE_MODELS}
print(json.dumps({n: [hashlib.sha256(j.archive + j.inputs).hexdigest()] for n, j in jobs.items()}))
"""


def _run(runner, name: str, job_dir: Path) -> tuple[bytes, dict[str, torch.Tensor]]:
    job = reference(name)
    spec = export_spec(model_cid=MODEL_CID, input_cid=INPUT_CID, outputs=job.outputs)
    result = runner.run(spec, {"model": job.archive, "input": job.inputs}, job_dir)
    return result.digest, load_tensors(result.path.read_bytes(), source="result")


def _eager(name: str) -> dict[str, torch.Tensor]:
    module, example, _ = reference_module(name)
    with torch.no_grad():
        return module(*example.values())


def test_a_fresh_process_exports_the_same_archive_and_inputs():
    result = subprocess.run(
        [sys.executable, "-c", _FINGERPRINT], cwd=REPO, capture_output=True, text=True, timeout=300
    )

    assert result.returncode == 0, result.stderr[-2000:]
    theirs = json.loads(result.stdout.strip().splitlines()[-1])
    ours = {
        n: [hashlib.sha256(reference(n).archive + reference(n).inputs).hexdigest()] for n in REFERENCE_MODELS
    }
    assert theirs == ours


@pytest.mark.parametrize("name", REFERENCE_MODELS)
def test_exact_job_gives_the_same_digest_twice_and_equals_the_eager_module(name, make_runner, tmp_path: Path):
    runner = make_runner()

    first, outputs = _run(runner, name, tmp_path / "first")
    second, _ = _run(runner, name, tmp_path / "second")

    assert first == second
    expected = _eager(name)
    assert set(outputs) == set(reference(name).outputs or expected)
    for key, tensor in outputs.items():
        assert torch.equal(tensor, expected[key]), key


def test_the_transformer_generates_text_greedily_from_the_prompt(make_runner, tmp_path: Path):
    _, outputs = _run(make_runner(), "gpt", tmp_path / "job")

    ids = outputs["ids"][0].tolist()
    prompt = gpt.encode("the quick brown fox")
    config = gpt.GptConfig()
    assert ids[: len(prompt)] == prompt and len(ids) == len(prompt) + config.new_tokens
    assert ids[len(prompt) :] == outputs["logits"][0].argmax(dim=-1).tolist()  # greedy: argmax each step
    assert gpt.decode(ids).startswith("the quick brown fox")


def test_two_chained_lora_steps_lower_the_loss():
    checked = validate_archive(reference("lora").archive)
    step = torch.export.load(io.BytesIO(checked.clean_bytes())).module()
    batch = lora.batch()

    with torch.no_grad():
        first = step(*batch.values())
        second = step(batch["x"], batch["y"], first["lora_a"], first["lora_b"], batch["lr"])

    assert second["loss"] < first["loss"]
    assert not torch.equal(first["lora_b"], batch["lora_b"])  # the adapters moved
