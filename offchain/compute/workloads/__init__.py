"""The workload registry: every workload a job spec may name, keyed by its ``name``.

Adding a workload is one class (a ``Workload`` subclass in this package) appended to ``WORKLOAD_CLASSES``;
the job spec's discriminated union and its JSON Schema are built from that tuple.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from offchain.compute.workloads.base import Workload
from offchain.compute.workloads.export import Export
from offchain.compute.workloads.matmul import Matmul
from offchain.compute.workloads.mlp import MlpInfer, MlpTrain

WORKLOAD_CLASSES: tuple[type[Workload], ...] = (Matmul, MlpInfer, MlpTrain, Export)


def registry() -> Mapping[str, type[Workload]]:
    """Workload name -> class, read-only."""
    return MappingProxyType({cls.workload_name(): cls for cls in WORKLOAD_CLASSES})


__all__ = ["WORKLOAD_CLASSES", "Export", "Matmul", "MlpInfer", "MlpTrain", "Workload", "registry"]
