"""The device pool: one job per device slot at a time, slots parsed and mapped strictly, jobs that no slot
can meet refused with the reason, and the machine's devices described by torch in a subprocess."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from offchain.compute.devices import (
    DeviceInfo,
    default_slots,
    describe_devices,
    describe_pool,
    parse_devices,
    pool_slots,
    refusal,
    slot_device,
    slot_infos,
)
from offchain.compute.errors import DeviceUnavailable, DeviceUnfit, WorkloadFailed, WorkloadTimeout
from offchain.compute.runner import WorkloadRunner
from offchain.settings import Settings
from offchain.worker.compute_adapter import OffchainCompute

from .hostile_zygote import HOSTILE_SEED
from .support import matmul_document, spec_of

CPU = DeviceInfo(slot="cpu", kind="cpu", name="x86_64", memory_mb=8_000)
H100 = DeviceInfo(
    slot="cuda:0", kind="cuda", name="NVIDIA H100 80GB HBM3", memory_mb=81_000, capability="sm90"
)


def _hog_the_slot(runner: WorkloadRunner, job_dir: Path) -> threading.Thread:
    """Start a job that hangs for its 3 s limit (then is killed), and return once it holds its slot."""
    hog = spec_of({**matmul_document(seed=HOSTILE_SEED), "resources": {"max_runtime_s": 3}})

    def run() -> None:
        with pytest.raises(WorkloadTimeout):
            runner.run(hog, {}, job_dir)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 60
    while not (job_dir / "pids.json").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return thread


def test_one_slot_runs_one_job_at_a_time_and_a_second_slot_runs_another(
    hostile_zygote_runner: Callable[..., WorkloadRunner], tmp_path: Path
) -> None:
    small = spec_of(matmul_document())
    one = hostile_zygote_runner("ignore-sigterm", kill_grace_s=0.2)
    one.prestart(wait_s=120)
    hog = _hog_the_slot(one, tmp_path / "hog-1")
    with pytest.raises(WorkloadTimeout, match=r"no device slot of \['cpu'\] was free"):
        one.run(small, {}, tmp_path / "waits", timeout_s=0.5)
    hog.join()

    two = hostile_zygote_runner("ignore-sigterm", kill_grace_s=0.2, devices=("cpu", "cpu"))
    two.prestart(wait_s=120)
    hog = _hog_the_slot(two, tmp_path / "hog-2")
    assert two.run(small, {}, tmp_path / "beside", timeout_s=2.5).size > 0
    hog.join()


def test_device_slots_are_parsed_strictly() -> None:
    assert parse_devices(" cuda:0, cuda:1 ") == ("cuda:0", "cuda:1")
    assert parse_devices("cpu,cpu") == ("cpu", "cpu") and parse_devices("") == ()
    with pytest.raises(DeviceUnavailable, match="'gpu0' in TESSERA_DEVICES is not a device slot"):
        parse_devices("cuda:0,gpu0")


def test_a_cuda_slot_shows_its_zygote_only_its_own_gpu() -> None:
    assert slot_device("cuda:1", None) == ("cuda", "1")
    assert slot_device("cuda:1", "4,6") == ("cuda", "6")  # within the worker's own visible devices
    assert slot_device("cpu", "4,6") == ("cpu", None)
    with pytest.raises(DeviceUnavailable, match="cuda:2 is not among CUDA_VISIBLE_DEVICES=4,6"):
        slot_device("cuda:2", "4,6")


def test_default_slots_are_every_cuda_device_else_the_cpu() -> None:
    assert default_slots([H100, DeviceInfo("cuda:1", "cuda", "NVIDIA H100", 81_000, "sm90"), CPU]) == (
        "cuda:0",
        "cuda:1",
    )
    assert default_slots([CPU]) == ("cpu",)


def test_a_job_needing_more_memory_than_any_slot_is_refused_with_the_reason() -> None:
    big = spec_of({**matmul_document(), "resources": {"min_memory_mb": 40_000, "max_memory_mb": 40_000}})
    assert refusal(big, [CPU]) == (
        "the job needs min_memory_mb=40000; the largest device slot here has 8000 MiB"
    )
    assert refusal(big, [CPU, H100]) is None
    assert refusal(spec_of(matmul_document()), [CPU]) is None


def test_this_machine_is_described_with_its_cpu_and_memory() -> None:
    infos = describe_devices()
    cpu = [info for info in infos if info.kind == "cpu"]
    assert len(cpu) == 1 and cpu[0].memory_mb > 0 and cpu[0].slot == "cpu"
    assert cpu[0].as_metadata()["kind"] == "cpu"


def test_pool_slots_come_from_tessera_devices_else_from_the_device_setting() -> None:
    def two_gpus() -> list[DeviceInfo]:
        return [H100, DeviceInfo("cuda:1", "cuda", "NVIDIA H100", 81_000, "sm90"), CPU]

    assert pool_slots("cpu,cpu", "auto", two_gpus) == ("cpu", "cpu")
    assert pool_slots("", "cpu", two_gpus) == ("cpu",)
    if Path("/dev/nvidiactl").exists():  # the probe runs only where a GPU could be
        assert pool_slots("", "auto", two_gpus) == ("cuda:0", "cuda:1")
    assert pool_slots("", "auto", lambda: [CPU]) == ("cpu",)
    with pytest.raises(DeviceUnavailable, match="no CUDA device"):
        pool_slots("", "cuda", lambda: [CPU])


@pytest.mark.parametrize(
    ("wanted", "infos", "refused"),
    [
        ("cuda", [CPU], True),
        ("cuda", [CPU, H100], False),
        ("cuda:NVIDIA_H100", [H100], False),
        ("cuda:NVIDIA_A100", [H100], True),
        ("cpu", [CPU], False),
        ("cpu:x86_64:AVX2", [CPU], False),  # the slot's class is known only as far as cpu:x86_64
        ("cpu:aarch64", [CPU], True),
    ],
)
def test_a_declared_device_class_no_slot_has_is_refused(
    wanted: str, infos: list[DeviceInfo], refused: bool
) -> None:
    spec = spec_of({**matmul_document(), "resources": {"device_class": wanted}})
    why = refusal(spec, infos)
    assert (why is not None) == refused
    if refused:
        assert f"declares device class {wanted!r}" in why


def test_slot_infos_cap_memory_and_refuse_a_gpu_torch_does_not_see() -> None:
    (cpu,) = slot_infos(["cpu"], memory_cap_mb=1_000)
    assert cpu.kind == "cpu" and cpu.memory_mb <= 1_000
    assert slot_infos(["cuda:0"], describe=lambda: [H100, CPU]) == [H100]
    with pytest.raises(DeviceUnavailable, match="cuda:1 names a CUDA device torch does not see"):
        slot_infos(["cuda:1"], describe=lambda: [H100, CPU])


def test_the_worker_abstains_from_a_job_its_devices_cannot_meet(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, device="cpu", workload_memory_mb=1_024, data_dir=tmp_path)
    compute = OffchainCompute(settings)
    try:
        fits = {**matmul_document(), "resources": {"min_memory_mb": 512, "max_memory_mb": 512}}
        assert compute.parse(json.dumps(fits).encode()).workload == "matmul"
        too_big = {**matmul_document(), "resources": {"min_memory_mb": 4_096, "max_memory_mb": 4_096}}
        with pytest.raises(DeviceUnfit, match="needs min_memory_mb=4096; the largest device slot here has"):
            compute.parse(json.dumps(too_big).encode())
        on_gpu = {**matmul_document(), "resources": {"device_class": "cuda"}}
        with pytest.raises(DeviceUnfit, match="declares device class 'cuda'"):
            compute.parse(json.dumps(on_gpu).encode())
    finally:
        compute.runner.close()


def test_the_doctor_line_names_each_slot_with_its_kind_and_memory() -> None:
    assert (
        describe_pool([H100, CPU]) == "cuda:0 NVIDIA H100 80GB HBM3 sm90, 81,000 MiB; cpu x86_64, 8,000 MiB"
    )


def test_a_closed_fork_runner_refuses_jobs_and_leaves_no_zygote(
    make_runner: Callable[..., WorkloadRunner], tmp_path: Path
) -> None:
    runner = make_runner(executor="fork")
    runner.run(spec_of(matmul_document()), {}, tmp_path / "first")
    zygote = runner._pool.executors[0].zygote_pid
    runner.close()
    assert not Path(f"/proc/{zygote}").exists()
    with pytest.raises(WorkloadFailed, match="the runner is closed"):
        runner.run(spec_of(matmul_document()), {}, tmp_path / "after")
