"""Benchmark: CID computation and local-store round trips, each against a plain baseline in the same run.

* CID throughput over 64 MiB of random bytes vs ``hashlib.sha256`` over the same bytes (target: ours /
  sha256 >= 0.7; a CID hashes every byte once more than nothing, plus the small dag-pb framing).
* The embedded store's ``add_bytes`` + ``cat`` (chunking, hashing, one file per block, verified read) vs
  writing the bytes to one file and reading them back.

Run as a script: ``.venv/bin/python benchmarks/cid.py [--mib 64] [--repeat 5]``. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import tempfile
from pathlib import Path

from common import best_of, print_table  # benchmarks/ is on sys.path when this runs as a script

from offchain.ipfs import LocalBlockStore, compute_cid

MiB = 1024 * 1024


def cid_table(data: bytes, repeat: int) -> None:
    size_mb = len(data) / 1e6
    baseline = best_of(lambda: hashlib.sha256(data).digest(), repeat)
    rows: list[list[object]] = [["hashlib.sha256 (baseline)", size_mb / baseline, 1.0]]
    for label, version in (("compute_cid, CIDv0 (Kubo default)", 0), ("compute_cid, CIDv1 raw leaves", 1)):
        seconds = best_of(lambda v=version: compute_cid(data, v), repeat)
        rows.append([label, size_mb / seconds, baseline / seconds])
    try:
        import aleph_cid
    except ImportError:
        pass
    else:
        seconds = best_of(lambda: aleph_cid.compute_cid(data), repeat)
        rows.append(["aleph_cid (Rust, for reference), CIDv0", size_mb / seconds, baseline / seconds])
    print_table(
        f"CID throughput, {len(data) // MiB} MiB of random bytes (ratio = ours / sha256, target >= 0.7)",
        ["what", "MB/s", "ratio"],
        rows,
    )


def store_table(data: bytes, repeat: int, workdir: Path) -> None:
    size_mb = len(data) / 1e6
    runs = iter(range(10_000))

    def plain_file() -> None:
        path = workdir / f"plain-{next(runs)}.bin"
        path.write_bytes(data)
        assert len(path.read_bytes()) == len(data)

    def local_store(cid_version: int) -> None:
        store = LocalBlockStore(workdir / f"store-{next(runs)}")  # fresh: no block is already there
        cid = store.add_bytes(data, cid_version=cid_version)
        assert len(store.cat(cid, max_bytes=len(data), timeout_s=600)) == len(data)

    baseline = best_of(plain_file, repeat)
    rows: list[list[object]] = [["write + read one file (baseline)", size_mb / baseline, 1.0]]
    for label, version in (("LocalBlockStore add + cat, CIDv0", 0), ("LocalBlockStore add + cat, CIDv1", 1)):
        seconds = best_of(lambda v=version: local_store(v), repeat)
        rows.append([label, size_mb / seconds, baseline / seconds])
    print_table(
        f"Local store round trip, {len(data) // MiB} MiB (ratio = file baseline time / store time)",
        ["what", "MB/s", "ratio"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=64, help="size of the random input, MiB")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (the best is kept)")
    args = parser.parse_args()
    data = random.Random(0).randbytes(args.mib * MiB)
    cid_table(data, args.repeat)
    workdir = Path(tempfile.mkdtemp(prefix="tessera-bench-cid-"))
    try:
        store_table(data, args.repeat, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
