"""Any bytes given as a spec parse to a JobSpec or raise SpecMalformed / SpecTooLarge, never anything else."""

from __future__ import annotations

import json
import time
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offchain.compute import spec as spec_module
from offchain.compute.errors import SpecMalformed, SpecTooLarge
from offchain.compute.spec import MAX_SPEC_BYTES, JobSpec, parse_spec
from offchain.errors import TesseraError

from .support import WEIGHTS_CID, matmul_document

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
VALID = {
    "version": 1,
    "workload": {"name": "mlp-train", "sizes": [4, 8, 2], "steps": 3, "lr": 0.1, "seed": 7},
    "inputs": {"weights": WEIGHTS_CID},
    "resources": {"max_runtime_s": 60, "min_memory_mb": 64, "max_memory_mb": 256},
    "determinism": {"mode": "quantized", "decimals": 3},
}


def _outcome(raw: bytes) -> JobSpec | TesseraError:
    try:
        return parse_spec(raw)
    except (SpecMalformed, SpecTooLarge) as err:
        assert str(err).startswith(err.code) and err.hint
        return err


@given(st.binary(max_size=2048))
def test_arbitrary_bytes(raw: bytes) -> None:
    _outcome(raw)


@given(json_values)
def test_arbitrary_json(value: Any) -> None:
    _outcome(json.dumps(value).encode())


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_valid_spec_with_one_field_replaced_deleted_or_added(data: st.DataObject) -> None:
    document = json.loads(json.dumps(VALID))
    parent = document
    path = [data.draw(st.sampled_from(sorted(document)))]
    while isinstance(parent[path[-1]], dict) and data.draw(st.booleans()):
        parent = parent[path[-1]]
        path.append(data.draw(st.sampled_from(sorted(parent))))
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace":
        parent[path[-1]] = data.draw(json_values)
    elif action == "delete":
        del parent[path[-1]]
    else:
        parent[data.draw(st.text(min_size=1, max_size=10))] = data.draw(json_values)
    _outcome(json.dumps(document).encode())


@given(st.text(alphabet='{}[]":,0123456789.eE+-truefalsn\\ ', max_size=300))
def test_json_like_noise(text: str) -> None:
    _outcome(text.encode())


def test_the_valid_base_document_is_valid() -> None:
    assert isinstance(_outcome(json.dumps(VALID).encode()), JobSpec)


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        ({**matmul_document(), "version": 2}, "version", "1"),
        (matmul_document(n=5000), "workload.n", "4096"),
        (matmul_document(n="64"), "workload.n", "integer"),
        (matmul_document(n=True), "workload.n", "integer"),
        (matmul_document(dtype="float16"), "workload.dtype", "float32"),
        (matmul_document(color="red"), "workload.color", "Extra inputs"),
        ({"version": 1, "workload": {"name": "conv"}}, "workload", "matmul"),
        ({"version": 1}, "workload", "required"),
        ({**matmul_document(), "inputs": {"weights": "Qm123"}}, "inputs.weights", "not a CID"),
        ({**matmul_document(), "inputs": {"Weights": WEIGHTS_CID}}, "inputs.Weights", "input name"),
        ({**matmul_document(), "inputs": {"weights": WEIGHTS_CID}}, "inputs", "unexpected ['weights']"),
        ({"version": 1, "workload": {"name": "mlp-infer"}}, "inputs", "missing ['input', 'weights']"),
        ({**matmul_document(), "determinism": {"mode": "quantized"}}, "determinism.decimals", "required"),
        (
            {**matmul_document(), "determinism": {"mode": "exact", "decimals": 2}},
            "determinism.decimals",
            "Extra",
        ),
        ({**matmul_document(), "determinism": {"mode": "fuzzy"}}, "determinism", "quantized"),
        ({**matmul_document(), "resources": {"max_runtime_s": 0}}, "resources.max_runtime_s", "1"),
        (
            {**matmul_document(), "resources": {"min_memory_mb": 900, "max_memory_mb": 100}},
            "resources.max_memory_mb",
            "min_memory_mb",
        ),
        (
            {"version": 1, "workload": {"name": "mlp-train", "sizes": [4, 0], "steps": 1}},
            "workload.sizes[1]",
            "greater than or equal to 1",
        ),
    ],
)
def test_message_names_the_field_and_the_fix(document: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(SpecMalformed) as caught:
        parse_spec(json.dumps(document).encode())
    assert caught.value.message.startswith(f"{field}: ")
    assert words in caught.value.message
    assert f"fix `{field}`" in caught.value.hint


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "JSON object"),
        (b'{"version": 1, "version": 1}', "duplicate key 'version'"),
        (b'{"version": NaN}', "NaN is not JSON"),
        (b'{"version": Infinity}', "Infinity is not JSON"),
        (b'{"version": ' + b"9" * 5000 + b"}", "not valid JSON"),
    ],
)
def test_invalid_json_is_refused_with_the_reason(raw: bytes, words: str) -> None:
    with pytest.raises(SpecMalformed, match=words):
        parse_spec(raw)


def test_ten_thousand_deep_nesting_is_refused_without_recursion() -> None:
    for raw in (b"[" * 10_000 + b"]" * 10_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000, b"[" * 10_000):
        with pytest.raises(SpecMalformed, match="nests 10000 levels deep; the limit is 32"):
            parse_spec(raw)


def test_nesting_limit_is_exactly_32() -> None:
    def nested(depth: int) -> bytes:
        inner = "1"
        for _ in range(depth - 1):
            inner = f"[{inner}]"
        return f'{{"version": 1, "workload": {inner}}}'.encode()

    with pytest.raises(SpecMalformed, match="workload"):  # 32 deep: scanned fine, then fails validation
        parse_spec(nested(32))
    with pytest.raises(SpecMalformed, match="nests 33 levels"):
        parse_spec(nested(33))


def test_oversize_spec_is_refused_before_it_is_read() -> None:
    huge = b" " * (100 << 20)  # a 100 MB "spec"
    with (
        mock.patch.object(spec_module, "nesting_depth", side_effect=AssertionError("scanned")),
        mock.patch.object(spec_module.json, "loads", side_effect=AssertionError("parsed")),
        pytest.raises(SpecTooLarge, match="104,857,600 bytes; the limit is 1,048,576"),
    ):
        parse_spec(huge)


def test_size_limit_is_inclusive_and_adjustable() -> None:
    padded = json.dumps(matmul_document()).encode().ljust(MAX_SPEC_BYTES)
    assert isinstance(parse_spec(padded), JobSpec)
    with pytest.raises(SpecTooLarge):
        parse_spec(padded + b" ")
    with pytest.raises(SpecTooLarge):
        parse_spec(json.dumps(matmul_document()).encode(), max_bytes=10)


def test_unterminated_strings_are_scanned_in_linear_time() -> None:
    raw = b'{"a": "' + b'\\"' * 400_000  # many escaped quotes, no closing one: quadratic for a naive regex
    start = time.perf_counter()
    with pytest.raises(SpecMalformed):
        parse_spec(raw)
    assert time.perf_counter() - start < 5


def test_a_non_bytes_spec_is_malformed() -> None:
    with pytest.raises(SpecMalformed, match="bytes"):
        parse_spec("{}")  # type: ignore[arg-type]
