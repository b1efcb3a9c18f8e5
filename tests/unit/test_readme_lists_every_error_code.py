"""Every error code a user can meet is explained in the README's error table."""

import importlib
import pkgutil
from pathlib import Path

import offchain
from offchain.errors import TesseraError

ROOT = Path(__file__).resolve().parents[2]
# modules that start work or need a subprocess context when imported as a whole
SKIP = ("__main__",)


def _all_error_classes() -> set[type[TesseraError]]:
    for mod in pkgutil.walk_packages(offchain.__path__, "offchain."):
        if not mod.name.endswith(SKIP):
            importlib.import_module(mod.name)
    found: set[type[TesseraError]] = set()
    todo = [TesseraError]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


def test_every_error_code_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    internal = {"E_TESSERA"}  # re-raised text of another program's error; the code inside is documented
    missing = sorted(
        cls.code for cls in _all_error_classes() if cls.code not in internal and f"`{cls.code}`" not in readme
    )
    assert not missing, f"add these codes to the README's error table: {missing}"
