"""The workload contract: a workload is one pydantic model whose fields are its bounded parameters.

A subclass narrows ``name`` to a ``Literal`` (the spec's discriminator), declares the inputs it reads and
implements ``run``. ``run`` receives the job's inputs already loaded from safetensors onto the CPU, and
returns named tensors; the child process canonicalises and serialises them. torch is imported inside
``run`` only, so validating a spec never imports torch.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    import torch

TensorMap = Mapping[str, "torch.Tensor"]
FloatDtype = Literal["float32", "float64"]
SEED_MAX = 2**63 - 1


class Workload(BaseModel):
    """Parameters of one workload (frozen, strict, no unknown keys) and the code that runs it."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str
    required_inputs: ClassVar[frozenset[str]] = frozenset()
    optional_inputs: ClassVar[frozenset[str]] = frozenset()
    archive_inputs: ClassVar[frozenset[str]] = frozenset()
    """Inputs that are ``torch.export`` archives rather than safetensors (see ``inputformats``)."""

    @classmethod
    def workload_name(cls) -> str:
        """The discriminator value, read from the subclass's ``Literal`` annotation of ``name``."""
        (value,) = get_args(cls.model_fields["name"].annotation)
        return str(value)

    @abstractmethod
    def run(self, inputs: Mapping[str, TensorMap], device: torch.device) -> dict[str, torch.Tensor]:
        """Compute the result tensors. ``inputs`` maps each input name of the spec to its tensors (CPU)."""
