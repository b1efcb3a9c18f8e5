"""`tessera ipfs add` prints the importer's CID (like `ipfs add -Q`) and stores it; `cat` reads it back."""

from __future__ import annotations

import os

import pytest

from offchain.ipfs import CHUNK_SIZE, compute_cid


@pytest.mark.parametrize(
    "flags,cid_version,raw_leaves",
    [([], 0, None), (["--cid-version", "1"], 1, None), (["--raw-leaves"], 0, True)],
    ids=["v0", "v1", "v0-raw-leaves"],
)
def test_add_prints_the_importer_cid(tessera, tmp_path, flags, cid_version, raw_leaves):
    data = os.urandom(CHUNK_SIZE * 2 + 17)  # three chunks: a root node with links
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    expected = str(compute_cid(data, cid_version=cid_version, raw_leaves=raw_leaves))

    added = tessera("ipfs", "add", *flags, str(path))
    only_hash = tessera("ipfs", "add", "--only-hash", *flags, str(path))

    assert added.returncode == 0, added.stderr
    assert added.stdout == expected + "\n"
    assert only_hash.stdout == expected + "\n"


def test_known_vector(tessera, tmp_path):
    path = tmp_path / "hello.txt"
    path.write_bytes(b"hello world\n")
    assert (
        tessera("ipfs", "add", "-n", str(path)).stdout.strip()
        == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
    )


def test_cat_returns_what_add_stored(tessera, tmp_path):
    data = os.urandom(CHUNK_SIZE + 5)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    cid = tessera("ipfs", "add", str(path)).stdout.strip()

    out = tmp_path / "copy.bin"
    result = tessera("ipfs", "cat", cid, "--out", str(out))

    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == data


def test_cat_of_missing_content_is_a_one_line_error(tessera):
    result = tessera("ipfs", "cat", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")

    assert result.returncode == 2
    assert result.stderr.startswith("E_IPFS_UNAVAILABLE: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_cat_of_a_malformed_cid_is_a_one_line_error(tessera):
    result = tessera("ipfs", "cat", "not-a-cid")

    assert result.returncode == 2
    assert result.stderr.startswith("E_INVALID_CID: ")


def test_invalid_setting_is_a_one_line_error(tessera, tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"x")
    result = tessera("ipfs", "add", str(path), env={"TESSERA_IPFS_TIMEOUT_S": "-1"})

    assert result.returncode == 2
    assert result.stderr.startswith("E_CONFIG: invalid setting TESSERA_IPFS_TIMEOUT_S")
