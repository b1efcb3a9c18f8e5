"""`make abi`: the frontend kit, generated from the compiled contracts into `abi/`.

    python scripts/gen_abi.py [--out DIR] [--check]

Writes:

* ``<Contract>.json`` for the four deployables: the ABI as vyper 0.4.3 emits it (the same compiler and
  settings as `ape compile` and ``scripts/deploy.py``, so the same bytecode and the same ABI that
  ``deployments/<chain-id>.json`` records);
* ``index.ts``: the same ABIs as ``as const`` TypeScript constants (viem infers every function's arguments
  and results and every event's fields from them), plus each contract's public constants (job phases,
  parameter bounds) with their values;
* ``job-spec.schema.json``: the JSON Schema (draft 2020-12) of the job spec
  (`offchain.compute.spec.json_schema`);
* ``offchain/chain/protocol.py`` (only when writing to the default ``abi/``, or with ``--python-out``): the
  protocol constants of ``contracts/modules/constants.vy`` for Python (``BPS``, ``MAX_REPLICAS``, the
  ``Phase`` and ``SlashReason`` enums), which the bindings, the worker and the tests import instead of
  typing the numbers again.

Output is deterministic: regenerating from unchanged sources gives identical bytes (``--check`` compares
instead of writing and exits 1 naming the stale files; ``tests/frontend_kit`` runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = REPO / "contracts"
ABI_DIR = REPO / "abi"
CONTRACT_NAMES = ("TesseraToken", "Staking", "JobRegistry", "RewardEmitter")
SCHEMA_FILE = "job-spec.schema.json"
CONSTANTS_MODULE = Path("modules") / "constants.vy"
PYTHON_OUT = REPO / "offchain" / "chain" / "protocol.py"
INDEX_FILE = "index.ts"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Integers up to 48 bits are plain numbers in viem (uint8 phases, ...); wider ones are bigint.
NUMBER_BITS = 48


@dataclass(frozen=True)
class Compiled:
    """One deployable as the compiler sees it: its ABI, public constants and (optionally) bytecode."""

    name: str
    abi: list[dict[str, Any]]
    constants: dict[str, int | str | bool]
    bytecode: str | None


def compile_contracts(
    names: tuple[str, ...] = CONTRACT_NAMES, *, bytecode: bool = False, contracts_dir: Path = CONTRACTS_DIR
) -> dict[str, Compiled]:
    """Compile `names` with vyper's Python API, resolving imports like `ape compile` (the contracts
    folder, then installed packages such as snekmate). ``bytecode`` also generates the deploy bytecode
    (slower: the ABI needs only the front end)."""
    from vyper.compiler.output import build_abi_output

    shared = protocol_constants(contracts_dir)
    out = {}
    for name in names:
        data = _compiler_data(contracts_dir / f"{name}.vy", contracts_dir)
        abi = build_abi_output(data)
        out[name] = Compiled(
            name=name,
            abi=abi,
            constants=_public_constants(data, abi, shared),
            bytecode="0x" + data.bytecode.hex() if bytecode else None,
        )
    return out


def _compiler_data(path: Path, contracts_dir: Path) -> Any:
    from vyper.cli.vyper_compile import get_search_paths
    from vyper.compiler.input_bundle import FileInput, FilesystemInputBundle
    from vyper.compiler.phases import CompilerData
    from vyper.compiler.settings import Settings

    source = FileInput(
        contents=path.read_text(encoding="utf-8"),
        source_id=-1,
        path=path.relative_to(contracts_dir),
        resolved_path=path,
    )
    search_paths = [contracts_dir, *get_search_paths(None)]
    return CompilerData(source, FilesystemInputBundle(search_paths), Settings())


@dataclass(frozen=True)
class Constant:
    """One constant of the shared constants module: its folded value, Vyper type and trailing comment."""

    name: str
    value: int
    vyper_type: str
    comment: str


def protocol_constants(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, Constant]:
    """The constants of ``contracts/modules/constants.vy``, folded by the compiler, in source order."""
    from vyper import ast as vy_ast

    path = contracts_dir / CONSTANTS_MODULE
    lines = path.read_text(encoding="utf-8").splitlines()
    module = _compiler_data(path, contracts_dir).annotated_vyper_module
    out: dict[str, Constant] = {}
    for node in module.get_children(vy_ast.VariableDecl):
        if not node.is_constant:
            continue
        line = lines[node.lineno - 1]
        comment = line.split("#", 1)[1].strip() if "#" in line else ""
        annotation = node.annotation
        while isinstance(annotation, vy_ast.Call):  # public(constant(T)) -> T
            annotation = annotation.args[0]
        out[node.target.id] = Constant(
            name=node.target.id,
            value=node.value.get_folded_value().value,
            vyper_type=annotation.id,
            comment=comment,
        )
    return out


def _public_constants(
    data: Any, abi: list[dict[str, Any]], shared: dict[str, Constant]
) -> dict[str, int | str | bool]:
    """``NAME: public(constant(T)) = value`` declarations, with their folded values, in source order; then
    the shared constants the contract exports, in ABI order."""
    from vyper import ast as vy_ast

    getters = [item["name"] for item in abi if item.get("type") == "function" and not item["inputs"]]
    constants: dict[str, int | str | bool] = {}
    for node in data.annotated_vyper_module.get_children(vy_ast.VariableDecl):
        if node.is_constant and node.is_public and node.target.id in getters:
            constants[node.target.id] = node.value.get_folded_value().value
    for name in getters:
        if name in shared and name not in constants:
            constants[name] = shared[name].value
    return constants


def render_python(constants: dict[str, Constant]) -> str:
    """``offchain/chain/protocol.py``: the shared constants as Python (uint8 ones as the two enums)."""
    plain = [c for c in constants.values() if c.vyper_type != "uint8"]
    reasons = [c for c in constants.values() if c.vyper_type == "uint8" and c.name.startswith("REASON_")]
    phases = [c for c in constants.values() if c.vyper_type == "uint8" and not c.name.startswith("REASON_")]

    def line(name: str, value: int, comment: str, indent: str = "", final: bool = False) -> str:
        text = f"{indent}{name}{': Final' if final else ''} = {value:_}"
        return f"{text}  # {comment}" if comment else text

    out = [
        '"""Tessera\'s protocol constants for Python: generated by `make abi` (scripts/gen_abi.py) from',
        "contracts/modules/constants.vy. Do not edit: change the Vyper module and run `make abi`",
        '(tests/frontend_kit/test_protocol_constants_are_current.py fails while this file is stale)."""',
        "",
        "from __future__ import annotations",
        "",
        "from enum import IntEnum",
        "from typing import Final",
        "",
        *(line(c.name, c.value, c.comment, final=True) for c in plain),
        "",
        "",
        "class Phase(IntEnum):",
        '    """`JobRegistry.get_job().phase`: stored states plus COMMITTING/REVEALING derived from time and',
        '    counts."""',
        "",
        *(line(c.name, c.value, c.comment, "    ") for c in phases),
        "",
        "    @property",
        "    def terminal(self) -> bool:",
        '        """Completed, Failed, Cancelled or Expired: no function accepts the job any more."""',
        "        return self >= Phase.COMPLETED",
        "",
        "",
        "class SlashReason(IntEnum):",
        '    """`Staking.slash` reasons, as `OperatorSlashed.reason` carries them."""',
        "",
        *(line(c.name.removeprefix("REASON_"), c.value, c.comment, "    ") for c in reasons),
        "",
    ]
    return "\n".join(out)


def render(compiled: dict[str, Compiled], schema: dict[str, Any]) -> dict[str, str]:
    """The files of the kit, by name, as text."""
    files = {f"{name}.json": _json(c.abi) for name, c in compiled.items()}
    files[SCHEMA_FILE] = _json({"$schema": JSON_SCHEMA_DIALECT, **schema})
    files[INDEX_FILE] = _typescript(compiled)
    return files


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def _camel(name: str) -> str:
    return name[0].lower() + name[1:]


def _ts_value(value: int | str | bool, abi_type: str) -> str:
    if isinstance(value, (bool, str)):
        return json.dumps(value)
    bits = int(abi_type.removeprefix("uint").removeprefix("int") or 256)
    return str(value) if bits <= NUMBER_BITS else f"{value}n"


def _typescript(compiled: dict[str, Compiled]) -> str:
    lines = [
        "// Generated by `make abi` (scripts/gen_abi.py) from contracts/*.vy with vyper 0.4.3. Do not edit.",
        "// ABIs are `as const`: viem infers function arguments, results and event fields from them.",
        "// Constants are the contracts' public constants; integers wider than 48 bits are bigint.",
        "",
    ]
    for name, c in compiled.items():
        body = json.dumps(c.abi, indent=2, ensure_ascii=False)
        lines += [f"export const {_camel(name)}Abi = {body} as const;", ""]
    for name, c in compiled.items():
        types = {
            item["name"]: item["outputs"][0]["type"]
            for item in c.abi
            if item.get("type") == "function" and not item["inputs"] and len(item["outputs"]) == 1
        }
        lines.append(f"export const {_camel(name)}Constants = {{")
        lines += [f"  {key}: {_ts_value(value, types[key])}," for key, value in c.constants.items()]
        lines += ["} as const;", ""]
    lines += [
        "export const abis = {",
        *(f"  {name}: {_camel(name)}Abi," for name in compiled),
        "} as const;",
        "",
        "export type ContractName = keyof typeof abis;",
        "",
    ]
    return "\n".join(lines)


def generate(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, str]:
    """Compile the contracts and render the kit (what `make abi` writes)."""
    from offchain.compute.spec import json_schema

    return render(compile_contracts(contracts_dir=contracts_dir), json_schema())


def write(files: dict[str, str], out: Path) -> list[Path]:
    """Write `files` under `out`, removing stale generated files (any other `*.json` / `*.ts` there)."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in sorted(set(_generated(out)) - set(files)):
        (out / stale).unlink()
    written = []
    for name, text in files.items():
        path = out / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale_files(files: dict[str, str], out: Path) -> list[str]:
    """Names under `out` that differ from `files`, are missing, or should not be there."""
    existing = set(_generated(out))
    problems = [f"{name} (extra)" for name in sorted(existing - set(files))]
    for name, text in files.items():
        path = out / name
        if not path.exists():
            problems.append(f"{name} (missing)")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{name} (differs)")
    return problems


def _generated(out: Path) -> list[str]:
    if not out.is_dir():
        return []
    return [p.name for p in out.iterdir() if p.is_file() and p.suffix in (".json", ".ts")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/gen_abi.py", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ABI_DIR, help="output folder (default: abi/)")
    parser.add_argument("--check", action="store_true", help="compare with the folder instead of writing")
    parser.add_argument(
        "--contracts", type=Path, default=CONTRACTS_DIR, help="contracts folder (default: contracts/)"
    )
    parser.add_argument(
        "--python-out",
        type=Path,
        default=None,
        help="the Python constants module (default: offchain/chain/protocol.py when --out is abi/)",
    )
    args = parser.parse_args(argv)
    files = generate(args.contracts.resolve())
    python_out = args.python_out or (PYTHON_OUT if args.out.resolve() == ABI_DIR else None)
    python_text = render_python(protocol_constants(args.contracts.resolve())) if python_out else None
    if args.check:
        problems = stale_files(files, args.out)
        if (
            python_out
            and python_text is not None
            and (not python_out.exists() or python_out.read_text(encoding="utf-8") != python_text)
        ):
            problems.append(f"{python_out} (differs)")
        if problems:
            print(f"{args.out} is stale: {', '.join(problems)}; run `make abi`", file=sys.stderr)
            return 1
        print(f"{args.out} is current ({len(files)} files)")
        return 0
    written = write(files, args.out)
    if python_out and python_text is not None:
        if not python_out.exists() or python_out.read_text(encoding="utf-8") != python_text:
            python_out.write_text(python_text, encoding="utf-8")
        written.append(python_out)
    print(f"wrote {len(written)} files to {args.out}: {', '.join(p.name for p in written)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
