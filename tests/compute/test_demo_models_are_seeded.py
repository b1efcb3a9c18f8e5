"""Demo inputs are generated from seeds, byte-identical on every call, and fit the example specs."""

from __future__ import annotations

import hashlib

import torch
from safetensors.torch import load

from offchain.compute import demo_models
from offchain.compute.spec import parse_spec
from offchain.compute.workloads import MlpInfer, MlpTrain

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class FakeStore:
    """Stores bytes under a CIDv0-shaped name derived from their hash."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def add_bytes(self, data: bytes) -> str:
        digest = hashlib.sha256(data).digest()
        cid = "Qm" + "".join(BASE58[b % 58] for b in digest + digest)[:44]
        self.blobs[cid] = data
        return cid


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    assert demo_models.mlp_weights(seed=3) == demo_models.mlp_weights(seed=3)
    assert demo_models.mlp_weights(seed=3) != demo_models.mlp_weights(seed=4)
    assert demo_models.mlp_input() == demo_models.mlp_input()
    assert demo_models.training_data() == demo_models.training_data()


def test_example_specs_upload_their_inputs_and_parse() -> None:
    store = FakeStore()
    specs = demo_models.example_specs(store)
    assert set(specs) == {"matmul", "mlp-infer", "mlp-train"}
    for name, raw in specs.items():
        spec = parse_spec(raw)
        assert spec.workload.name == name
        assert set(spec.inputs.values()) <= set(store.blobs)
    assert demo_models.example_specs(FakeStore()) == specs  # seeded: the same CIDs every time


def test_demo_inputs_fit_the_demo_workloads() -> None:
    store = FakeStore()
    specs = {name: parse_spec(raw) for name, raw in demo_models.example_specs(store).items()}
    inputs = {
        name: {key: load(store.blobs[cid]) for key, cid in spec.inputs.items()}
        for name, spec in specs.items()
    }
    cpu = torch.device("cpu")
    infer = specs["mlp-infer"].workload
    assert isinstance(infer, MlpInfer)
    assert infer.run(inputs["mlp-infer"], cpu)["y"].shape == (8, demo_models.DEMO_SIZES[-1])
    train = specs["mlp-train"].workload
    assert isinstance(train, MlpTrain)
    assert train.model_copy(update={"steps": 2}).run(inputs["mlp-train"], cpu)["losses"].shape == (2,)
