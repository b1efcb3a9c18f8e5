"""Nesting depth of JSON text by a linear, non-recursive scan, run before ``json.loads`` sees the text.

``json.loads`` recurses once per nesting level in C, bounded only by the recursion limit, which libraries
raise on import: a document nested 100,000 deep can overflow the thread's stack and kill the process. Job
specs, safetensors headers and ``.pt2`` graphs are measured here first and refused when too deep.
"""

from __future__ import annotations

import re
from itertools import accumulate

# A JSON string (closing quote optional so an unterminated one is consumed once, not rescanned: linear).
_JSON_STRING = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def nesting_depth(text: str) -> int:
    """Deepest bracket nesting of JSON text, ignoring brackets inside strings; linear and non-recursive."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    steps = (1 if char in "[{" else -1 for char in brackets)
    return max(accumulate(steps, initial=0))
