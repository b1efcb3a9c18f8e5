"""A valid spec parses, its canonical bytes parse back to an equal spec, and frontends get its schema."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offchain.compute import demo_models
from offchain.compute.spec import (
    MAX_DEPTH,
    JobSpec,
    Quantized,
    canonical_spec_bytes,
    json_schema,
    nesting_depth,
    parse_spec,
    spec_digest,
)
from offchain.compute.workloads import WORKLOAD_CLASSES, registry

from .support import DATA_CID, INPUT_CID, WEIGHTS_CID, matmul_document, spec_of

EXAMPLES = [
    demo_models.matmul_spec(n=64, seed=3, iterations=2),
    demo_models.mlp_infer_spec(weights_cid=WEIGHTS_CID, input_cid=INPUT_CID),
    demo_models.mlp_train_spec(steps=5, weights_cid=WEIGHTS_CID, data_cid=DATA_CID, decimals=3),
    demo_models.mlp_train_spec(steps=5),
]


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda spec: spec.workload.name)
def test_canonical_bytes_parse_back_to_the_same_spec(spec: JobSpec) -> None:
    raw = canonical_spec_bytes(spec)
    assert parse_spec(raw) == spec
    assert canonical_spec_bytes(parse_spec(raw)) == raw
    assert b" " not in raw and b"\n" not in raw


def test_canonical_bytes_do_not_depend_on_key_order_or_whitespace() -> None:
    document = matmul_document(n=32, iterations=3)
    shuffled = {"workload": dict(reversed(document["workload"].items())), "version": 1}
    pretty = json.dumps(shuffled, indent=4).encode()
    assert canonical_spec_bytes(parse_spec(pretty)) == canonical_spec_bytes(spec_of(document))


def test_defaults_are_written_out_in_canonical_bytes() -> None:
    canonical = json.loads(canonical_spec_bytes(spec_of(matmul_document())))
    assert canonical["resources"] == {"max_memory_mb": 2048, "max_runtime_s": 300, "min_memory_mb": 0}
    assert canonical["determinism"] == {"mode": "exact"}
    assert canonical["workload"] == {"dtype": "float32", "iterations": 1, "n": 8, "name": "matmul", "seed": 1}


def test_quantized_determinism_carries_its_decimals() -> None:
    spec = spec_of({**matmul_document(), "determinism": {"mode": "quantized", "decimals": 4}})
    assert spec.determinism == Quantized(mode="quantized", decimals=4)


def test_spec_digest_is_sha256_of_the_uploaded_bytes() -> None:
    raw = canonical_spec_bytes(EXAMPLES[0])
    assert spec_digest(raw) == hashlib.sha256(raw).digest()
    assert len(spec_digest(raw)) == 32


def test_json_schema_offers_every_workload_by_name() -> None:
    schema = json_schema()
    mapping = schema["properties"]["workload"]["discriminator"]["mapping"]
    assert set(mapping) == set(registry()) == {"matmul", "mlp-infer", "mlp-train", "export"}
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"version", "workload"}
    json.dumps(schema)  # plain JSON, ready to serve


def test_every_registered_workload_is_one_documented_class() -> None:
    for cls in WORKLOAD_CLASSES:
        assert cls.__doc__, cls
        assert cls.required_inputs.isdisjoint(cls.optional_inputs)
        assert registry()[cls.workload_name()] is cls


@given(st.text(alphabet='{}[]"\\ab: ,', max_size=200))
def test_bracket_scan_agrees_with_json_on_what_it_accepts(text: str) -> None:
    try:
        value = json.loads(text)
    except ValueError:
        return
    assert nesting_depth(text) == _depth(value)


def test_brackets_inside_strings_do_not_count_towards_depth() -> None:
    document = matmul_document()
    document["workload"]["name"] = "[" * 1000 + '\\"{' * 1000
    assert nesting_depth(json.dumps(document)) == 2
    assert MAX_DEPTH == 32


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0
