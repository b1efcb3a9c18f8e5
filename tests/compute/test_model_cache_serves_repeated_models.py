"""A warm executor loads a model once: the next job naming the same archive bytes gets the zygote's loaded
copy (reported in ``model_cache_hits``) and the same result bytes as a fresh process; other bytes under
the same label are loaded on their own, and a zero-sized cache keeps nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from offchain.compute import archive
from offchain.compute.errors import UnsafeModel
from offchain.compute.models.reference import export_spec
from offchain.compute.runner import JobResult, WorkloadRunner

from .export_archives import INPUT_CID, MODEL_CID, higher_order_archive, reference


def _run(runner: WorkloadRunner, name: str, job_dir: Path) -> JobResult:
    job = reference(name)
    spec = export_spec(model_cid=MODEL_CID, input_cid=INPUT_CID, outputs=job.outputs)
    return runner.run(spec, {"model": job.archive, "input": job.inputs}, job_dir)


@pytest.fixture
def fresh_digest(make_runner: Callable[..., WorkloadRunner], tmp_path: Path) -> Callable[[str], bytes]:
    """The digest of reference model ``name`` computed by a fresh interpreter (no cache anywhere)."""
    spawned = make_runner(executor="spawn")
    return lambda name: _run(spawned, name, tmp_path / f"fresh-{name}").digest


def test_a_repeated_model_is_served_from_the_zygote_with_the_same_bytes(
    make_runner: Callable[..., WorkloadRunner], tmp_path: Path, fresh_digest: Callable[[str], bytes]
) -> None:
    runner = make_runner(executor="fork")
    first = _run(runner, "cnn", tmp_path / "first")
    second = _run(runner, "cnn", tmp_path / "second")

    assert first.model_cache_hits == () and second.model_cache_hits == ("model",)
    assert first.digest == second.digest == fresh_digest("cnn")


def test_other_bytes_under_the_same_cid_are_not_served_the_cached_model(
    make_runner: Callable[..., WorkloadRunner], tmp_path: Path, fresh_digest: Callable[[str], bytes]
) -> None:
    runner = make_runner(executor="fork")
    _run(runner, "cnn", tmp_path / "cnn")
    lora = _run(runner, "lora", tmp_path / "lora")  # same MODEL_CID label, different archive bytes

    assert lora.model_cache_hits == () and lora.digest == fresh_digest("lora")


def test_a_zero_sized_cache_keeps_nothing(make_runner: Callable[..., WorkloadRunner], tmp_path: Path) -> None:
    runner = make_runner(executor="fork", model_cache_mb=0)
    _run(runner, "cnn", tmp_path / "first")
    assert _run(runner, "cnn", tmp_path / "second").model_cache_hits == ()


def test_the_runner_checks_an_archive_once_and_still_refuses_other_bytes(
    make_runner: Callable[..., WorkloadRunner], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[int] = []
    original = archive.validate_archive

    def counting(data: bytes, *args: object, **kwargs: object) -> object:
        checked.append(len(data))
        return original(data, *args, **kwargs)

    monkeypatch.setattr(archive, "validate_archive", counting)
    runner = make_runner(executor="fork")
    _run(runner, "cnn", tmp_path / "first")
    _run(runner, "cnn", tmp_path / "second")
    assert len(checked) == 1  # in this process: the zygote's own check runs in its process

    cnn = reference("cnn")
    spec = export_spec(model_cid=MODEL_CID, input_cid=INPUT_CID, outputs=cnn.outputs)
    with pytest.raises(UnsafeModel):  # a Python-calling higher-order op, under the same label
        runner.run(spec, {"model": higher_order_archive(), "input": cnn.inputs}, tmp_path / "hostile")
    assert len(checked) == 2


def test_a_zygote_unsafe_to_fork_after_loading_a_model_leaves_the_job_to_a_fresh_interpreter(
    hostile_zygote_runner: Callable[..., WorkloadRunner],
    tmp_path: Path,
    fresh_digest: Callable[[str], bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner = hostile_zygote_runner("unsafe-after-load")
    result = _run(runner, "cnn", tmp_path / "job")

    assert result.digest == fresh_digest("cnn") and not result.prestarted
    assert "refused the job: the zygote has 2 threads after loading a model" in caplog.text
