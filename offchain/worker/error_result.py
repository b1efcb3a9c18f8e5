"""Agreed error results: a job that fails the same way on every honest worker completes with its error.

A claimed job whose own spec, inputs or workload fail (a malformed spec, an unsafe model, a tensor of the
wrong shape, an exception raised by the workload's code) fails identically on every honest machine. The
worker does not abandon it (that would cost it the liveness slash for the requester's mistake): it
commits and reveals the canonical *error result* instead, so honest workers agree on one digest and the
job completes with the error as its agreed result. A failure of this machine (out of memory, a crash,
a timeout, IPFS or the device) is not the job's: the worker keeps abstaining or abandoning as before.

`DETERMINISTIC` is the one table of which failures are the job's (docs/WORKER.md, docs/SPEC.md §
"Agreed error results"). The error result's bytes are canonical JSON, sorted keys, no spaces, UTF-8, and
**no trailing newline**: ``{"error":{"code":"E_INPUT_INVALID","version":1}}``; its digest is their
sha256 and its CID the CID of those bytes, uploaded like any result.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ERROR_RESULT_VERSION = 1

# code -> why every honest worker meets it (anything not listed is local to this machine)
DETERMINISTIC: dict[str, str] = {
    "E_SPEC_MALFORMED": "the spec bytes are fixed by spec_digest; the parser is the protocol's",
    "E_SPEC_TOO_LARGE": "the spec size bound is a protocol constant, and the spec bytes are fixed",
    "E_SPEC_DIGEST_MISMATCH": "the bytes at spec_cid are fixed by the CID; they hash as they hash",
    "E_UNSAFE_WEIGHTS": "the input bytes are fixed by their CID; the safetensors-only rule is the protocol's",
    "E_UNSAFE_MODEL": "the archive bytes are fixed by their CID; the archive checks are the protocol's",
    "E_INPUT_INVALID": "names, shapes and dtypes of CID-fixed inputs against the spec",
    "E_WORKLOAD_FAILED": "the workload's own exception, as its child process reported it (not a crash)",
}
# Local on purpose: E_WORKLOAD_TIMEOUT (runtime differs across hardware), E_WORKLOAD_OOM (memory differs),
# E_DEVICE_UNFIT / E_DEVICE_UNAVAILABLE, E_IPFS_*, E_INPUT_TOO_LARGE (a worker setting), E_CID_MISMATCH
# (the bytes of a CID cannot fail to verify: the source sent wrong ones, another source will not),
# E_JOB_DIR_NOT_EMPTY, E_INTERNAL.

# A workload exception naming the accelerator or its libraries depends on this machine's device and
# drivers, not on the job: local, though the child reported it.
_DEVICE_WORDS = re.compile(
    r"\b(cuda|cudnn|cublas|cusolver|cufft|nccl|rocm|hip|mps|driver|device-side)\b", re.IGNORECASE
)


def agreed_error_code(code: str, message: str, *, reported_by_job: bool) -> str | None:
    """The code to commit as an agreed error result, or None when the failure is local to this worker.

    ``reported_by_job``: the job's own child process reported the failure (its status file), as opposed
    to the runner or the operating system (a crash, a signal, a child that could not start).
    E_WORKLOAD_FAILED is the job's only when so reported and it names no device trouble."""
    if code not in DETERMINISTIC:
        return None
    if code == "E_WORKLOAD_FAILED" and (not reported_by_job or _DEVICE_WORDS.search(message)):
        return None
    return code


def error_result_bytes(code: str) -> bytes:
    """The canonical result bytes of an agreed error ``code``: compact, sorted JSON without newline."""
    if not (code.startswith("E_") and code.replace("_", "").isalnum() and code.isascii()):
        raise ValueError(f"an error code is E_ and capitals, not {code!r}")
    document = {"error": {"code": code, "version": ERROR_RESULT_VERSION}}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def write_error_result(code: str, path: Path) -> Path:
    """Write the error result of ``code`` to ``path`` (replacing any earlier file); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(error_result_bytes(code))
    tmp.replace(path)
    return path


def error_code_of(data: bytes) -> str | None:
    """The code of an agreed error result, or None when ``data`` is not exactly one (a normal result)."""
    if not data.startswith(b'{"error":'):
        return None
    try:
        document = json.loads(data)
        code = document["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(code, str):
        return None
    try:
        return code if error_result_bytes(code) == data else None
    except ValueError:
        return None
