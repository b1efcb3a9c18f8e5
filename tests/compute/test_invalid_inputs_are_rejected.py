"""Inputs whose names, shapes or dtypes do not fit the workload fail with E_INPUT_INVALID, naming the fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import load

from offchain.compute import demo_models
from offchain.compute.errors import InputInvalid
from offchain.compute.runner import WorkloadRunner
from offchain.compute.tensorio import canonical_bytes
from offchain.compute.workloads import MlpInfer, MlpTrain

from .support import INPUT_CID, WEIGHTS_CID

CPU = torch.device("cpu")
INFER = MlpInfer(name="mlp-infer")


def _weights(**changes: torch.Tensor | None) -> dict[str, torch.Tensor]:
    tensors = load(demo_models.mlp_weights())
    for key, value in changes.items():
        key = key.replace("__", ".")
        if value is None:
            del tensors[key]
        else:
            tensors[key] = value
    return tensors


def _x(*shape: int, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    return {"x": torch.zeros(*shape, dtype=dtype)}


def test_a_batch_of_the_wrong_width_fails_in_the_child(
    make_runner: Callable[..., WorkloadRunner], job_dir: Path
) -> None:
    spec = demo_models.mlp_infer_spec(weights_cid=WEIGHTS_CID, input_cid=INPUT_CID)
    wrong = canonical_bytes(_x(8, 5), {})
    with pytest.raises(InputInvalid, match=r"input: x has shape \[8, 5\] .* takes \(batch, 4\) float32"):
        make_runner().run(spec, {"weights": demo_models.mlp_weights(), "input": wrong}, job_dir)


@pytest.mark.parametrize(
    ("weights", "inputs", "words"),
    [
        (_weights(layers__1__bias=None), _x(2, 4), "layer 1 needs both"),
        (
            _weights(layers__5__weight=torch.zeros(3, 3), layers__5__bias=torch.zeros(3)),
            _x(2, 4),
            "without gaps",
        ),
        (_weights(extra=torch.zeros(1)), _x(2, 4), "unexpected tensor 'extra'"),
        (
            _weights(layers__1__weight=torch.zeros(3, 7)),
            _x(2, 4),
            "layer 1 takes 7 features but layer 0 gives 16",
        ),
        (_weights(layers__0__bias=torch.zeros(5)), _x(2, 4), "must be (out, in) and (out,)"),
        (_weights(layers__1__bias=torch.zeros(3, dtype=torch.float64)), _x(2, 4), "share one dtype"),
        (
            {k: v.to(torch.int32) for k, v in _weights().items()},
            _x(2, 4),
            "float32 or float64",
        ),
        ({}, _x(2, 4), "without gaps"),
        (_weights(), _x(2, 4, dtype=torch.float64), "float32"),
        (_weights(), _x(2, 3, 4), "takes (batch, 4)"),
        (_weights(), {"x": torch.zeros(2, 4), "y": torch.zeros(2)}, "expected only tensor 'x'"),
        (_weights(), {"inputs": torch.zeros(2, 4)}, "no tensor named 'x'"),
    ],
)
def test_mlp_infer_names_what_is_wrong(
    weights: dict[str, torch.Tensor], inputs: dict[str, torch.Tensor], words: str
) -> None:
    with pytest.raises(InputInvalid) as caught:
        INFER.run({"weights": weights, "input": inputs}, CPU)
    assert words in caught.value.message


def test_mlp_train_checks_given_weights_and_data_against_its_sizes() -> None:
    train = MlpTrain(name="mlp-train", sizes=[4, 16, 3], steps=1)
    with pytest.raises(InputInvalid, match=r"widths \[4, 16, 3\] .* sizes=\[4, 8, 3\]"):
        MlpTrain(name="mlp-train", sizes=[4, 8, 3], steps=1).run({"weights": _weights()}, CPU)
    with pytest.raises(InputInvalid, match=r"must be \(N, 4\) and \(N, 3\)"):
        train.run({"data": {"x": torch.zeros(5, 4), "y": torch.zeros(6, 3)}}, CPU)
    with pytest.raises(InputInvalid, match="must be float32"):
        train.run({"data": {"x": torch.zeros(5, 4, dtype=torch.float64), "y": torch.zeros(5, 3)}}, CPU)
    with pytest.raises(InputInvalid, match="no tensor named 'y'"):
        train.run({"data": {"x": torch.zeros(5, 4)}}, CPU)
