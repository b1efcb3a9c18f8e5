"""Every threat id the code, tests and docs cite (``T5``, ``T17-T28``) is defined in docs/THREATS.md, and
every row there names a test file that exists: the threat table cannot drift from what cites it."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
THREATS = REPO / "docs" / "THREATS.md"
CITED_IN = ("tests", "offchain", "scripts", "benchmarks", "docs", "contracts")
THREAT_ID = re.compile(r"\bT(\d{1,2})\b")
ROW_ID = re.compile(r"^\| (T\d{1,2}) \|", re.MULTILINE)
TEST_PATH = re.compile(r"`(tests/[\w/]+\.py)")


def cited_ids() -> dict[str, str]:
    """Threat id -> one file that cites it."""
    found: dict[str, str] = {}
    for folder in CITED_IN:
        for path in sorted((REPO / folder).rglob("*")):
            if path.suffix not in (".py", ".md", ".vy", ".vyi") or path == THREATS:
                continue
            for number in THREAT_ID.findall(path.read_text(encoding="utf-8", errors="replace")):
                found.setdefault(f"T{number}", str(path.relative_to(REPO)))
    for number in THREAT_ID.findall((REPO / "Makefile").read_text(encoding="utf-8")):
        found.setdefault(f"T{number}", "Makefile")
    return found


def test_every_cited_threat_id_is_defined_in_the_threat_table():
    defined = set(ROW_ID.findall(THREATS.read_text(encoding="utf-8")))
    missing = {tid: where for tid, where in cited_ids().items() if tid not in defined}
    assert missing == {}, "cited but not defined in docs/THREATS.md (id: a file citing it)"


def test_every_test_the_threat_table_names_exists():
    named = set(TEST_PATH.findall(THREATS.read_text(encoding="utf-8")))
    assert named, "the table names no tests"
    assert sorted(p for p in named if not (REPO / p).is_file()) == []
