"""The device pool: which device slots a worker runs jobs on, what each offers, and which jobs fit.

``TESSERA_DEVICES`` is a comma-separated list of slots (``cpu``, ``cuda``, ``cuda:N``, ``mps``; repeat
``cpu`` for several CPU jobs at once); empty means every visible CUDA device, else one ``cpu`` slot.
``describe_devices`` asks torch in a short-lived subprocess (the worker process never imports torch, and a
CUDA driver initialised there would make every later fork unsafe). ``refusal`` says why the pool cannot
run a spec (its ``resources.min_memory_mb`` or declared ``resources.device_class``), or None;
``slot_infos`` is what each slot offers, for that check, the doctor and registration metadata.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

from offchain.compute.errors import DeviceUnavailable
from offchain.compute.spec import JobSpec

_SLOT = re.compile(r"cpu|mps|cuda(:(0|[1-9][0-9]?))?")
_PROBE_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """One device slot as torch sees it: kind, model, memory a job may use, and its device class prefix."""

    slot: str  # "cpu", "cuda:0", ...
    kind: str  # "cpu" | "cuda" | "mps"
    name: str
    memory_mb: int  # total device memory (CUDA), or the machine's available memory (CPU, MPS)
    capability: str = ""  # "sm90" for CUDA, "AVX2" for a CPU (as torch names them); "" when not probed

    def as_metadata(self) -> dict[str, object]:
        """A JSON-friendly dict (doctor output, registration metadata)."""
        return asdict(self)


def parse_devices(text: str) -> tuple[str, ...]:
    """``"cuda:0, cuda:1"`` -> ``("cuda:0", "cuda:1")``; ``""`` -> ``()``; a bad entry is refused by name."""
    slots = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    for slot in slots:
        if _SLOT.fullmatch(slot) is None:
            raise DeviceUnavailable(
                f"{slot!r} in TESSERA_DEVICES is not a device slot",
                hint="list slots as cpu, cuda, cuda:N or mps, comma-separated (empty: every CUDA device)",
            )
    return slots


def default_slots(infos: Sequence[DeviceInfo]) -> tuple[str, ...]:
    """Every CUDA device of ``infos``, else one ``cpu`` slot."""
    cuda = tuple(info.slot for info in infos if info.kind == "cuda")
    return cuda or ("cpu",)


def pool_slots(
    devices: str, device: str, describe: Callable[[], Sequence[DeviceInfo]] | None = None
) -> tuple[str, ...]:
    """The worker's slots: ``devices`` (TESSERA_DEVICES) when set, else one slot of an explicit ``cpu``
    or ``mps`` device, else (``auto``, ``cuda``) every CUDA device ``describe`` finds, else the CPU (or MPS).

    The probe runs only where a GPU could be: a Linux machine without ``/dev/nvidiactl`` has no CUDA.
    """
    explicit = parse_devices(devices)
    if explicit:
        return explicit
    if device in ("cpu", "mps"):
        return (device,)
    linux_without_gpu = sys.platform == "linux" and not os.path.exists("/dev/nvidiactl")
    infos = [] if linux_without_gpu else list((describe or describe_devices)())
    cuda = tuple(info.slot for info in infos if info.kind == "cuda")
    if cuda:
        return cuda
    if device == "cuda":
        raise DeviceUnavailable("TESSERA_DEVICE=cuda, but torch sees no CUDA device on this machine")
    return ("mps",) if any(info.kind == "mps" for info in infos) else ("cpu",)


def slot_device(slot: str, cuda_visible: str | None) -> tuple[str, str | None]:
    """(device the child resolves, CUDA_VISIBLE_DEVICES for its zygote or None to keep the worker's).

    ``cuda:N`` shows the zygote's children only GPU N (counted within the worker's own
    ``CUDA_VISIBLE_DEVICES`` when set), so a job cannot touch another slot's GPU.
    """
    if not slot.startswith("cuda:"):
        return slot, None
    index = int(slot.removeprefix("cuda:"))
    visible = [part.strip() for part in cuda_visible.split(",")] if cuda_visible else None
    if visible is None:
        return "cuda", str(index)
    if index >= len(visible):
        raise DeviceUnavailable(f"slot {slot} is not among CUDA_VISIBLE_DEVICES={cuda_visible}")
    return "cuda", visible[index]


def describe_devices(python: str | None = None) -> list[DeviceInfo]:
    """Every device torch sees here (each CUDA device, then the CPU), probed in a subprocess."""
    done = subprocess.run(
        [python or sys.executable, "-P", "-m", "offchain.compute.devices"],
        capture_output=True,
        text=True,
        timeout=_PROBE_TIMEOUT_S,
        env={**os.environ, "PYTHONPATH": _package_root()},
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise DeviceUnavailable(f"could not list the devices: {last}")
    return [DeviceInfo(**entry) for entry in json.loads(done.stdout)]


def slot_infos(
    slots: Sequence[str],
    *,
    memory_cap_mb: int | None = None,
    describe: Callable[[], Sequence[DeviceInfo]] | None = None,
) -> list[DeviceInfo]:
    """What each slot offers: CUDA slots as ``describe`` (a torch subprocess) finds them, CPU and MPS
    slots from this machine's available memory without a probe; each capped at ``memory_cap_mb``."""
    probed = list((describe or describe_devices)()) if any(s.startswith("cuda") for s in slots) else []
    by_slot = {info.slot: info for info in probed}
    infos: list[DeviceInfo] = []
    for slot in slots:
        if slot.startswith("cuda"):
            info = by_slot.get("cuda:0" if slot == "cuda" else slot)
            if info is None:
                raise DeviceUnavailable(f"slot {slot} names a CUDA device torch does not see here")
        else:
            info = DeviceInfo(slot, slot, platform.machine(), _available_memory_mb())
        if memory_cap_mb is not None and info.memory_mb > memory_cap_mb:
            info = replace(info, memory_mb=memory_cap_mb)
        infos.append(info)
    return infos


def describe_pool(infos: Sequence[DeviceInfo]) -> str:
    """One line for the doctor: ``cuda:0 NVIDIA H100 80GB HBM3 sm90, 81,559 MiB; cpu x86_64 AVX2, ...``."""
    return "; ".join(
        f"{info.slot} {info.name}{' ' + info.capability if info.capability else ''}, {info.memory_mb:,} MiB"
        for info in infos
    )


def refusal(spec: JobSpec, infos: Sequence[DeviceInfo]) -> str | None:
    """Why none of the slots ``infos`` can run ``spec``, or None when at least one can.

    A slot fits when its memory is at least ``resources.min_memory_mb`` and, if the spec declares a
    device class (``resources.device_class``, a prefix such as ``cuda`` or ``cuda:NVIDIA_H100``), the
    slot's class agrees with it as far as the slot's class is known (``device_class_prefix``).
    """
    need_mb = spec.resources.min_memory_mb
    wanted = spec.resources.device_class
    fitting = [info for info in infos if info.memory_mb >= need_mb]
    if not fitting:
        best = max((info.memory_mb for info in infos), default=0)
        return f"the job needs min_memory_mb={need_mb}; the largest device slot here has {best} MiB"
    if wanted and not any(_agrees(device_class_prefix(info), wanted) for info in fitting):
        offered = sorted({device_class_prefix(info) for info in fitting})
        return f"the job declares device class {wanted!r}; this worker offers {offered}"
    return None


def device_class_prefix(info: DeviceInfo) -> str:
    """The start of the slot's device class (``determinism.device_class`` adds the build details)."""
    if info.kind == "cuda":
        return f"cuda:{info.name.replace(' ', '_')}:{info.capability}"
    return f"{info.kind}:{info.name}" + (f":{info.capability}" if info.capability else "")


def _agrees(known: str, wanted: str) -> bool:
    """``wanted`` is a prefix of the full class, of which ``known`` is a prefix (as much as we know)."""
    return known.startswith(wanted) or wanted.startswith(known + ":")


def _package_root() -> str:
    import offchain

    root = os.path.dirname(os.path.dirname(os.path.abspath(offchain.__file__)))
    return os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)


def _probe() -> list[dict[str, object]]:
    """Run in the subprocess: every CUDA device, then the CPU (and MPS when present)."""
    import torch

    found: list[dict[str, object]] = []
    for index in range(torch.cuda.device_count() if torch.cuda.is_available() else 0):
        props = torch.cuda.get_device_properties(index)
        found.append(
            asdict(
                DeviceInfo(
                    slot=f"cuda:{index}",
                    kind="cuda",
                    name=props.name,
                    memory_mb=props.total_memory >> 20,
                    capability=f"sm{props.major}{props.minor}",
                )
            )
        )
    available_mb = _available_memory_mb()
    if torch.backends.mps.is_available():
        found.append(asdict(DeviceInfo("mps", "mps", platform.machine(), available_mb)))
    capability = torch.backends.cpu.get_cpu_capability()
    found.append(asdict(DeviceInfo("cpu", "cpu", platform.machine(), available_mb, capability)))
    return found


def _available_memory_mb() -> int:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) >> 10
    except OSError:
        pass
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) >> 20


if __name__ == "__main__":
    print(json.dumps(_probe()))
