"""An archive exported on a GPU (every weight, graph value and device argument says ``cuda``) runs on a
CPU-only worker: the checked copy the loader reads points every device at the CPU, and the workload moves
the program to the job's device. Its result is bit for bit the CPU export's."""

from __future__ import annotations

from pathlib import Path

from offchain.compute.models.reference import export_spec

from .export_archives import INPUT_CID, MODEL_CID, reference, rewrite


def _on_cuda(members: dict[str, bytes]) -> None:
    for name, data in members.items():
        if name.endswith(".json"):
            text = data.decode().replace('{"type":"cpu","index":null}', '{"type":"cuda","index":0}')
            text = text.replace('{"type": "cpu", "index": null}', '{"type": "cuda", "index": 0}')
            members[name] = text.encode()


def test_gpu_exported_archive_gives_the_cpu_result(make_runner, tmp_path: Path):
    gpt = reference("gpt")
    from_gpu = rewrite(gpt.archive, _on_cuda)
    assert from_gpu.count(b'"cuda"') > 10  # the rewrite did reach the devices
    spec = export_spec(model_cid=MODEL_CID, input_cid=INPUT_CID)
    runner = make_runner()

    on_cpu = runner.run(spec, {"model": gpt.archive, "input": gpt.inputs}, tmp_path / "cpu-export")
    on_gpu = runner.run(spec, {"model": from_gpu, "input": gpt.inputs}, tmp_path / "gpu-export")

    assert on_gpu.digest == on_cpu.digest
