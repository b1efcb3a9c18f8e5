"""Reproducibility inside the workload child: torch settings, device choice, device class, output rounding.

Imported by the child process only (it imports torch). ``configure_torch`` must run before any CUDA work.
``canonical_outputs`` is what makes results comparable: floating tensors get one NaN bit pattern in both
modes; ``quantized`` additionally rounds half-to-even at ``decimals`` places (computed in float64, then cast
back to the tensor's dtype) and turns -0.0 into +0.0. Integer and bool tensors pass through unchanged.
A value lying on a rounding boundary can still round differently on two devices: ``quantized`` narrows
disagreement, it cannot remove it.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping

import torch

from offchain.compute.errors import DeviceUnavailable
from offchain.compute.jobdir import DeviceChoice

CUBLAS_WORKSPACE_CONFIG = ":4096:8"


def configure_torch(threads: int) -> None:
    """Deterministic kernels, no TF32, a fixed thread count and a fixed global seed."""
    os.environ["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_WORKSPACE_CONFIG  # read at cuBLAS init, so set it first
    # torch.use_deterministic_algorithms(True) also imports torch._inductor to set its flag: seconds of
    # start-up for workloads that run eagerly. Set the eager flag directly, then check it publicly.
    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None:  # pragma: no cover - a torch without the private setter
        torch.use_deterministic_algorithms(True)
    else:
        setter(True, warn_only=False)
    if not torch.are_deterministic_algorithms_enabled():  # pragma: no cover
        raise RuntimeError("torch did not enable deterministic algorithms")
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)  # workloads draw from their own seeded generators; this pins anything else


def resolve_device(choice: DeviceChoice) -> torch.device:
    """``auto``: CUDA, then MPS, then CPU. An explicit device that is absent raises ``DeviceUnavailable``."""
    cuda = torch.cuda.is_available()
    mps = torch.backends.mps.is_available()
    if choice == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (choice == "cuda" and not cuda) or (choice == "mps" and not mps):
        raise DeviceUnavailable(f"device {choice!r} was requested but torch sees none on this machine")
    return torch.device(choice)


def device_class(device: torch.device, threads: int) -> str:
    """What must match for two ``exact`` results to be comparable: torch build, device model, threads."""
    base = f"torch-{torch.__version__}"
    if device.type == "cuda":
        major, minor = torch.cuda.get_device_capability(device)
        name = torch.cuda.get_device_name(device).replace(" ", "_")
        return f"cuda:{name}:sm{major}{minor}:cuda-{torch.version.cuda}:{base}"
    if device.type == "mps":
        return f"mps:{platform.machine()}:macos-{platform.mac_ver()[0]}:{base}"
    capability = torch.backends.cpu.get_cpu_capability()
    return f"cpu:{platform.machine()}:{capability}:threads-{threads}:{base}"


def canonical_outputs(
    tensors: Mapping[str, torch.Tensor], *, decimals: int | None
) -> dict[str, torch.Tensor]:
    """Contiguous CPU copies of ``tensors``, floats canonicalised (and rounded when ``decimals`` is set)."""
    result: dict[str, torch.Tensor] = {}
    for name, tensor in tensors.items():
        value = tensor.detach().to("cpu")
        if value.is_floating_point():
            if decimals is not None:
                value = _round(value, decimals) + 0.0  # x + 0.0 is +0.0 for x = -0.0
            value = torch.where(torch.isnan(value), torch.tensor(float("nan"), dtype=value.dtype), value)
        result[name] = value.contiguous()
    return result


def _round(value: torch.Tensor, decimals: int) -> torch.Tensor:
    wide = value.to(torch.float64)
    scale = float(10**decimals)
    scaled = wide * scale
    # Where scaling overflows the value is far too large to have digits at this precision: keep it.
    rounded = torch.where(torch.isfinite(scaled), torch.round(scaled) / scale, wide)
    return rounded.to(value.dtype)
