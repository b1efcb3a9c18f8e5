"""Test doubles for the worker: an in-process compute port (same spec parser, same canonical result bytes),
and a stub node for the log poller (blocks, logs, refused ranges)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from types import SimpleNamespace

from web3.exceptions import Web3RPCError

from offchain.compute.spec import parse_spec
from offchain.compute.tensorio import canonical_bytes, check_safetensors_file, load_tensors
from offchain.worker.compute_port import ComputeOutput, SpecSummary


class InProcessCompute:
    """Runs a workload in this process (no child): for tests that exercise the pipeline, not the runner.

    ``gate``: when given, `run` blocks until it is set (to stop a worker mid-job)."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.runs = 0
        self.parses = 0  # how often a spec was parsed, and inputs checked: work the pipeline must not redo
        self.checks = 0

    def parse(self, raw: bytes) -> SpecSummary:
        self.parses += 1
        spec = parse_spec(raw)
        return SpecSummary(
            spec=spec,
            workload=spec.workload.name,
            input_cids=dict(spec.inputs),
            max_runtime_s=float(spec.resources.max_runtime_s),
        )

    def check_inputs(self, summary: SpecSummary, inputs: dict[str, Path]) -> None:
        self.checks += 1
        for name, path in inputs.items():
            check_safetensors_file(path, source=name)

    def run(
        self, summary: SpecSummary, inputs: dict[str, Path], job_dir: Path, *, timeout_s: float
    ) -> ComputeOutput:
        import torch

        if self.gate is not None:
            self.gate.wait()
        self.runs += 1
        loaded = {name: load_tensors(path.read_bytes(), source=name) for name, path in inputs.items()}
        tensors = summary.spec.workload.run(loaded, torch.device("cpu"))
        data = canonical_bytes(tensors, {"workload": summary.workload})
        job_dir.mkdir(parents=True, exist_ok=True)
        path = job_dir / "result.safetensors"
        path.write_bytes(data)
        return ComputeOutput(digest=hashlib.sha256(data).digest(), path=path)


# ---------------------------------------------------------------- a stub node that refuses big ranges
class RangeLimitedNode:
    """`w3.eth` look-alike: ``head`` blocks, one log every ``every`` blocks, ranges over ``limit`` refused."""

    ADDRESS = "0x" + "ab" * 20

    def __init__(self, head: int, *, limit: int, every: int = 10) -> None:
        self.block_number = head
        self.limit = limit
        self.every = every
        self.queries: list[tuple[int, int]] = []
        self.by_hash = 0

    def _hash(self, n: int) -> bytes:
        return n.to_bytes(32, "big")

    def get_logs(self, params: dict) -> list[dict]:
        if "blockHash" in params:  # EIP-234: one block by its hash
            start = end = int.from_bytes(bytes(params["blockHash"]), "big")
            self.by_hash += 1
        else:
            start, end = params["fromBlock"], params["toBlock"]
        self.queries.append((start, end))
        if end - start + 1 > self.limit:
            raise Web3RPCError(
                "{'code': -32005, 'message': 'query exceeds max block range'}",
                rpc_response={"error": {"code": -32005, "message": "query exceeds max block range 64"}},
            )
        return [
            {
                "address": self.ADDRESS,
                "blockNumber": n,
                "blockHash": self._hash(n),
                "logIndex": 0,
                "topics": [],
                "data": b"",
                "removed": False,
            }
            for n in range(start, end + 1)
            if n % self.every == 0
        ]


class StubProvider:
    """The raw requests the poller makes past web3 (the head, block hashes), answered by the stub node."""

    def __init__(self, node: RangeLimitedNode) -> None:
        self.node = node

    def make_request(self, method: str, params: list) -> dict:
        assert method == "eth_getBlockByNumber", method
        n = self.node.block_number if params[0] == "latest" else int(params[0], 16)
        block = {"number": hex(n), "timestamp": hex(n), "hash": "0x" + self.node._hash(n).hex()}
        return {"jsonrpc": "2.0", "id": 1, "result": block}


def stub_w3(node: RangeLimitedNode) -> SimpleNamespace:
    return SimpleNamespace(eth=node, provider=StubProvider(node))
