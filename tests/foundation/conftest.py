from __future__ import annotations

import os
import subprocess

import pytest


def make_tree(base, spec: dict) -> None:
    """Create files from ``{relpath: bytes | None}``; None makes an empty directory; an int is a mode."""
    for rel, content in spec.items():
        p = os.path.join(base, rel)
        if content is None:
            os.makedirs(p, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(p), exist_ok=True)
        mode = None
        if isinstance(content, tuple):
            content, mode = content
        with open(p, "wb") as f:
            f.write(content)
        if mode is not None:
            os.chmod(p, mode)


def snapshot(root) -> dict[str, bytes]:
    """Every file under root except git internals and tool-private state, as {relpath: bytes}."""
    out = {}
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in (".git", "tmp")]
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


@pytest.fixture
def pair(tmp_path, tide, dvc):
    """Two fresh git repos: one initialised by tide, one by real dvc."""
    dirs = []
    for name, tool in (("tide", tide), ("dvc", dvc)):
        d = tmp_path / name
        d.mkdir()
        subprocess.run(["git", "init", "-q", "-b", "main", str(d)], check=True)
        tool("init", cwd=d)
        dirs.append(d)
    return dirs
