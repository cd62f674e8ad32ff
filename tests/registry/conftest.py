"""Source repositories for the data-registry tests (ls/get/import/update, tide.api), made by dvc or tide."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import GIT_ENV, dvc_bin
from tests.foundation.conftest import make_tree
from tests.hermetic import outside_names


def git(cwd, *args, env=None):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def hermetic_env(home) -> dict:
    """What tests/conftest.py's per-test isolation sets, for sources built once per module."""
    env = {k: v for k, v in os.environ.items() if k not in set(outside_names(os.environ))}
    env.update(GIT_ENV, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               DVC_GLOBAL_CONFIG_DIR=str(home / ".config" / "dvc"), DVC_SYSTEM_CONFIG_DIR=str(home / "etc-dvc"),
               DVC_NO_ANALYTICS="1", AWS_EC2_METADATA_DISABLED="true", DVC_SITE_CACHE_DIR=str(home / "site"))
    return env


def runner(argv0, env):
    def run(*args, cwd=None, check=True):
        p = subprocess.run([*argv0, *map(str, args)], cwd=cwd, capture_output=True, text=True, env=env)
        if check and p.returncode:
            raise AssertionError(f"{args} failed: {p.stdout}{p.stderr}")
        return p
    return run


class SourceRepo:
    """A registry: ``data/`` (a directory), ``hello.txt`` and ``models/m.pkl`` tracked, ``code.py`` and
    an executable ``run.sh`` in git, pushed to a local remote; tag ``v1``, then ``hello.txt`` changed."""

    def __init__(self, path, remote, run):
        self.path, self.remote, self.run = path, remote, run
        self.v1 = git(path, "rev-parse", "v1")
        self.head = git(path, "rev-parse", "HEAD")

    @property
    def url(self):
        return f"file://{self.path}"


def make_source(tmp_path, run, name="src", remote_url=None) -> SourceRepo:
    src = tmp_path / name
    remote = tmp_path / f"{name}-remote"
    src.mkdir()
    env = getattr(run, "env", None)
    git(src, "init", "-q", "-b", "main", env=env)
    run("init", cwd=src)
    make_tree(src, {"data/a.txt": b"a\n", "data/sub/b.txt": b"b\n", "hello.txt": b"hello\n",
                    "models/m.pkl": b"m\n", "code.py": b"code\n", "run.sh": (b"#!/bin/sh\n", 0o755),
                    "gitdir/inner/x.py": b"x\n"})
    run("add", "data", cwd=src)
    run("add", "hello.txt", cwd=src)
    run("add", "models/m.pkl", cwd=src)
    run("remote", "add", "-d", "r", remote_url or str(remote), cwd=src)
    run("push", cwd=src)
    git(src, "add", "-A", env=env)
    git(src, "commit", "-qm", "one", env=env)
    git(src, "tag", "v1", env=env)
    (src / "hello.txt").unlink()
    (src / "hello.txt").write_bytes(b"hello2\n")
    run("add", "hello.txt", cwd=src)
    run("push", cwd=src)
    git(src, "commit", "-qam", "two", env=env)
    return SourceRepo(src, remote, run)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """Two read-only sources built once per module: one by real dvc, one by tide."""
    base = tmp_path_factory.mktemp("sources")
    env = hermetic_env(base / "home")
    out = {}
    for name, argv0 in (("dvc", [dvc_bin()]), ("tide", [sys.executable, "-m", "tide"])):
        run = runner(argv0, env)
        run.env = env
        out[name] = make_source(base, run, name)
    return out


@pytest.fixture(params=["dvc", "tide"])
def source(request, sources):
    """A (read-only) source repository made by real dvc, and one made by tide."""
    return sources[request.param]


@pytest.fixture
def dvc_source(sources):
    return sources["dvc"]


@pytest.fixture
def fresh_source(tmp_path, dvc):
    """A dvc-made source a test may change."""
    return make_source(tmp_path, dvc)


@pytest.fixture
def dest(tmp_path, tide):
    """An empty repository to import into (git + tide init; dvc reads it too)."""
    d = tmp_path / "dest"
    d.mkdir()
    git(d, "init", "-q", "-b", "main")
    tide("init", cwd=d)
    return d
