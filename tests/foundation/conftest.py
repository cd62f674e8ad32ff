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


class ToolRepo:
    """One tool's repository in a dvc-against-tide test: ``r.t("add", "x")`` runs the tool, ``r.j(...)`` its
    JSON output, ``r.sh("echo a > x")`` a shell line."""

    def __init__(self, name, run, path):
        self.name, self.run, self.path = name, run, path

    def t(self, *args, check=True):
        return self.run(*args, cwd=self.path, check=check)

    def j(self, *args):
        import json

        return json.loads(self.t(*args).stdout)

    def sh(self, script):
        return subprocess.run(["bash", "-ec", script], cwd=self.path, check=True, capture_output=True, text=True)

    def p(self, rel):
        return os.path.join(self.path, rel)

    def ls(self):
        return sorted(n for n in os.listdir(self.path) if not n.startswith("."))

    def cache_files(self):
        base = self.p(".dvc/cache/files/md5")
        return sorted(os.path.relpath(os.path.join(d, f), base) for d, _, fs in os.walk(base) for f in fs)

    def runs(self):
        base = self.p(".dvc/cache/runs")
        return sorted(os.path.relpath(os.path.join(d, f), base) for d, _, fs in os.walk(base) for f in fs)


@pytest.fixture
def both(tmp_path, tide, dvc):
    """Issue 27's setup once per tool, [dvc repo, tide repo]: ``git init; T init; T remote add -d r
    ../remote-T; git commit``."""
    from tests.conftest import git

    repos = []
    for name, run in (("dvc", dvc), ("tide", tide)):
        d = tmp_path / name
        d.mkdir()
        (tmp_path / f"remote-{name}").mkdir()
        subprocess.run(["git", "init", "-q", "-b", "main", str(d)], check=True)
        run("init", "-q", cwd=d)
        run("remote", "add", "-q", "-d", "r", f"../remote-{name}", cwd=d)
        git(d, "add", "-A")
        git(d, "commit", "-qm", "init")
        repos.append(ToolRepo(name, run, d))
    return repos
