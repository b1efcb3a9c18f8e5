"""Check a ``torch.export`` archive (``.pt2``) without torch and without unpickling, then rebuild it clean.

``torch.export.load`` unpickles members (weights marked ``use_pickle``, object constants, and the sample
inputs, with a ``weights_only=False`` fallback) and evaluates symbolic shape expressions with
``sympy.sympify``; it must never see an archive a requester crafted. ``validate_archive`` therefore reads
the zip itself, in this order, and raises ``UnsafeModel`` naming the first reason to refuse:

1. size: the archive, each member and their sum are bounded; only stored or deflated members, deflated at
   most ``max_ratio`` to one (no zip bomb); names are relative, with no ``..``, no backslash, no duplicates,
   all under one root, and each is a member ``torch.export.save`` writes for one model (anything else is
   refused, a pickle by name);
2. the graph (``models/model.json``): bounded size, nesting depth measured by a linear scan before
   ``json.loads``, no duplicate keys; EVERY node's target in ``archive_ops``'s allow-list (the refusal names
   the operator); arguments only tensors and plain values (no subgraphs, operators, script objects or
   symbolic values); static shapes only (no range constraints, guards or symbolic values); pytree specs
   of builtin containers only;
3. weights and constants: never ``use_pickle``, no object constants, every file raw, strided, of a known
   dtype and exactly as large as the tensors declared on it.

The sample inputs (a ``torch.save`` pickle) are never read. ``ValidatedArchive.clean_bytes`` is what the
loader gets: a new zip of the checked members only (sample inputs empty, node metadata dropped, JSON
re-serialised from what was checked), so no difference between this parser and torch's can smuggle
anything past the checks. Imports nothing heavy: the worker's parent process runs it.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from offchain.compute.archive_ops import operator_refusal
from offchain.compute.errors import UnsafeModel
from offchain.compute.jsonscan import nesting_depth

MODEL = "model"
GRAPH_MEMBER = "models/model.json"
WEIGHTS_CONFIG = "data/weights/model_weights_config.json"
CONSTANTS_CONFIG = "data/constants/model_constants_config.json"
SAMPLE_INPUTS = "data/sample_inputs/model.pt"
ARCHIVE_TENSOR = "archive"
"""The name under which the child hands an archive's bytes to a workload (one uint8 tensor)."""
_FIXED_MEMBERS: Mapping[str, bytes | None] = {
    "archive_format": b"pt2",
    "archive_version": b"0",
    "byteorder": b"little",
    ".data/version": None,
    ".data/serialization_id": None,
}
_CONFIG_MEMBERS = (GRAPH_MEMBER, WEIGHTS_CONFIG, CONSTANTS_CONFIG)
_WEIGHT_FILE = re.compile(r"data/weights/(weight_[0-9]{1,6})")
_CONSTANT_FILE = re.compile(r"data/constants/(tensor_[0-9]{1,6})")
_ROOT = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_MEMBER_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}(/[A-Za-z0-9_.-]{1,128}){0,7}")
_PICKLE_HINT = re.compile(r"\.(pt|pth|pkl|pickle|bin)$")

# schema.ScalarType code -> element size in bytes (torch/_export/serde/schema.py; complex and float8 too)
ITEM_SIZES: Mapping[int, int] = {
    1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 2, 7: 4, 8: 8, 9: 4, 10: 8, 11: 16, 12: 1, 13: 2,
    28: 2, 29: 1, 30: 1, 31: 1, 32: 1, 33: 1, 34: 4, 35: 8,
}  # fmt: skip
STRIDED_LAYOUT = 7
MAX_RANK = 16
_PLAIN_ARGUMENTS = frozenset({
    "as_none", "as_tensor", "as_tensors", "as_int", "as_ints", "as_float", "as_floats", "as_string",
    "as_strings", "as_bool", "as_bools", "as_scalar_type", "as_memory_format", "as_layout", "as_device",
    "as_optional_tensors", "as_optional_tensor", "as_int_lists", "as_float_lists",
})  # fmt: skip
_REFUSED_ARGUMENTS = {
    "as_graph": "a subgraph argument (higher-order operators run subgraphs)",
    "as_operator": "an operator passed as an argument",
    "as_custom_obj": "a script object argument (its state is pickled)",
    "as_string_to_argument": "a keyword-dict argument",
}
_INPUT_SPECS = frozenset({"parameter", "buffer", "tensor_constant", "user_input"})
_OUTPUT_SPECS = frozenset({"user_output", "buffer_mutation", "user_input_mutation"})
_PYTREE_TYPES = frozenset({
    None, "builtins.tuple", "builtins.list", "builtins.dict", "collections.OrderedDict",
    "torch.fx.immutable_collections.immutable_list", "torch.fx.immutable_collections.immutable_dict",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Bounds of an acceptable archive (the defaults fit models of a few hundred million parameters)."""

    max_archive_bytes: int = 1 << 30
    max_member_bytes: int = 1 << 30
    max_total_bytes: int = 1 << 30  # every member unpacked, held in memory while it is checked
    max_members: int = 4096
    max_ratio: int = 100
    max_graph_bytes: int = 64 << 20
    max_config_bytes: int = 16 << 20
    max_graph_depth: int = 48
    max_nodes: int = 200_000


DEFAULT_LIMITS = ArchiveLimits()


@dataclass(frozen=True, slots=True)
class ValidatedArchive:
    """A checked archive: its members (name below the root -> bytes) and what the worker needs to know."""

    root: str
    members: Mapping[str, bytes]
    operators: frozenset[str]
    input_names: tuple[str, ...]
    parameter_bytes: int
    node_count: int
    _documents: Mapping[str, Any] = field(repr=False)

    def clean_bytes(self) -> bytes:
        """A new stored (uncompressed) zip of the checked members: the JSON ones re-serialised from what was
        checked (node metadata dropped, every device CPU: the workload moves the program to its own), the
        sample inputs empty."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            for name in sorted(self.members):
                data = self.members[name]
                if name in self._documents:
                    data = _dumps(self._documents[name])
                elif name == SAMPLE_INPUTS:
                    data = b""
                archive.writestr(
                    zipfile.ZipInfo(f"{self.root}/{name}", date_time=(1980, 1, 1, 0, 0, 0)), data
                )
        return out.getvalue()


def validate_archive(data: bytes, *, limits: ArchiveLimits | None = None) -> ValidatedArchive:
    """Check ``data`` as a ``torch.export.save`` archive; raise ``UnsafeModel`` naming the first problem."""
    limits = limits or DEFAULT_LIMITS
    members, root = _read_members(bytes(data), limits)
    graph = _object(
        _parse_json(members[GRAPH_MEMBER], GRAPH_MEMBER, limits.max_graph_bytes, limits.max_graph_depth),
        GRAPH_MEMBER,
    )
    operators, node_count, input_names = _check_graph(graph, limits)
    weight_bytes, weights = _check_payloads(members, limits, weights=True)
    constant_bytes, constants = _check_payloads(members, limits, weights=False)
    documents = {GRAPH_MEMBER: graph, WEIGHTS_CONFIG: weights, CONSTANTS_CONFIG: constants}
    for document in documents.values():
        _devices_to_cpu(document)
    return ValidatedArchive(
        root=root,
        members=members,
        operators=operators,
        input_names=input_names,
        parameter_bytes=weight_bytes + constant_bytes,
        node_count=node_count,
        _documents=documents,
    )


# --- 1. the zip ----------------------------------------------------------------------------------------
def _read_members(data: bytes, limits: ArchiveLimits) -> tuple[dict[str, bytes], str]:
    if len(data) > limits.max_archive_bytes:
        raise UnsafeModel(f"the archive is {len(data):,} bytes; the limit is {limits.max_archive_bytes:,}")
    if not data.startswith(b"PK\x03\x04"):
        raise UnsafeModel("the model is not a zip archive (torch.export.save writes a .pt2 zip)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as err:
        raise UnsafeModel(f"the model is not a readable zip archive ({str(err)[:120]})") from None
    if len(infos) > limits.max_members:
        raise UnsafeModel(f"the archive has {len(infos):,} members; the limit is {limits.max_members:,}")

    roots: set[str] = set()
    total = 0
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        _check_member_name(name)
        if name in seen:
            raise UnsafeModel(f"member {name[:100]!r} appears twice in the archive")
        seen.add(name)
        roots.add(name.split("/", 1)[0])
        if info.flag_bits & 0x1:
            raise UnsafeModel(f"member {name[:100]!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnsafeModel(f"member {name[:100]!r} uses zip compression method {info.compress_type}")
        if info.file_size > limits.max_member_bytes:
            raise UnsafeModel(
                f"member {name[:100]!r} unpacks to {info.file_size:,} bytes; the limit is "
                f"{limits.max_member_bytes:,}"
            )
        if info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise UnsafeModel(
                f"member {name[:100]!r} expands {info.file_size:,} bytes from {info.compress_size:,} "
                f"(more than {limits.max_ratio}:1): a zip bomb"
            )
        total += info.file_size
        if total > limits.max_total_bytes:
            raise UnsafeModel(f"the archive unpacks to more than {limits.max_total_bytes:,} bytes")
    if len(roots) != 1:
        raise UnsafeModel(
            f"the archive's members lie under {len(roots)} top folders; torch.export.save uses 1"
        )
    (root,) = roots
    if _ROOT.fullmatch(root) is None:
        raise UnsafeModel(f"the archive's top folder {root[:80]!r} is not a plain name")

    members: dict[str, bytes] = {}
    for info in infos:
        if info.is_dir():
            continue
        relative = info.filename[len(root) + 1 :]
        _check_member_expected(relative)
        if relative == SAMPLE_INPUTS:
            members[relative] = b""  # a torch.save pickle: never read
            continue
        try:
            with archive.open(info) as handle:
                content = handle.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
            raise UnsafeModel(f"member {relative[:100]!r} cannot be read ({str(err)[:120]})") from None
        if len(content) != info.file_size:
            raise UnsafeModel(f"member {relative[:100]!r} is not as large as the zip directory says")
        members[relative] = content
    for relative, expected in _FIXED_MEMBERS.items():
        if relative not in members:
            raise UnsafeModel(f"member {relative!r} is missing: not an archive of torch.export.save")
        if expected is not None and members[relative].strip() != expected:
            raise UnsafeModel(f"member {relative!r} holds {members[relative][:20]!r}, expected {expected!r}")
        if len(members[relative]) > 64:
            raise UnsafeModel(f"member {relative!r} is {len(members[relative])} bytes; it is a short tag")
    for relative in _CONFIG_MEMBERS:
        if relative not in members:
            raise UnsafeModel(f"member {relative!r} is missing: not an archive of torch.export.save")
    return members, root


def _check_member_name(name: str) -> None:
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        raise UnsafeModel(f"member {name[:100]!r} has an absolute path")
    if "\\" in name or "\x00" in name:
        raise UnsafeModel(f"member {name[:100]!r} has a backslash or NUL in its name")
    if ".." in name.split("/"):
        raise UnsafeModel(f"member {name[:100]!r} climbs out of the archive ('..')")
    if _MEMBER_NAME.fullmatch(name.rstrip("/")) is None:
        raise UnsafeModel(f"member {name[:100]!r} is not a plain relative path")


def _check_member_expected(relative: str) -> None:
    if relative in _FIXED_MEMBERS or relative in _CONFIG_MEMBERS or relative == SAMPLE_INPUTS:
        return
    if _WEIGHT_FILE.fullmatch(relative) or _CONSTANT_FILE.fullmatch(relative):
        return
    what = (
        "a pickle, which is never loaded"
        if _PICKLE_HINT.search(relative)
        else "not written by torch.export.save"
    )
    raise UnsafeModel(f"member {relative[:100]!r} is unexpected ({what}; one exported program per archive)")


# --- 2. the graph --------------------------------------------------------------------------------------
def _parse_json(raw: bytes, member: str, max_bytes: int, max_depth: int) -> Any:
    if len(raw) > max_bytes:
        raise UnsafeModel(f"{member} is {len(raw):,} bytes; the limit is {max_bytes:,}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafeModel(f"{member} is not UTF-8") from None
    depth = nesting_depth(text)
    if depth > max_depth:
        raise UnsafeModel(f"{member} nests {depth:,} levels deep; the limit is {max_depth}")
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except (ValueError, RecursionError) as err:
        raise UnsafeModel(f"{member} is not valid JSON ({str(err)[:120]})") from None
    return value


def _check_graph(
    document: dict[str, Any], limits: ArchiveLimits
) -> tuple[frozenset[str], int, tuple[str, ...]]:
    if document.get("range_constraints") or document.get("guards_code"):
        raise UnsafeModel(
            "the model has dynamic shapes (symbolic range constraints or guards); only static shapes are run",
            hint="export without dynamic_shapes, with example inputs of the shapes the job will use",
        )
    verifiers = document.get("verifiers", [])
    if not isinstance(verifiers, list) or not set(verifiers) <= {"TRAINING", "ATEN", ""}:
        raise UnsafeModel(f"the graph's dialect {str(verifiers)[:60]} is not ATen")
    module = _object(document.get("graph_module"), "graph_module")
    graph = _object(module.get("graph"), "graph_module.graph")
    for key in ("sym_int_values", "sym_bool_values", "sym_float_values"):
        if graph.get(key):
            raise UnsafeModel(
                f"the graph has symbolic values ({key}); only static shapes are run",
                hint="export without dynamic_shapes, with example inputs of the shapes the job will use",
            )
    if graph.get("custom_obj_values"):
        raise UnsafeModel("the graph holds script objects (custom_obj_values), whose state is pickled")
    module["metadata"] = {}  # free-form strings: not needed to run, not handed to the loader
    if module.get("treespec_namedtuple_fields"):
        raise UnsafeModel("the model's inputs or outputs are namedtuples; use tuples, lists or dicts")

    nodes = graph.get("nodes")
    if not isinstance(nodes, list):
        raise UnsafeModel("graph.nodes is not a list")
    if len(nodes) > limits.max_nodes:
        raise UnsafeModel(f"the graph has {len(nodes):,} nodes; the limit is {limits.max_nodes:,}")
    operators: set[str] = set()
    for index, node in enumerate(nodes):
        node = _object(node, f"graph node {index}")
        refusal = operator_refusal(node.get("target"))
        if refusal is not None:
            raise UnsafeModel(
                refusal,
                hint="rewrite the model with standard tensor operations (no control-flow operators, custom "
                "ops or Python callbacks), export it again and check it with offchain.compute.export_tool",
            )
        operators.add(node["target"])
        inputs = node.get("inputs")
        if not isinstance(inputs, list):
            raise UnsafeModel(f"graph node {index} has no list of inputs")
        for named in inputs:
            _check_argument(_object(named, f"an input of node {index}").get("arg"), node["target"])
        outputs = node.get("outputs")
        if not isinstance(outputs, list):
            raise UnsafeModel(f"graph node {index} has no list of outputs")
        for argument in outputs:
            _check_argument(argument, node["target"])
        node["metadata"] = {}  # stack traces and module paths: not needed to run, not handed to the loader
    for argument in (
        *_list(graph.get("inputs"), "graph.inputs"),
        *_list(graph.get("outputs"), "graph.outputs"),
    ):
        _check_argument(argument, "the graph's signature")

    signature = _object(module.get("signature"), "graph_module.signature")
    for spec in _list(signature.get("input_specs"), "signature.input_specs"):
        kind = _one_key(spec, "an input spec")
        if kind not in _INPUT_SPECS:
            raise UnsafeModel(
                f"the graph takes an input of kind {kind!r}; only tensors, weights and constants"
            )
        if (
            kind == "user_input"
            and _one_key(_object(spec[kind], "user_input").get("arg"), "user_input") != "as_tensor"
        ):
            raise UnsafeModel("the model takes a non-tensor input; pass every input as a tensor")
    for spec in _list(signature.get("output_specs"), "signature.output_specs"):
        kind = _one_key(spec, "an output spec")
        if kind not in _OUTPUT_SPECS:
            raise UnsafeModel(f"the graph has an output of kind {kind!r} (side effects are not run)")

    input_names: tuple[str, ...] = ()
    for index, entry in enumerate(_list(module.get("module_call_graph"), "module_call_graph")):
        entry = _object(entry, "a module_call_graph entry")
        call = entry.get("signature")
        if call is None:
            continue
        call = _object(call, "a module call signature")
        for key in ("in_spec", "out_spec"):
            _check_treespec(call.get(key), key)
        names = call.get("forward_arg_names", [])
        if index == 0:
            if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
                raise UnsafeModel("module_call_graph[0].forward_arg_names is not a list of names")
            input_names = tuple(names)
    _refuse_tagged_anywhere(document)
    return frozenset(operators), len(nodes), input_names


def _refuse_tagged_anywhere(document: Any) -> None:
    """Refuse a symbolic expression, subgraph, script object or operator wherever it hides in the graph.

    The checks by position above name the usual places; this walk covers the rest (tensor sizes in
    ``tensor_values``, module call signatures...). A symbolic expression matters most: torch parses its
    ``expr_str`` with ``sympy.sympify``, which evaluates Python.
    """
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key in ("as_expr", "expr_str") or key.startswith("as_sym_"):
                    raise UnsafeModel(
                        f"the graph holds a symbolic value ({key}); only static shapes are run",
                        hint="export without dynamic_shapes, with example inputs of the shapes the job uses",
                    )
                if key in _REFUSED_ARGUMENTS:
                    raise UnsafeModel(f"the graph holds {_REFUSED_ARGUMENTS[key]}")
                stack.append(value)


def _check_argument(argument: Any, target: str) -> None:
    kind = _one_key(argument, f"an argument of {target[:80]}")
    if kind in _REFUSED_ARGUMENTS:
        raise UnsafeModel(f"{target[:80]} takes {_REFUSED_ARGUMENTS[kind]}")
    if kind.startswith("as_sym_"):
        raise UnsafeModel(f"{target[:80]} takes a symbolic value ({kind}); only static shapes are run")
    if kind not in _PLAIN_ARGUMENTS:
        raise UnsafeModel(f"{target[:80]} takes an argument of unknown kind {kind[:40]!r}")


def _check_treespec(value: Any, what: str) -> None:
    if not isinstance(value, str):
        raise UnsafeModel(f"the model's {what} is not a serialized pytree spec")
    spec = _parse_json(value.encode(), what, 1 << 20, 32)
    stack: list[Any] = [spec]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if item.get("type") not in _PYTREE_TYPES:
                raise UnsafeModel(
                    f"the model's {what} uses container type {str(item.get('type'))[:80]!r}; "
                    "use tuples, lists and dicts"
                )
            context = item.get("context")
            if isinstance(context, str):  # torch parses it with json.loads: bound it the same way
                _parse_json(context.encode(), f"{what} context", 1 << 20, 32)
            stack.extend(item.get("children_spec") or [])


# --- 3. weights and constants --------------------------------------------------------------------------
def _check_payloads(
    members: dict[str, bytes], limits: ArchiveLimits, *, weights: bool
) -> tuple[int, dict[str, Any]]:
    config_member = WEIGHTS_CONFIG if weights else CONSTANTS_CONFIG
    folder, pattern = ("data/weights/", _WEIGHT_FILE) if weights else ("data/constants/", _CONSTANT_FILE)
    what = "weight" if weights else "constant"
    document = _object(
        _parse_json(members[config_member], config_member, limits.max_config_bytes, 16), config_member
    )
    config = _object(document.get("config"), f"{config_member}: config")
    needed: dict[str, int] = {}
    for fqn, meta in config.items():
        meta = _object(meta, f"{what} {fqn[:80]!r}")
        if meta.get("use_pickle") is not False:
            raise UnsafeModel(
                f"{what} {fqn[:80]!r} is stored as a pickle (use_pickle), which is never loaded"
            )
        path_name = meta.get("path_name")
        file_name = f"{folder}{path_name}" if isinstance(path_name, str) else ""
        if pattern.fullmatch(file_name) is None:
            kind = (
                "a pickled object"
                if isinstance(path_name, str) and "obj_" in path_name
                else "not a raw tensor"
            )
            raise UnsafeModel(f"{what} {fqn[:80]!r} is {kind} ({str(path_name)[:60]!r})")
        if file_name not in members:
            raise UnsafeModel(f"{what} {fqn[:80]!r} names member {file_name!r}, which is missing")
        size = _tensor_bytes(
            _object(meta.get("tensor_meta"), f"{what} {fqn[:80]!r}: tensor_meta"), f"{what} {fqn[:80]!r}"
        )
        needed[file_name] = max(needed.get(file_name, 0), size)
    for name, data in members.items():
        if pattern.fullmatch(name) is None:
            continue
        if name not in needed:
            raise UnsafeModel(f"member {name!r} is not declared in {config_member}")
        if len(data) != needed[name]:
            raise UnsafeModel(
                f"member {name!r} is {len(data):,} bytes but the {what}s declared on it "
                f"take {needed[name]:,}",
                hint="export the model again with torch.export.save; do not edit the archive",
            )
    return sum(needed.values()), document


def _tensor_bytes(meta: dict[str, Any], what: str) -> int:
    dtype = meta.get("dtype")
    if not isinstance(dtype, int) or isinstance(dtype, bool) or dtype not in ITEM_SIZES:
        raise UnsafeModel(f"{what} has unknown dtype code {str(dtype)[:20]}")
    if meta.get("layout") != STRIDED_LAYOUT:
        raise UnsafeModel(f"{what} is not a strided (dense) tensor")
    sizes = _ints(meta.get("sizes"), f"{what}: sizes")
    strides = _ints(meta.get("strides"), f"{what}: strides")
    offset = _ints([meta.get("storage_offset")], f"{what}: storage_offset")[0]
    if len(sizes) != len(strides) or len(sizes) > MAX_RANK:
        raise UnsafeModel(f"{what} declares {len(sizes)} sizes and {len(strides)} strides")
    if 0 in sizes:
        return 0
    extent = offset + sum((size - 1) * stride for size, stride in zip(sizes, strides, strict=True)) + 1
    return extent * ITEM_SIZES[dtype]


def _ints(values: Any, what: str) -> list[int]:
    if not isinstance(values, list):
        raise UnsafeModel(f"{what} is not a list")
    result = []
    for value in values:
        number = value.get("as_int") if isinstance(value, dict) and len(value) == 1 else None
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number < 1 << 40:
            raise UnsafeModel(
                f"{what} holds {str(value)[:40]}, not a static size (symbolic shapes are not run)"
            )
        result.append(number)
    return result


# --- helpers -------------------------------------------------------------------------------------------
def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UnsafeModel(f"{what} is not a JSON object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise UnsafeModel(f"{what} is not a JSON list")
    return value


def _one_key(value: Any, what: str) -> str:
    if not isinstance(value, dict) or len(value) != 1:
        raise UnsafeModel(f"{what} is not a tagged value")
    return str(next(iter(value)))


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key[:40]!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _devices_to_cpu(document: Any) -> None:
    """Point every device of a parsed graph or config at the CPU (an archive exported on a GPU still loads
    on a CPU-only worker; the workload then moves the program to the job's device)."""
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key in ("device", "as_device") and isinstance(value, dict) and "type" in value:
                    item[key] = {"type": "cpu", "index": None}
                else:
                    stack.append(value)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()
