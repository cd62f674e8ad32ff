"""A remote shared by several clones: concurrent pushes, and ``tide gc -c`` while another clone pushes.

The rule that keeps gc safe (ops/cloud_gc.py, docs/reliability.md): an unused object written less
than TIDE_GC_GRACE seconds ago (default 24 h) is kept, and so are the files a recent manifest names.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.reliability import crashlib, netlib

DAY = 24 * 3600


@pytest.fixture
def env(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return crashlib.isolated_env(str(home))


def clone_with_data(root: Path, env: dict, remote: Path, files: dict[str, bytes]) -> None:
    root.mkdir()
    crashlib.git(root, "init", "-q", "-b", "main", env=env)
    crashlib.tide(["init", "-q"], root, env)
    crashlib.tide(["remote", "add", "-d", "store", str(remote)], root, env)
    crashlib.write_state(root, {}, files)
    crashlib.tide(["add", "-q", "data"], root, env)
    crashlib.git(root, "add", "-A", env=env)
    crashlib.git(root, "commit", "-q", "-m", "data", env=env)


def oids(files: dict[str, bytes]) -> set[str]:
    return {hashlib.md5(v).hexdigest() for v in files.values()}


def age(remote: Path, keep_young: set[str] = frozenset()) -> None:
    """Make every object on the remote two days old (except ``keep_young``)."""
    old = time.time() - 2 * DAY
    for oid in netlib.dir_objects(remote)():
        if oid not in keep_young:
            os.utime(remote / "files" / "md5" / oid[:2] / oid[2:], (old, old))


def test_gc_cloud_spares_what_a_push_from_another_clone_just_wrote(tmp_path, env):
    remote = tmp_path / "remote"
    a_files = {"data/a1": b"a1" * 100, "data/a2": b"a2" * 100}
    b_files = {"data/b1": b"b1" * 100, "data/sub/b2": b"b2" * 100}
    clone_with_data(tmp_path / "a", env, remote, a_files)
    clone_with_data(tmp_path / "b", env, remote, b_files)
    crashlib.tide(["push", "-q"], tmp_path / "a", env)
    crashlib.tide(["push", "-q"], tmp_path / "b", env)  # B's commit is not in A's git: A cannot know it
    on_remote = set(netlib.dir_objects(remote)())
    assert oids(b_files) <= on_remote

    p = crashlib.tide(["gc", "-c", "-w", "-f"], tmp_path / "a", env)
    assert "Kept" in p.stdout and "grace period" in p.stdout
    assert set(netlib.dir_objects(remote)()) == on_remote, "gc -c removed objects a push had just written"

    age(remote)  # two days later, B's objects are garbage from A's point of view
    crashlib.tide(["gc", "-c", "-w", "-f"], tmp_path / "a", env)
    left = set(netlib.dir_objects(remote)())
    assert oids(a_files) <= left and not (oids(b_files) & left)


def test_recent_manifest_protects_old_files_it_names(tmp_path, env):
    remote = tmp_path / "remote"
    clone_with_data(tmp_path / "a", env, remote, {"data/a": b"a"})
    files = {"data/old1": b"old1" * 50, "data/old2": b"old2" * 50}
    clone_with_data(tmp_path / "b", env, remote, files)
    b = tmp_path / "b"
    crashlib.tide(["push", "-q"], b, env)
    age(remote)
    # B adds a file: the new manifest is young, the two files it shares with the old version are not
    crashlib.write_state(b, files, {**files, "data/new": b"new" * 50})
    crashlib.tide(["add", "-q", "data"], b, env)
    crashlib.tide(["push", "-q"], b, env)
    crashlib.tide(["gc", "-c", "-w", "-f"], tmp_path / "a", env)
    assert oids(files) <= set(netlib.dir_objects(remote)()), "gc -c removed files a recent manifest needs"


def test_grace_setting(tmp_path, env):
    remote = tmp_path / "remote"
    clone_with_data(tmp_path / "a", env, remote, {"data/a": b"a"})
    clone_with_data(tmp_path / "b", env, remote, {"data/b": b"b"})
    crashlib.tide(["push", "-q"], tmp_path / "b", env)
    bad = crashlib.tide(["gc", "-c", "-w", "-f"], tmp_path / "a", dict(env, TIDE_GC_GRACE="soon"), check=False)
    assert bad.returncode != 0 and bad.stderr.strip().splitlines() == [
        "ERROR: TIDE_GC_GRACE must be a number of seconds, got 'soon'"]
    crashlib.tide(["gc", "-c", "-w", "-f"], tmp_path / "a", dict(env, TIDE_GC_GRACE="0"))
    assert hashlib.md5(b"b").hexdigest() not in netlib.dir_objects(remote)()


def test_concurrent_pushes_and_gc_on_one_remote(tmp_path, env):
    """Two clones push new versions in a loop while a third runs gc -c over and over: every object
    each pusher ever pushed is on the remote, intact, at the end."""
    remote = tmp_path / "remote"
    rng = random.Random(5)
    for name in ("p1", "p2", "gc"):
        clone_with_data(tmp_path / name, env, remote, {f"data/{name}": name.encode()})
        crashlib.tide(["push", "-q"], tmp_path / name, env)
    script = (
        "import random, subprocess, sys\n"
        "from pathlib import Path\n"
        "root, seed = Path(sys.argv[1]), int(sys.argv[2])\n"
        "rng = random.Random(seed)\n"
        "for i in range(4):\n"
        "    d = root / 'data'\n"
        "    for j in range(6):\n"
        "        (d / f'v{i}_{j}').write_bytes(rng.randbytes(rng.choice([10, 5000, 80000])))\n"
        "    subprocess.run([sys.executable, '-m', 'tide', 'add', '-q', 'data'], cwd=root, check=True)\n"
        "    subprocess.run([sys.executable, '-m', 'tide', 'push', '-q'], cwd=root, check=True)\n"
    )
    pushers = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / n), str(rng.randrange(99))],
                                env=dict(env, TIDE_LOCK_TIMEOUT="30"), stderr=subprocess.PIPE, text=True)
               for n in ("p1", "p2")]
    gcs = 0
    while any(p.poll() is None for p in pushers):
        p = crashlib.tide(["gc", "-c", "-w", "-f"], tmp_path / "gc", env, check=False)
        assert p.returncode == 0, p.stderr
        gcs += 1
    for p in pushers:
        assert p.wait() == 0, p.stderr.read()
    assert gcs >= 1
    on_remote = netlib.dir_objects(remote)()
    for n in ("p1", "p2"):
        cached = crashlib.cached_oids(tmp_path / n)
        assert cached <= set(on_remote), f"{n}: objects lost on the remote: {sorted(cached - set(on_remote))[:3]}"
    for oid, data in on_remote.items():
        assert hashlib.md5(data).hexdigest() == oid.removesuffix(".dir")
