"""A safetensors header nested deep is refused by a linear scan before any JSON parser sees it (T24).

The parent checks every input's header with ``json.loads``, whose C parser recurses once per nesting level.
That is bounded only by the process's recursion limit, and libraries raise it on import (py_ecc, which
titanoboa and py-evm pull in, sets 100,000): then a header a few hundred thousand levels deep, well within
the 16 MiB header limit, overflows the C stack and the worker process dies of SIGSEGV instead of failing
one job. The scan refuses it whatever the recursion limit is.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from offchain.compute.errors import UnsafeWeights
from offchain.compute.tensorio import MAX_HEADER_DEPTH, check_safetensors


def _safetensors(header: bytes, data: bytes = b"") -> bytes:
    return len(header).to_bytes(8, "little") + header + data


def nested(depth: int) -> bytes:
    return _safetensors(b'{"w":' + b"[" * depth + b"]" * depth + b"}")


def test_a_real_header_passes() -> None:
    header = {
        "__metadata__": {"format": "pt"},
        "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    }
    payload = _safetensors(json.dumps(header).encode(), bytes(16))
    assert check_safetensors(payload, source="weights") == header


@pytest.mark.parametrize("depth", [MAX_HEADER_DEPTH, 10_000])  # deeper: in a subprocess, below
def test_a_deep_header_is_refused_before_parsing(depth: int) -> None:
    with pytest.raises(UnsafeWeights, match=f"nests {depth + 1:,} levels deep .*not loaded"):
        check_safetensors(nested(depth), source="weights")


def test_brackets_inside_strings_do_not_count() -> None:
    header = {"__metadata__": {"note": "[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{"}}
    assert check_safetensors(_safetensors(json.dumps(header).encode()), source="weights") == header


def test_the_worker_survives_a_deep_header_with_a_raised_recursion_limit() -> None:
    """In a fresh interpreter with the recursion limit raised (as py_ecc does on import), a header two
    million levels deep is refused; without the scan this process dies of SIGSEGV (exit -11)."""
    program = textwrap.dedent(
        """
        import sys, threading
        from offchain.compute.errors import UnsafeWeights
        from offchain.compute.tensorio import check_safetensors
        from tests.compute.test_deep_safetensors_header_is_refused import nested

        sys.setrecursionlimit(1_000_000)
        payload = nested(2_000_000)

        def check():  # on a worker thread, as in the worker's job pool (a smaller stack than main)
            try:
                check_safetensors(payload, source="weights")
            except UnsafeWeights as err:
                print("refused:", err.message)

        thread = threading.Thread(target=check)
        thread.start()
        thread.join()
        """
    )
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=repo, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "refused: weights: the safetensors header nests 2,000,001 levels deep" in done.stdout
