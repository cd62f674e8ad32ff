"""The small workspace the interop tests push and pull (CSV parts, a binary blob in a subdirectory, a
model file), and the snapshot of a workspace's files they compare byte for byte."""

from __future__ import annotations

import os


def populate(repo, parts: int = 5, model_bytes: int = 1_200_000) -> None:
    (repo / "data" / "sub").mkdir(parents=True)
    for i in range(parts):
        (repo / "data" / f"part{i}.csv").write_text(f"id,value\n{i},{i * i}\n")
    (repo / "data" / "sub" / "blob.bin").write_bytes(os.urandom(70_000))
    (repo / "model.pkl").write_bytes(os.urandom(model_bytes))


def workspace_files(root) -> dict[str, bytes]:
    """Every file of a workspace (outside .git and .dvc) by relative path, with its bytes."""
    out = {}
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in (".git", ".dvc")]
        for f in files:
            with open(os.path.join(d, f), "rb") as fh:
                out[os.path.relpath(os.path.join(d, f), root)] = fh.read()
    return out
