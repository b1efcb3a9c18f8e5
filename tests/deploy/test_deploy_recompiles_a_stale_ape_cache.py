"""The deploy never ships a contract type older than its source, whatever ape's compile cache holds.

Seen in a reused checkout: after a pull that changed JobRegistry.vy (and the module it imports), ape's
``.build/__local__.json`` held the new source text but the old contract type, so `ape compile` said
"compiled", the deploy shipped the old bytecode and ABI, and every worker failed on the changed
``commitment_for``. The test builds that state in a copy of the project: the sources change, the cache's
sources follow them, its contract type does not.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
from ape import Project
sys.path.insert(0, {repo!r})
from scripts.deploy import fresh_containers
project = Project({path!r})
if sys.argv[1] == "cached":
    container = project.load_contracts()["JobRegistry"]
else:
    container = fresh_containers(project)["JobRegistry"]
abi = [item.model_dump(mode="json") for item in container.contract_type.abi]
print(json.dumps([len(i["inputs"]) for i in abi if i.get("name") == "commitment_for"]))
"""


def _commitment_for_arity(project: Path, mode: str) -> list[int]:
    script = _PROBE.format(repo=str(REPO), path=str(project))
    result = subprocess.run(
        [sys.executable, "-c", script, mode], cwd=project, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_cache_whose_contract_type_lags_its_source_is_recompiled_before_deploying(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / "ape-config.yaml", project / "ape-config.yaml")
    shutil.copytree(REPO / "contracts", project / "contracts")
    (arity,) = _commitment_for_arity(project, "fresh")  # first compile; the stamp is written

    # What the pull left: a changed source, the cache's source text up to date, its contract type stale.
    registry = project / "contracts" / "JobRegistry.vy"
    registry.write_text(registry.read_text() + "\n# changed by a pull\n")
    cache_file = project / ".build" / "__local__.json"
    cache = json.loads(cache_file.read_text())
    (source_id,) = [s for s in cache["sources"] if s.endswith("JobRegistry.vy")]
    cache["sources"][source_id]["content"] = registry.read_text()
    for item in cache["contractTypes"]["JobRegistry"]["abi"]:
        if item.get("name") == "commitment_for":
            item["inputs"] = item["inputs"][:-1]  # the older signature, one argument short
    cache_file.write_text(json.dumps(cache))

    assert _commitment_for_arity(project, "cached") == [arity - 1], "ape's own cache serves the stale type"
    assert _commitment_for_arity(project, "fresh") == [arity]
