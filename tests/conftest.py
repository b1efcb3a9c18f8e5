"""Suite-wide collection order: the `slow` tests (the demos, the escalation end to end, the stateful model)
run first. `make test` splits the suite over two pytest-xdist workers (`--dist worksteal`: each takes
half, an idle one takes from the other's queue), so a five-minute test that started last would leave one
core idle while it finishes; started first, the short tests fill both workers around it."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: order kept otherwise
