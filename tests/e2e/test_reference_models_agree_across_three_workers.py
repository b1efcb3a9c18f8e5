"""Each reference model of the ``export`` workload (the GPT generating text, the CNN classifier, the LoRA
training step) runs as a real job: posted on anvil, claimed by three real workers (``python -m
offchain.worker`` subprocesses) that fetch the ``.pt2`` archive from IPFS, check it before the claim and run
it; all three reveal the same digest and the job completes. Reuses the demo's steps with the three export
jobs in place of the toy workloads; the GPT's agreed result reads back as text continuing its prompt."""

from __future__ import annotations

import io
from contextlib import ExitStack
from pathlib import Path

import pytest
from rich.console import Console

from offchain import demo as demo_program
from offchain.compute.models.reference import REFERENCE_MODELS, example_export_specs

pytestmark = [pytest.mark.anvil, pytest.mark.slow]
JOBS = tuple(f"export:{name}" for name in REFERENCE_MODELS)


def test_every_reference_model_completes_with_three_agreeing_workers(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(demo_program, "WORKLOADS", JOBS)
    monkeypatch.setattr(demo_program, "demo_specs", example_export_specs)
    log = io.StringIO()
    demo = demo_program.Demo(console=Console(file=log, width=160), root=tmp_path)
    demo.operators = [
        demo_program.Operator(i, demo_program.dev_account(i)) for i in demo_program.OPERATOR_INDICES
    ]

    with ExitStack() as stack:
        demo_program.start_chain(demo, stack)
        demo_program.deploy(demo)
        demo_program.fund_and_stake(demo)
        demo_program.start_workers(demo, stack)
        demo_program.submit_jobs(demo)
        demo_program.follow_jobs(demo)

    assert [job.workload for job in demo.jobs] == list(JOBS)
    for job in demo.jobs:
        status = job.status
        assert status.phase == "Completed", (job.workload, status.phase, log.getvalue()[-2000:])
        assert len(status.agreeing) == 3, (job.workload, [w.result_digest for w in status.workers])

    from offchain.compute.export_tool import ids_as_text, read_tensors
    from offchain.ipfs import LocalBlockStore

    gpt_job = demo.jobs[JOBS.index("export:gpt")]
    result = tmp_path / "gpt.safetensors"
    result.write_bytes(
        LocalBlockStore(tmp_path / "ipfs").cat(gpt_job.status.result_cid, max_bytes=1 << 20, timeout_s=10)
    )
    (text,) = ids_as_text(read_tensors(result)["ids"])
    assert text.startswith("the quick brown fox") and len(text) > len("the quick brown fox")
