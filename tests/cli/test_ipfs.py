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


def test_car_export_then_import_into_another_store_reads_back(tessera, tmp_path):
    data = os.urandom(CHUNK_SIZE * 2 + 3)
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    cid = tessera("ipfs", "add", str(path)).stdout.strip()

    exported = tessera("ipfs", "car", "export", cid, "-o", str(tmp_path / "blob.car"))
    other = {"TESSERA_IPFS_DIR": str(tmp_path / "other-store")}
    imported = tessera("ipfs", "car", "import", str(tmp_path / "blob.car"), env=other)
    copy = tessera("ipfs", "cat", cid, "--out", str(tmp_path / "copy.bin"), env=other)

    assert exported.returncode == 0, exported.stderr
    assert "wrote 4 blocks" in exported.stderr
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout == cid + "\n"
    assert copy.returncode == 0 and (tmp_path / "copy.bin").read_bytes() == data


def test_car_import_of_a_forged_block_is_a_one_line_error(tessera, tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(os.urandom(CHUNK_SIZE + 3))
    cid = tessera("ipfs", "add", str(path)).stdout.strip()
    tessera("ipfs", "car", "export", cid, "-o", str(tmp_path / "blob.car"))
    forged = bytearray((tmp_path / "blob.car").read_bytes())
    forged[-1] ^= 1
    (tmp_path / "forged.car").write_bytes(forged)

    result = tessera("ipfs", "car", "import", str(tmp_path / "forged.car"),
                     env={"TESSERA_IPFS_DIR": str(tmp_path / "other-store")})  # fmt: skip

    assert result.returncode == 2
    assert result.stderr.startswith("E_CAR_BLOCK_MISMATCH: block 2 of ")
    assert len(result.stderr.strip().splitlines()) == 1
