"""A pickled checkpoint is refused before anything loads it: its payload never runs (T24, never unpickle)."""

from __future__ import annotations

import ast
import io
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from offchain.compute import demo_models
from offchain.compute.errors import UnsafeWeights
from offchain.compute.jobdir import LOG_FILE, input_path
from offchain.compute.runner import WorkloadRunner
from offchain.compute.tensorio import load_tensor_file, load_tensors

from .support import INPUT_CID, WEIGHTS_CID

COMPUTE_PACKAGE = Path(__file__).resolve().parents[2] / "offchain" / "compute"


def _with_header(header: bytes) -> bytes:
    return len(header).to_bytes(8, "little") + header


class _Canary:
    """Unpickling this creates the file at ``path`` (stands in for arbitrary code execution)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (str(self.path), "w")


def _payloads(canary: Path) -> dict[str, bytes]:
    zipped = io.BytesIO()
    torch.save({"layers.0.weight": _Canary(canary)}, zipped)  # the torch.save zip format
    return {
        "pickle-protocol-2": pickle.dumps(_Canary(canary), protocol=2),
        "pickle-protocol-5": pickle.dumps(_Canary(canary), protocol=5),
        "pickle-protocol-0": pickle.dumps(_Canary(canary), protocol=0),
        "torch-save-zip": zipped.getvalue(),
    }


def test_the_payloads_are_live(tmp_path: Path) -> None:
    for name, payload in _payloads(tmp_path / "canary").items():
        if name != "torch-save-zip":
            pickle.loads(payload)  # what an unpickling loader would do
            assert (tmp_path / "canary").exists(), name
            (tmp_path / "canary").unlink()


@pytest.mark.parametrize(
    "kind", ["pickle-protocol-2", "pickle-protocol-5", "pickle-protocol-0", "torch-save-zip"]
)
@pytest.mark.parametrize("as_file", [False, True], ids=["bytes", "file"])
def test_runner_refuses_pickled_weights_before_starting_a_child(
    kind: str, as_file: bool, make_runner: Callable[..., WorkloadRunner], tmp_path: Path
) -> None:
    canary = tmp_path / "canary"
    payload = _payloads(canary)[kind]
    weights: bytes | Path = payload
    if as_file:
        weights = tmp_path / "model.pt"
        weights.write_bytes(payload)
    job_dir = tmp_path / "job"
    spec = demo_models.mlp_infer_spec(weights_cid=WEIGHTS_CID, input_cid=INPUT_CID)

    with pytest.raises(UnsafeWeights) as caught:
        make_runner().run(spec, {"weights": weights, "input": demo_models.mlp_input()}, job_dir)

    assert "weights" in caught.value.message and "not loaded" in caught.value.message
    assert "safetensors" in caught.value.hint
    assert not canary.exists()
    assert not (job_dir / LOG_FILE).exists()  # no child was started
    assert not input_path(job_dir, "weights").exists()  # and the payload was not left in the job dir


@pytest.mark.parametrize("kind", ["pickle-protocol-2", "torch-save-zip"])
def test_the_childs_loaders_refuse_them_too(kind: str, tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    payload = _payloads(canary)[kind]
    (tmp_path / "weights.safetensors").write_bytes(payload)  # a pickle under a safetensors name
    with pytest.raises(UnsafeWeights, match="pickle|zip"):
        load_tensors(payload, source="input 'weights'")
    with pytest.raises(UnsafeWeights, match="pickle|zip"):
        load_tensor_file(tmp_path / "weights.safetensors", source="input 'weights'")
    assert not canary.exists()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"short",
        b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all",
        _with_header(b'{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'),  # and no data
    ],
)
def test_truncated_or_corrupt_safetensors_are_unsafe_weights(data: bytes) -> None:
    with pytest.raises(UnsafeWeights):
        load_tensors(data, source="input 'weights'")


def test_compute_code_never_calls_an_unpickler() -> None:
    """A static guard: no ``torch.load``, ``pickle.load(s)`` or ``Unpickler`` anywhere in offchain/compute."""
    forbidden = {"load", "loads", "Unpickler"}
    for path in COMPUTE_PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in {"torch", "pickle", "dill", "joblib"}
                and node.attr in forbidden
            ):
                pytest.fail(f"{path.name}:{node.lineno} calls {node.value.id}.{node.attr}")
            if isinstance(node, ast.ImportFrom) and node.module in {"pickle", "torch", "dill", "joblib"}:
                names = {alias.name for alias in node.names}
                assert not names & forbidden, f"{path.name}:{node.lineno} imports {names & forbidden}"
