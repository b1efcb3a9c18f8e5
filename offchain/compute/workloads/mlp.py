"""``mlp-infer`` and ``mlp-train``: a plain MLP whose architecture is read from its weights' keys.

Weights are tensors ``layers.{i}.weight`` of shape (out, in) and ``layers.{i}.bias`` of shape (out,), for
i = 0 .. L-1, all float32 or all float64; the network is Linear layers with ReLU between them (none after
the last). ``mlp-train`` returns its final weights under the same keys (beside ``losses``), so its
``layers.*`` tensors are a valid ``weights`` input of ``mlp-infer``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from offchain.compute.errors import InputInvalid
from offchain.compute.workloads.base import SEED_MAX, FloatDtype, TensorMap, Workload

if TYPE_CHECKING:
    import torch

MAX_LAYERS = 64
MAX_WIDTH = 4096
_LAYER_KEY = re.compile(r"layers\.(0|[1-9][0-9]*)\.(weight|bias)")
_FLOAT_DTYPES = ("float32", "float64")

Layers = list[tuple["torch.Tensor", "torch.Tensor"]]


class MlpInfer(Workload):
    """Forward pass of the MLP in input ``weights`` over tensor ``x`` (batch, in) of input ``input``."""

    name: Literal["mlp-infer"]
    required_inputs = frozenset({"weights", "input"})

    def run(self, inputs: Mapping[str, TensorMap], device: torch.device) -> dict[str, torch.Tensor]:
        import torch

        layers = mlp_layers(inputs["weights"], source="weights")
        x = _only_tensor(inputs["input"], "x", source="input")
        weight0 = layers[0][0]
        if x.dim() != 2 or x.shape[1] != weight0.shape[1] or x.dtype != weight0.dtype:
            raise InputInvalid(
                f"input: x has shape {list(x.shape)} and dtype {_dtype_name(x)}, but the MLP takes "
                f"(batch, {weight0.shape[1]}) {_dtype_name(weight0)}"
            )
        on_device = [(w.to(device), b.to(device)) for w, b in layers]
        with torch.no_grad():
            return {"y": forward(on_device, x.to(device))}


class MlpTrain(Workload):
    """``steps`` seeded SGD steps (MSE loss) from a seeded or given MLP on synthetic or given data.

    Without input ``weights`` the layers are initialised uniform in +-1/sqrt(fan_in) from a CPU generator
    seeded by ``seed``. Without input ``data`` each step draws ``x`` (batch_size, sizes[0]) from N(0, 1) on
    that generator and fits ``y = sin(x @ T)``, T a seeded (sizes[0], sizes[-1]) matrix scaled by
    1/sqrt(sizes[0]). With ``data`` (tensors ``x`` (N, sizes[0]) and ``y`` (N, sizes[-1])) step k takes rows
    ``(k * batch_size + j) mod N``. The result holds the final ``layers.{i}.*`` and ``losses`` (float64,
    one per step, the loss before that step's update).
    """

    name: Literal["mlp-train"]
    sizes: list[Annotated[int, Field(ge=1, le=MAX_WIDTH)]] = Field(
        min_length=2, max_length=MAX_LAYERS + 1, description="layer widths, input first, output last"
    )
    steps: int = Field(ge=1, le=10_000)
    batch_size: int = Field(default=32, ge=1, le=4096)
    lr: float = Field(default=0.01, gt=0, le=10, allow_inf_nan=False)
    seed: int = Field(default=0, ge=0, le=SEED_MAX)
    dtype: FloatDtype = "float32"
    optional_inputs = frozenset({"weights", "data"})

    def run(self, inputs: Mapping[str, TensorMap], device: torch.device) -> dict[str, torch.Tensor]:
        import torch

        dtype = getattr(torch, self.dtype)
        generator = torch.Generator().manual_seed(self.seed)
        if "weights" in inputs:
            layers = mlp_layers(inputs["weights"], source="weights")
            self._check_matches(layers, dtype)
        else:
            layers = self._init_layers(generator, dtype)
        data = self._data(inputs["data"], dtype) if "data" in inputs else None
        teacher = None
        if data is None:
            teacher = torch.randn(self.sizes[0], self.sizes[-1], dtype=dtype, generator=generator)
            teacher /= math.sqrt(self.sizes[0])
        else:
            data = (data[0].to(device), data[1].to(device))

        params = [t.to(device).clone().requires_grad_(True) for layer in layers for t in layer]
        pairs = list(zip(params[0::2], params[1::2], strict=True))
        offsets = torch.arange(self.batch_size, device=device)
        losses = []
        for step in range(self.steps):
            if data is None:
                x_cpu = torch.randn(self.batch_size, self.sizes[0], dtype=dtype, generator=generator)
                x, y = x_cpu.to(device), torch.sin(x_cpu @ teacher).to(device)
            else:
                rows = (offsets + step * self.batch_size) % data[0].shape[0]
                x, y = data[0][rows], data[1][rows]
            loss = torch.nn.functional.mse_loss(forward(pairs, x), y)
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for param, grad in zip(params, grads, strict=True):
                    param.sub_(grad, alpha=self.lr)
            losses.append(loss.detach())

        result = {"losses": torch.stack(losses).to(torch.float64)}
        for i, (weight, bias) in enumerate(pairs):
            result[f"layers.{i}.weight"] = weight.detach()
            result[f"layers.{i}.bias"] = bias.detach()
        return result

    def _init_layers(self, generator: torch.Generator, dtype: torch.dtype) -> Layers:
        import torch

        layers: Layers = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            bound = 1.0 / math.sqrt(fan_in)
            weight = (torch.rand(fan_out, fan_in, dtype=dtype, generator=generator) * 2 - 1) * bound
            bias = (torch.rand(fan_out, dtype=dtype, generator=generator) * 2 - 1) * bound
            layers.append((weight, bias))
        return layers

    def _check_matches(self, layers: Layers, dtype: torch.dtype) -> None:
        widths = [layers[0][0].shape[1]] + [weight.shape[0] for weight, _ in layers]
        if widths != list(self.sizes) or layers[0][0].dtype != dtype:
            raise InputInvalid(
                f"weights: the MLP has widths {widths} and dtype {_dtype_name(layers[0][0])}, but the spec "
                f"says sizes={list(self.sizes)} and dtype={self.dtype}; make them agree"
            )

    def _data(self, tensors: TensorMap, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        x = _tensor(tensors, "x", source="data")
        y = _tensor(tensors, "y", source="data")
        n = x.shape[0] if x.dim() == 2 else -1
        if list(x.shape) != [n, self.sizes[0]] or list(y.shape) != [n, self.sizes[-1]] or n < 1:
            raise InputInvalid(
                f"data: x has shape {list(x.shape)} and y {list(y.shape)}, but they must be "
                f"(N, {self.sizes[0]}) and (N, {self.sizes[-1]}) with the same N >= 1"
            )
        if x.dtype != dtype or y.dtype != dtype:
            got = f"{_dtype_name(x)} and {_dtype_name(y)}"
            raise InputInvalid(f"data: x and y must be {self.dtype}, got {got}")
        if set(tensors) != {"x", "y"}:
            raise InputInvalid(f"data: expected exactly tensors 'x' and 'y', got {sorted(tensors)}")
        return x, y


def forward(layers: Sequence[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor) -> torch.Tensor:
    """Linear layers with ReLU between them."""
    import torch

    for i, (weight, bias) in enumerate(layers):
        x = torch.nn.functional.linear(x, weight, bias)
        if i < len(layers) - 1:
            x = torch.relu(x)
    return x


def mlp_layers(weights: TensorMap, *, source: str) -> Layers:
    """Check an MLP's tensors (names, count, shapes, dtypes) and return its (weight, bias) pairs in order."""
    found: dict[int, dict[str, torch.Tensor]] = {}
    for key, tensor in weights.items():
        match = _LAYER_KEY.fullmatch(key)
        if match is None:
            raise InputInvalid(
                f"{source}: unexpected tensor {key[:80]!r}; an MLP's tensors are named "
                "layers.<i>.weight and layers.<i>.bias"
            )
        found.setdefault(int(match[1]), {})[match[2]] = tensor
    count = len(found)
    if not 1 <= count <= MAX_LAYERS or sorted(found) != list(range(count)):
        raise InputInvalid(
            f"{source}: layer indices {sorted(found)[:8]} must run 0, 1, ... without gaps "
            f"(at most {MAX_LAYERS} layers)"
        )
    layers: Layers = []
    for i in range(count):
        if set(found[i]) != {"weight", "bias"}:
            raise InputInvalid(f"{source}: layer {i} needs both layers.{i}.weight and layers.{i}.bias")
        weight, bias = found[i]["weight"], found[i]["bias"]
        if weight.dim() != 2 or bias.dim() != 1 or bias.shape[0] != weight.shape[0]:
            raise InputInvalid(
                f"{source}: layer {i} has weight {list(weight.shape)} and bias {list(bias.shape)}; "
                "they must be (out, in) and (out,)"
            )
        if i and weight.shape[1] != layers[-1][0].shape[0]:
            raise InputInvalid(
                f"{source}: layer {i} takes {weight.shape[1]} features but layer {i - 1} "
                f"gives {layers[-1][0].shape[0]}"
            )
        for tensor in (weight, bias):
            if _dtype_name(tensor) not in _FLOAT_DTYPES or tensor.dtype != found[0]["weight"].dtype:
                raise InputInvalid(
                    f"{source}: layer {i} is {_dtype_name(tensor)}; all tensors must share one dtype, "
                    f"float32 or float64"
                )
        layers.append((weight, bias))
    return layers


def _tensor(tensors: TensorMap, key: str, *, source: str) -> torch.Tensor:
    if key not in tensors:
        raise InputInvalid(f"{source}: no tensor named {key!r} (found {sorted(tensors)[:8]})")
    return tensors[key]


def _only_tensor(tensors: TensorMap, key: str, *, source: str) -> torch.Tensor:
    tensor = _tensor(tensors, key, source=source)
    if len(tensors) != 1:
        raise InputInvalid(f"{source}: expected only tensor {key!r}, found {sorted(tensors)[:8]}")
    return tensor


def _dtype_name(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")
