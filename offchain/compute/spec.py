"""The versioned job spec: pydantic models, a hardened parser, its digest, JSON Schema and canonical bytes.

A job spec is small JSON that a requester uploads to IPFS. ``parse_spec`` is the only way bytes become a
``JobSpec``: it refuses oversize input before reading it, refuses deep nesting by scanning brackets
(without recursion) before ``json`` sees the text, refuses duplicate keys and non-finite numbers, and
validates strictly (no type coercion, no unknown keys). Every refusal is a ``SpecTooLarge`` or
``SpecMalformed`` whose message names the field and what to change. ``canonical_spec_bytes`` is the form
to upload (sorted keys, no whitespace, defaults written out); parsing it gives back an equal spec.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from offchain.compute.errors import SpecMalformed, SpecTooLarge
from offchain.compute.jsonscan import nesting_depth
from offchain.compute.workloads import WORKLOAD_CLASSES

SPEC_VERSION = 1
MAX_SPEC_BYTES = 1 << 20  # 1 MiB
MAX_DEPTH = 32
MAX_INPUTS = 16

# Loose CID syntax: CIDv0 is base58btc "Qm" + 44 characters; CIDv1 here is multibase base32 ("b", lower).
# offchain.ipfs decodes CIDs fully; this only keeps obvious garbage out of a spec.
CID_PATTERN = r"^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{20,120})$"
INPUT_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"


def _matching(pattern: str, what: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if compiled.fullmatch(value) is None:
            raise ValueError(f"{_short(value, 60)} is not {what}")
        return value

    return AfterValidator(check)


Cid = Annotated[
    str,
    _matching(CID_PATTERN, "a CID (CIDv0 'Qm' + 44 base58 characters, or base32 CIDv1 'b...')"),
    WithJsonSchema({"type": "string", "pattern": CID_PATTERN}),
]
InputName = Annotated[
    str,
    _matching(INPUT_NAME_PATTERN, "an input name (lowercase letter, then up to 31 of a-z 0-9 _ -)"),
    WithJsonSchema({"type": "string", "pattern": INPUT_NAME_PATTERN}),
]

DEVICE_CLASS_PATTERN = r"^(cpu|cuda|mps)(:[A-Za-z0-9_.+-]{1,64}){0,3}$"
DeviceClassPrefix = Annotated[
    str,
    _matching(DEVICE_CLASS_PATTERN, "a device class prefix (cpu, cuda or mps, then up to 3 ':'-parts)"),
    WithJsonSchema({"type": "string", "pattern": DEVICE_CLASS_PATTERN}),
]

AnyWorkload = Annotated[Union[WORKLOAD_CLASSES], Field(discriminator="name")]  # noqa: UP007

_STRICT = ConfigDict(extra="forbid", frozen=True, strict=True)
_NO_ECHO = ("missing", "extra_forbidden", "value_error")  # error types whose message already says it


class Resources(BaseModel):
    """What the job needs: a worker abstains when it cannot offer it; the runner enforces the maxima."""

    model_config = _STRICT

    max_runtime_s: int = Field(default=300, ge=1, le=86_400, description="wall-clock limit of the workload")
    min_memory_mb: int = Field(default=0, ge=0, le=1 << 20, description="memory a worker must have free")
    max_memory_mb: int = Field(
        default=2048, ge=64, le=1 << 20, description="memory the workload may allocate beyond torch's own"
    )
    device_class: DeviceClassPrefix | None = Field(
        default=None,
        exclude_if=lambda value: value is None,  # absent stays absent: older specs keep their canonical bytes
        description="device class prefix a worker's device must have, e.g. 'cuda' or 'cuda:NVIDIA_H100' "
        "(a result's device class starts with it); absent: any device",
    )

    @field_validator("max_memory_mb")
    @classmethod
    def _not_below_min(cls, value: int, info: ValidationInfo) -> int:
        minimum = info.data.get("min_memory_mb")
        if minimum is not None and value < minimum:
            raise ValueError(f"max_memory_mb ({value}) must not be below min_memory_mb ({minimum})")
        return value


class Exact(BaseModel):
    """Results are compared bit for bit (same device class, same torch build)."""

    model_config = _STRICT
    mode: Literal["exact"]


class Quantized(BaseModel):
    """Floating-point results are rounded to ``decimals`` decimal places before hashing."""

    model_config = _STRICT
    mode: Literal["quantized"]
    decimals: int = Field(ge=0, le=12)


Determinism = Annotated[Union[Exact, Quantized], Field(discriminator="mode")]  # noqa: UP007


class JobSpec(BaseModel):
    """A Tessera job: which workload, on which inputs (by CID), within which resources, how reproducible."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, json_schema_extra={"$id": "tessera:job-spec:v1"}
    )

    version: Literal[1]
    workload: AnyWorkload
    inputs: dict[InputName, Cid] = Field(default_factory=dict, max_length=MAX_INPUTS, validate_default=True)
    resources: Resources = Field(default_factory=Resources)
    determinism: Determinism = Field(default_factory=lambda: Exact(mode="exact"))

    @field_validator("inputs")
    @classmethod
    def _inputs_match_workload(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        workload = info.data.get("workload")
        if workload is None:  # the workload itself is invalid; that error is reported instead
            return value
        required, optional = workload.required_inputs, workload.optional_inputs
        missing = sorted(required - set(value))
        unknown = sorted(set(value) - required - optional)
        if missing or unknown:
            problem = f"missing {missing}" if missing else f"unexpected {unknown}"
            raise ValueError(
                f"{problem}: workload {workload.name!r} needs {sorted(required)} "
                f"and may also take {sorted(optional)}"
            )
        return value


def parse_spec(raw: bytes, *, max_bytes: int = MAX_SPEC_BYTES) -> JobSpec:
    """Validate spec bytes; raise ``SpecTooLarge`` or ``SpecMalformed`` (never anything else) on bad input."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise SpecMalformed(f"a spec is bytes, got {type(raw).__name__}")
    if len(raw) > max_bytes:
        raise SpecTooLarge(f"the spec is {len(raw):,} bytes; the limit is {max_bytes:,}")
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError as err:
        message = f"the spec is not UTF-8 (byte {err.start})"
        raise SpecMalformed(message, hint="save the spec as UTF-8 JSON") from None
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise SpecMalformed(
            f"the spec nests {depth} levels deep; the limit is {MAX_DEPTH}",
            hint="a valid spec nests 3 levels; upload the JSON that canonical_spec_bytes() produces",
        )
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
    except (ValueError, RecursionError) as err:
        message = f"the spec is not valid JSON: {_short(err)}"
        raise SpecMalformed(message, hint="fix the JSON syntax") from None
    if not isinstance(data, dict):
        raise SpecMalformed(f"the spec must be a JSON object, got {type(data).__name__}")
    try:
        return JobSpec.model_validate(data)
    except ValidationError as err:
        raise _spec_error(err) from None


def spec_digest(raw: bytes) -> bytes:
    """sha256 of the spec bytes exactly as uploaded (what the chain records next to the spec's CID)."""
    return hashlib.sha256(raw).digest()


def canonical_spec_bytes(spec: JobSpec) -> bytes:
    """The spec as canonical JSON: every field written out, keys sorted, no whitespace, ASCII only."""
    data = spec.model_dump(mode="json")
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return text.encode("ascii")


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of ``JobSpec`` for frontends; workloads are a ``oneOf`` on ``name``."""
    return JobSpec.model_json_schema()


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            # Parsers disagree on duplicates (first wins vs last wins): refuse so every reader sees one spec.
            raise ValueError(f"duplicate key {key[:40]!r}")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _spec_error(err: ValidationError) -> SpecMalformed:
    first = err.errors(include_url=False)[0]
    field = _field_path(first["loc"]) or "(the spec)"
    given = ""
    if first["type"] not in _NO_ECHO and not isinstance(first["input"], dict | list):
        given = f" (got {_short(first['input'])})"
    more = f"; {err.error_count() - 1} more problem(s) after fixing it" if err.error_count() > 1 else ""
    message = first["msg"].removeprefix("Value error, ")
    return SpecMalformed(
        f"{field}: {message}{given}{more}",
        hint=f"fix `{field}` and upload the spec again; spec.json_schema() lists every field",
    )


def _field_path(loc: tuple[int | str, ...]) -> str:
    """``('workload', 'matmul', 'n')`` -> ``workload.n``: drop the union tags pydantic puts in the path."""
    parts: list[str] = []
    tags = {
        "workload": {cls.workload_name() for cls in WORKLOAD_CLASSES},
        "determinism": {"exact", "quantized"},
    }
    for i, part in enumerate(loc):
        if part == "[key]" or (i == 1 and isinstance(part, str) and part in tags.get(str(loc[0]), ())):
            continue
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(parts).lstrip(".")


def _short(value: object, limit: int = 80) -> str:
    text = repr(value) if not isinstance(value, BaseException) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
