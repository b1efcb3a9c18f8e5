"""Errors of the compute layer: spec validation, input safety and workload execution, each with a stable code.

The worker ledger stores ``code`` and a job's failure is reported by it, so codes never change once
shipped. ``error_for_code`` turns a code written by the workload child process back into its class.
"""

from __future__ import annotations

from offchain.errors import TesseraError


class ComputeError(TesseraError):
    """Base class of every failure raised by ``offchain.compute``."""

    code = "E_COMPUTE"


# --- job specs -----------------------------------------------------------------------------------------
class SpecMalformed(ComputeError):
    code = "E_SPEC_MALFORMED"
    default_hint = (
        "fix the named field and upload the spec again; offchain.compute.spec.json_schema() lists every field"
    )


class SpecTooLarge(ComputeError):
    code = "E_SPEC_TOO_LARGE"
    default_hint = "a job spec is small JSON (inputs go in by CID); shrink it below the limit"


# --- inputs ----------------------------------------------------------------------------------------------
class UnsafeWeights(ComputeError):
    code = "E_UNSAFE_WEIGHTS"
    default_hint = (
        "publish tensors as safetensors (safetensors.torch.save_file); pickled checkpoints are never loaded"
    )


class UnsafeModel(ComputeError):
    code = "E_UNSAFE_MODEL"
    default_hint = (
        "export the model with torch.export.export and torch.export.save, static shapes and standard ATen "
        "operators only; offchain.compute.export_tool checks an archive the way workers do"
    )


class InputInvalid(ComputeError):
    code = "E_INPUT_INVALID"
    default_hint = "fix the input tensors so their names, shapes and dtypes match what the workload expects"


# --- execution -------------------------------------------------------------------------------------------
class WorkloadTimeout(ComputeError):
    code = "E_WORKLOAD_TIMEOUT"
    default_hint = "raise resources.max_runtime_s in the spec, or use smaller parameters"


class WorkloadOom(ComputeError):
    code = "E_WORKLOAD_OOM"
    default_hint = "raise resources.max_memory_mb in the spec, or use smaller parameters"


class WorkloadFailed(ComputeError):
    code = "E_WORKLOAD_FAILED"
    default_hint = "read child.log in the job directory; report a bug if the spec and inputs are valid"


class DeviceUnavailable(ComputeError):
    code = "E_DEVICE_UNAVAILABLE"
    default_hint = "set the runner's device to 'auto' or 'cpu', or run the worker where that device exists"


class DeviceUnfit(ComputeError):
    code = "E_DEVICE_UNFIT"
    default_hint = (
        "this worker abstains: no device slot has the job's resources.min_memory_mb or resources.device_class"
    )


class JobDirNotEmpty(ComputeError):
    code = "E_JOB_DIR_NOT_EMPTY"
    default_hint = "give every run a fresh (absent or empty) job directory"


_BY_CODE: dict[str, type[ComputeError]] = {
    cls.code: cls
    for cls in (
        SpecMalformed,
        SpecTooLarge,
        UnsafeWeights,
        UnsafeModel,
        InputInvalid,
        WorkloadTimeout,
        WorkloadOom,
        WorkloadFailed,
        DeviceUnavailable,
    )
}


def error_for_code(code: str) -> type[ComputeError]:
    """The error class for a code reported by the workload child; unknown codes become ``WorkloadFailed``."""
    return _BY_CODE.get(code, WorkloadFailed)
