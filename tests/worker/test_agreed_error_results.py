"""Agreed error results (offchain.worker.error_result): which failures are the job's own, the canonical
bytes every honest worker commits for them, and the reveal step's old ledger key still being followed."""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

import pytest

from offchain.worker.error_result import (
    DETERMINISTIC,
    agreed_error_code,
    error_code_of,
    error_result_bytes,
)
from offchain.worker.pipeline import FINALIZE, REVEAL, Pipeline


@pytest.mark.parametrize(
    "code",
    ["E_SPEC_MALFORMED", "E_SPEC_TOO_LARGE", "E_UNSAFE_WEIGHTS", "E_UNSAFE_MODEL", "E_INPUT_INVALID"],
)
def test_spec_model_and_input_refusals_are_the_jobs_from_any_origin(code):
    assert agreed_error_code(code, "whatever", reported_by_job=False) == code
    assert agreed_error_code(code, "whatever", reported_by_job=True) == code


@pytest.mark.parametrize(
    "code",
    [
        "E_WORKLOAD_TIMEOUT",  # runtime differs across hardware
        "E_WORKLOAD_OOM",
        "E_DEVICE_UNFIT",
        "E_DEVICE_UNAVAILABLE",
        "E_IPFS_TIMEOUT",
        "E_IPFS_UNAVAILABLE",
        "E_CID_MISMATCH",  # the source sent the wrong bytes; another will not
        "E_INPUT_TOO_LARGE",  # a worker setting
        "E_JOB_DIR_NOT_EMPTY",
        "E_INTERNAL",
    ],
)
def test_failures_of_this_machine_are_never_agreed(code):
    assert code not in DETERMINISTIC
    assert agreed_error_code(code, "the workload raised ValueError: x", reported_by_job=True) is None


def test_a_workload_exception_is_the_jobs_only_when_its_child_reported_it():
    raised = "the workload raised ValueError: boom"
    assert agreed_error_code("E_WORKLOAD_FAILED", raised, reported_by_job=True) == "E_WORKLOAD_FAILED"
    crash = "the child died of SIGSEGV: no output"
    assert agreed_error_code("E_WORKLOAD_FAILED", crash, reported_by_job=False) is None


@pytest.mark.parametrize(
    "message",
    [
        "the workload raised RuntimeError: CUDA error: an illegal memory access was encountered",
        "the workload raised RuntimeError: cuDNN error: CUDNN_STATUS_INTERNAL_ERROR",
        "the workload raised RuntimeError: Expected all tensors to be on the same device, cuda:0 and cpu",
        "the workload raised RuntimeError: MPS backend out of range",
    ],
)
def test_a_workload_exception_naming_the_device_is_local(message):
    assert agreed_error_code("E_WORKLOAD_FAILED", message, reported_by_job=True) is None


def test_a_word_that_merely_contains_a_device_name_does_not_make_it_local():
    message = "the workload raised ValueError: json dumps failed"  # "dumps" holds "mps"
    assert agreed_error_code("E_WORKLOAD_FAILED", message, reported_by_job=True) == "E_WORKLOAD_FAILED"


def test_error_result_bytes_are_compact_sorted_json_without_a_newline():
    data = error_result_bytes("E_INPUT_INVALID")
    assert data == b'{"error":{"code":"E_INPUT_INVALID","version":1}}'
    assert json.loads(data) == {"error": {"code": "E_INPUT_INVALID", "version": 1}}
    assert hashlib.sha256(data).digest() != hashlib.sha256(error_result_bytes("E_UNSAFE_MODEL")).digest()


def test_an_error_result_is_recognised_and_anything_else_is_not():
    assert error_code_of(error_result_bytes("E_UNSAFE_MODEL")) == "E_UNSAFE_MODEL"
    assert error_code_of(error_result_bytes("E_UNSAFE_MODEL") + b"\n") is None  # not the canonical bytes
    assert error_code_of(b'{"error": {"code": "E_UNSAFE_MODEL", "version": 1}}') is None
    assert error_code_of(b'{"error":{"code":"rm -rf","version":1}}') is None
    assert error_code_of(b"\x08\x00\x00\x00\x00\x00\x00\x00{}") is None  # a safetensors result


def test_a_code_that_is_not_an_error_code_is_refused():
    with pytest.raises(ValueError, match="E_ and capitals"):
        error_result_bytes('E_X","version":2')


# ------------------------------------------------------------------ the reveal step's ledger key
class _Store:
    def __init__(self, keys: set[str]) -> None:
        self.keys = keys

    def tx(self, key: str):
        return object() if key in self.keys else None


def _pipeline_with_txs(keys: set[str]) -> Pipeline:
    pipeline = Pipeline.__new__(Pipeline)  # only the key logic is under test: no chain, no ledger
    pipeline.txm = SimpleNamespace(store=_Store(keys))  # type: ignore[assignment]
    return pipeline


def test_the_reveal_step_is_keyed_reveal_and_finalize():
    job = SimpleNamespace(job_id=7)
    assert _pipeline_with_txs(set())._base_key(REVEAL, job) == "reveal_and_finalize:7"  # type: ignore[arg-type]


def test_a_ledger_with_the_old_reveal_key_keeps_following_that_attempt():
    """A worker restarted on a ledger written before reveal_and_finalize finds its reveal under
    ``reveal:7`` and follows that attempt: it must not send a second one under the new name."""
    job = SimpleNamespace(job_id=7)
    pipeline = _pipeline_with_txs({"reveal:7", "reveal:8"})
    assert pipeline._base_key(REVEAL, job) == "reveal:7"  # type: ignore[arg-type]
    assert pipeline._base_key(FINALIZE, job) == "finalize:7"  # type: ignore[arg-type]
