"""Archives for the ``export`` tests: the reference models, hostile rewrites of one, real refused exports."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from functools import cache

from offchain.compute.models.reference import ReferenceJob, reference_job

# Syntactically valid CIDs (the runner is handed bytes; nothing is fetched in these tests).
MODEL_CID = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"
INPUT_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


@cache
def reference(name: str) -> ReferenceJob:
    """Reference model ``name``, exported once per test process."""
    return reference_job(name)


def members_of(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        return {info.filename: zipped.read(info) for info in zipped.infolist()}


def rewrite(
    archive: bytes,
    edit: Callable[[dict[str, bytes]], None],
    *,
    deflate: frozenset[str] = frozenset(),
) -> bytes:
    """``archive`` with its members (full names) changed by ``edit``; names in ``deflate`` compressed."""
    members = members_of(archive)
    edit(members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zipped:
        for name, data in members.items():
            method = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
            zipped.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return out.getvalue()


def edit_json(members: dict[str, bytes], suffix: str, change: Callable[[dict], None]) -> None:
    """Apply ``change`` to the parsed JSON member whose name ends with ``suffix``."""
    (name,) = [name for name in members if name.endswith(suffix)]
    document = json.loads(members[name])
    change(document)
    members[name] = json.dumps(document).encode()


def higher_order_archive() -> bytes:
    """A real export of a model with ``torch.cond`` (a higher-order operator that runs Python branches)."""
    import torch

    class Branching(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cond(x.sum() > 0, lambda x: x + 1, lambda x: x - 1, (x,))

    return _saved(torch.export.export(Branching(), (torch.ones(3),)))


def custom_op_archive() -> bytes:
    """A real export of a model calling a custom operator (``tessera_test::double``)."""
    import torch

    if not hasattr(torch.ops.tessera_test, "double"):

        @torch.library.custom_op("tessera_test::double", mutates_args=(), schema="(Tensor x) -> Tensor")
        def double(x: torch.Tensor) -> torch.Tensor:
            return x * 2

        @double.register_fake
        def _(x: torch.Tensor) -> torch.Tensor:
            return torch.empty_like(x)

    class Custom(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.ops.tessera_test.double(x)

    return _saved(torch.export.export(Custom(), (torch.ones(3),)))


def _saved(program: object) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    return buffer.getvalue()
