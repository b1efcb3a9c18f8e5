"""Two runs of an ``exact`` job on the same device class give byte-identical results (T27)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from offchain.compute import demo_models
from offchain.compute.runner import WorkloadRunner


def test_two_runs_of_exact_training_give_identical_bytes(
    make_runner: Callable[..., WorkloadRunner], tmp_path: Path
) -> None:
    spec = demo_models.mlp_train_spec(steps=25, seed=11)  # seeded init, synthetic data, forward + backward
    runner = make_runner()
    first = runner.run(spec, {}, tmp_path / "first")
    second = runner.run(spec, {}, tmp_path / "second")
    assert first.device_class == second.device_class
    assert first.digest == second.digest
    assert first.path.read_bytes() == second.path.read_bytes()
