"""``export``: run a requester's own model, a ``torch.export`` archive (``.pt2``), on its input tensors.

Input ``model`` is the archive exactly as ``torch.export.save`` wrote it; input ``input`` (optional for a
model without arguments) holds one tensor per argument of the exported ``forward``, named as its
parameters are. The archive is checked before the claim and again here, before anything loads it
(``archive.validate_archive``: no pickle, no zip bomb, bounded graph JSON, every operator in the ATen/prims
allow-list; a refusal is ``E_UNSAFE_MODEL``); ``torch.export.load`` then reads the rebuilt, checked copy
(or the warm executor hands over the model its zygote checked and loaded before the fork), the program
is moved to the job's device and run without autograd (a training step exports its backward
operators explicitly). The outputs are flattened to names: a dict output by its keys, a tuple or list by
position (``0``, ``1``...), nested ones joined by ``.``, a single tensor as ``output``. ``outputs`` keeps
only the named ones; the child canonicalises them like every workload's (``exact`` or ``quantized``).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, StringConstraints

from offchain.compute.errors import InputInvalid, WorkloadFailed
from offchain.compute.workloads.base import TensorMap, Workload

if TYPE_CHECKING:
    import torch

MAX_OUTPUTS = 64
OUTPUT_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"
OutputName = Annotated[str, StringConstraints(pattern=OUTPUT_NAME_PATTERN)]


class Export(Workload):
    """A ``torch.export`` archive (input ``model``) run on the tensors of input ``input``."""

    name: Literal["export"]
    outputs: list[OutputName] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_OUTPUTS,
        description="names of the outputs to return (dict keys, tuple positions, or 'output'); all if absent",
    )
    required_inputs = frozenset({"model"})
    optional_inputs = frozenset({"input"})
    archive_inputs = frozenset({"model"})

    def run(self, inputs: Mapping[str, TensorMap], device: torch.device) -> dict[str, torch.Tensor]:
        import torch

        module, input_names = _module(inputs["model"], device)
        tensors = inputs.get("input", {})
        if set(tensors) != set(input_names):
            raise InputInvalid(
                f"input: the model takes tensors {list(input_names)}, "
                f"the input file holds {sorted(tensors)[:16]}"
            )
        arguments = [tensors[name].to(device) for name in input_names]
        with torch.no_grad():
            try:
                result = module(*arguments)
            except (RuntimeError, ValueError, TypeError, IndexError, AssertionError) as err:
                last = (str(err).strip().splitlines() or [""])[-1][:240]
                raise InputInvalid(
                    f"the model refused its inputs: {type(err).__name__}: {last}",
                    hint="pass tensors of the shapes and dtypes the model was exported with",
                ) from None
        named = output_tensors(result)
        if self.outputs is None:
            return named
        unknown = [name for name in self.outputs if name not in named]
        if unknown:
            raise InputInvalid(
                f"outputs {unknown} are not outputs of the model, which has {sorted(named)[:16]}"
            )
        return {name: named[name] for name in self.outputs}


def load_program(model: TensorMap, device: torch.device) -> tuple[Any, tuple[str, ...]]:
    """Check the archive bytes again, load the rebuilt copy, move it to ``device``: (program, input names)."""
    import torch

    from offchain.compute.archive import ARCHIVE_TENSOR, validate_archive

    if set(model) != {ARCHIVE_TENSOR}:
        raise InputInvalid("model: expected the archive bytes; the runner handed over something else")
    archive = validate_archive(model[ARCHIVE_TENSOR].numpy().tobytes())
    try:
        program = torch.export.load(io.BytesIO(archive.clean_bytes()))
    except Exception as err:  # noqa: BLE001 - a checked archive torch cannot read is the requester's problem
        raise InputInvalid(
            f"model: torch.export.load could not read the archive ({type(err).__name__}: {str(err)[:200]})",
            hint="export with the torch version the workers run (the device class names it)",
        ) from None
    if device.type != "cpu":
        from torch.export.passes import move_to_device_pass

        program = move_to_device_pass(program, device)
    return program, archive.input_names


def _module(model: TensorMap, device: torch.device) -> tuple[Any, tuple[str, ...]]:
    """The model's callable module on ``device`` and its input names: the one the executor's zygote
    already checked and loaded on the CPU (``executor_models.PreloadedArchive``), else checked and loaded
    now."""
    preloaded = getattr(model, "preloaded", None)  # set by the zygote only, never from job input
    if preloaded is None:
        program, input_names = load_program(model, device)
        return program.module(), input_names
    if device.type == "cpu":
        return preloaded.module, tuple(preloaded.input_names)
    from torch.export.passes import move_to_device_pass

    return move_to_device_pass(preloaded.program, device).module(), tuple(preloaded.input_names)


def output_tensors(result: Any) -> dict[str, torch.Tensor]:
    """Name every tensor of a model's (nested) output: dict keys and positions joined by ``.``."""
    import torch
    from torch.utils._pytree import MappingKey, SequenceKey, tree_flatten_with_path

    leaves, _ = tree_flatten_with_path(result)
    named: dict[str, torch.Tensor] = {}
    for path, leaf in leaves:
        parts = [
            str(key.key)
            if isinstance(key, MappingKey)
            else str(key.idx)
            if isinstance(key, SequenceKey)
            else str(key)
            for key in path
        ]
        name = ".".join(parts) or "output"
        if not isinstance(leaf, torch.Tensor):
            raise WorkloadFailed(f"output {name!r} is a {type(leaf).__name__}, not a tensor")
        named[name] = leaf
    return named
