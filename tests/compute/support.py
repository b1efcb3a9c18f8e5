"""Constants and helpers shared by the compute tests (fixtures live in conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from offchain.compute.spec import JobSpec, parse_spec

HOSTILE_CHILD = Path(__file__).with_name("hostile_child.py")
HOSTILE_ZYGOTE = Path(__file__).with_name("hostile_zygote.py")
# Syntactically valid CIDs (the runner is handed bytes; nothing is fetched in these tests).
WEIGHTS_CID = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"
INPUT_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
DATA_CID = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"


def spec_of(document: dict[str, Any]) -> JobSpec:
    """Parse a spec given as a Python dict, through the same path as uploaded bytes."""
    return parse_spec(json.dumps(document).encode())


def matmul_document(**workload: Any) -> dict[str, Any]:
    return {"version": 1, "workload": {"name": "matmul", "n": 8, "seed": 1, **workload}}


def running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (an orphaned zombie waits on init, not on us)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
