"""push / pull / fetch / status -c / gc -c through the CLI, mostly on a local-directory remote."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from tests.conftest import git


def _files(root) -> dict[str, bytes]:
    out = {}
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in (".git", ".dvc")]
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


def _remote_keys(remote) -> list[str]:
    """Object keys on a local remote (tide's gc epoch token at the root is not an object)."""
    keys = []
    for d, _, files in os.walk(remote):
        for f in files:
            if f == "tide-gc-epoch" and d == str(remote):
                continue
            keys.append(os.path.relpath(os.path.join(d, f), remote).replace(os.sep, "/"))
    return sorted(keys)


def _make_data(repo):
    (repo / "data").mkdir()
    for i in range(12):
        (repo / "data" / f"f{i}.txt").write_text(f"file {i}\n")
    (repo / "data" / "sub").mkdir()
    (repo / "data" / "sub" / "deep.bin").write_bytes(os.urandom(3000))
    (repo / "model.bin").write_bytes(os.urandom(5000))


def _clone(src, dst):
    subprocess.run(["git", "clone", "-q", str(src), str(dst)], check=True)
    return dst


def test_round_trip_and_status(repo_dir, tide, tmp_path):
    remote = tmp_path / "remote"
    _make_data(repo_dir)
    tide("add", "data", "model.bin", cwd=repo_dir)
    tide("remote", "add", "-d", "store", str(remote), cwd=repo_dir)
    st = tide("status", "-c", "--json", cwd=repo_dir)
    assert set(json.loads(st.stdout).values()) == {"new"}
    out = tide("push", cwd=repo_dir)
    assert "15 files pushed" in out.stdout
    keys = _remote_keys(remote)
    assert all(k.startswith("files/md5/") for k in keys) and len(keys) == 15
    assert any(k.endswith(".dir") for k in keys)
    for k in keys:  # every remote object is named by its content's md5
        data = (remote / k).read_bytes()
        assert hashlib.md5(data).hexdigest() == k.replace("files/md5/", "").replace("/", "").removesuffix(".dir")
        assert (remote / k).stat().st_mode & 0o777 == 0o444
    assert tide("push", cwd=repo_dir).stdout.strip() == "Everything is up to date."
    index = list((repo_dir / ".dvc" / "tmp" / "tide" / "remote-index").glob("*.idx"))
    assert len(index) == 1 and len(index[0].read_text().splitlines()) == 15
    env = dict(os.environ, TIDE_REMOTE_INDEX="0")  # without the index the remote is asked, same answer
    assert tide("push", cwd=repo_dir, env=env).stdout.strip() == "Everything is up to date."
    assert "are in sync" in tide("status", "-c", cwd=repo_dir).stdout
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    clone = _clone(repo_dir, tmp_path / "clone")
    out = tide("pull", cwd=clone)
    assert "15 files fetched" in out.stdout
    assert _files(clone) == _files(repo_dir)
    assert tide("pull", cwd=clone).stdout.strip() == "Everything is up to date."


def test_fetch_only_fills_the_cache(repo_dir, tide, tmp_path):
    _make_data(repo_dir)
    tide("add", "data", cwd=repo_dir)
    tide("remote", "add", "-d", "store", str(tmp_path / "remote"), cwd=repo_dir)
    tide("push", "-j", "1", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    clone = _clone(repo_dir, tmp_path / "clone")
    tide("fetch", cwd=clone)
    assert not (clone / "data").exists()
    assert tide("status", "-c", cwd=clone).stdout.strip().endswith("are in sync.")
    tide("checkout", cwd=clone)
    assert _files(clone / "data") == _files(repo_dir / "data")


def test_push_false_and_per_output_remote(repo_dir, tide, tmp_path):
    (repo_dir / "a.txt").write_text("a\n")
    (repo_dir / "b.txt").write_text("b\n")
    (repo_dir / "c.txt").write_text("c\n")
    tide("add", "a.txt", "b.txt", "c.txt", cwd=repo_dir)
    tide("remote", "add", "-d", "main", str(tmp_path / "main"), cwd=repo_dir)
    tide("remote", "add", "side", str(tmp_path / "side"), cwd=repo_dir)
    b = (repo_dir / "b.txt.dvc").read_text()
    (repo_dir / "b.txt.dvc").write_text(b.rstrip("\n") + "\n  push: false\n")
    c = (repo_dir / "c.txt.dvc").read_text()
    (repo_dir / "c.txt.dvc").write_text(c.rstrip("\n") + "\n  remote: side\n")
    tide("push", cwd=repo_dir)
    md5 = {n: hashlib.md5(f"{n}\n".encode()).hexdigest() for n in "abc"}
    assert _remote_keys(tmp_path / "main") == [f"files/md5/{md5['a'][:2]}/{md5['a'][2:]}"]
    assert _remote_keys(tmp_path / "side") == [f"files/md5/{md5['c'][:2]}/{md5['c'][2:]}"]
    # -r names one remote for everything (push: false still holds)
    tide("push", "-r", "side", cwd=repo_dir)
    assert len(_remote_keys(tmp_path / "side")) == 2


def test_all_branches_and_run_cache(repo_dir, tide, tmp_path):
    remote = tmp_path / "remote"
    tide("remote", "add", "-d", "store", str(remote), cwd=repo_dir)
    (repo_dir / "m.txt").write_text("version 1\n")
    tide("add", "m.txt", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "v1")
    git(repo_dir, "branch", "old")
    (repo_dir / "m.txt").write_text("version 2\n")
    tide("add", "m.txt", cwd=repo_dir)
    git(repo_dir, "commit", "-qam", "v2")
    from tide.pipeline.runcache import RunCache

    entry = {"cmd": "echo hi", "deps": [{"path": "m.txt", "md5": "0" * 32}], "outs": [{"path": "o", "md5": "1" * 32}]}
    saved = RunCache(str(repo_dir / ".dvc" / "cache")).save(entry)
    run_key = os.path.relpath(saved, repo_dir / ".dvc" / "cache").replace(os.sep, "/")
    tide("push", cwd=repo_dir)
    assert len(_remote_keys(remote)) == 1
    tide("push", "-a", "--run-cache", cwd=repo_dir)
    keys = _remote_keys(remote)
    assert len([k for k in keys if k.startswith("files/")]) == 2
    assert run_key in keys
    clone = _clone(repo_dir, tmp_path / "clone")
    git(clone, "branch", "old", "origin/old")
    tide("fetch", "-a", "--run-cache", cwd=clone)
    cache = clone / ".dvc" / "cache"
    for v in (1, 2):
        oid = hashlib.md5(f"version {v}\n".encode()).hexdigest()
        assert (cache / "files" / "md5" / oid[:2] / oid[2:]).exists()
    assert (cache / run_key).read_text() == Path(saved).read_text()
    # an entry that does not hash to its name is refused (issue 17, "one door into the cache")
    fake = remote / "runs" / "ab" / ("ab" + "0" * 62) / ("c" * 64)
    fake.parent.mkdir(parents=True)
    fake.write_text("cmd: echo hi\n")
    r = tide("fetch", "--run-cache", cwd=clone, check=False)
    assert r.returncode != 0 and "does not hash to its name" in r.stderr
    assert not (cache / "runs" / "ab" / ("ab" + "0" * 62)).exists()


def test_corrupt_remote_object_is_never_trusted(repo_dir, tide, tmp_path):
    remote = tmp_path / "remote"
    _make_data(repo_dir)
    tide("add", "data", cwd=repo_dir)
    tide("remote", "add", "-d", "store", str(remote), cwd=repo_dir)
    tide("push", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    oid = hashlib.md5(b"file 3\n").hexdigest()
    obj = remote / "files" / "md5" / oid[:2] / oid[2:]
    os.chmod(obj, 0o644)
    obj.write_bytes(b"tampered\n")
    clone = _clone(repo_dir, tmp_path / "clone")
    p = tide("pull", cwd=clone, check=False)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert oid in p.stderr and "corrupt" in p.stderr
    cache = clone / ".dvc" / "cache" / "files" / "md5"
    assert not (cache / oid[:2] / oid[2:]).exists()
    assert not [f for f in cache.rglob("*") if f.name.endswith(".tmp")]
    # a repaired remote completes the pull
    obj.write_bytes(b"file 3\n")
    tide("pull", cwd=clone)
    assert _files(clone / "data") == _files(repo_dir / "data")


def test_dir_manifest_goes_up_only_after_its_files(repo_dir, tide, tmp_path):
    remote = tmp_path / "remote"
    _make_data(repo_dir)
    tide("add", "data", cwd=repo_dir)
    tide("remote", "add", "-d", "store", str(remote), cwd=repo_dir)
    oid = hashlib.md5(b"file 5\n").hexdigest()
    lost = repo_dir / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]
    lost.unlink()
    p = tide("push", cwd=repo_dir, check=False)
    assert "missing from the cache" in p.stderr
    keys = _remote_keys(remote)
    assert len(keys) == 12 and not any(k.endswith(".dir") for k in keys)
    assert tide("status", "-c", "--json", cwd=repo_dir).stdout.count('"new"') == 1
    lost.write_bytes(b"file 5\n")  # the object is back: a re-run completes the directory
    tide("push", cwd=repo_dir)
    assert any(k.endswith(".dir") for k in _remote_keys(remote))


def test_gc_cloud(repo_dir, tide, tmp_path, monkeypatch):
    monkeypatch.setenv("TIDE_GC_GRACE", "0")  # no grace period for recently pushed objects
    remote = tmp_path / "remote"
    tide("remote", "add", "-d", "store", str(remote), cwd=repo_dir)
    _make_data(repo_dir)
    tide("add", "data", "model.bin", cwd=repo_dir)
    tide("push", cwd=repo_dir)
    (repo_dir / "model.bin").write_bytes(b"new model\n")
    tide("add", "model.bin", cwd=repo_dir)
    tide("push", cwd=repo_dir)
    assert len(_remote_keys(remote)) == 16
    dry = tide("gc", "-c", "-w", "--dry", cwd=repo_dir)
    assert "1 objects would be removed from remote 'store'" in dry.stdout
    assert len(_remote_keys(remote)) == 16
    refused = tide("gc", "-c", "-w", cwd=repo_dir, check=False)  # no terminal to confirm on
    assert refused.returncode != 0 and len(_remote_keys(remote)) == 16
    tide("gc", "-c", "-w", "-f", cwd=repo_dir)
    assert len(_remote_keys(remote)) == 15
    assert "are in sync" in tide("status", "-c", cwd=repo_dir).stdout


def test_http_remote_is_read_only(repo_dir, tide, tmp_path, static_http):
    sub = "served"
    served = os.path.join(static_http.root, sub)
    _make_data(repo_dir)
    tide("add", "data", cwd=repo_dir)
    tide("remote", "add", "local", served, cwd=repo_dir)
    tide("push", "-r", "local", cwd=repo_dir)
    tide("remote", "add", "-d", "web", static_http.url(sub), cwd=repo_dir)
    (repo_dir / "extra.txt").write_text("more\n")
    tide("add", "extra.txt", cwd=repo_dir)
    p = tide("push", "-r", "web", cwd=repo_dir, check=False)
    assert p.returncode == 1 and "read-only" in p.stderr and "Traceback" not in p.stderr
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    clone = _clone(repo_dir, tmp_path / "clone")
    tide("pull", "-r", "web", "data", cwd=clone)
    assert _files(clone / "data") == _files(repo_dir / "data")


def test_legacy_dvc2_outputs_pull_from_the_remote_root(repo_dir, tide, tmp_path):
    """Outputs without 'hash:' (dvc 2.x) live at <remote>/ab/cdef and are named by their dos2unix md5."""
    remote = tmp_path / "remote"
    raw = b"crlf\r\nline\r\n"
    oid = "ea2dddc0f5cbc7826964e2185a2e8222"  # md5 of the text with LF endings (dvc 2.58.2)
    (remote / oid[:2]).mkdir(parents=True)
    (remote / oid[:2] / oid[2:]).write_bytes(raw)
    (repo_dir / "old.txt.dvc").write_text(f"outs:\n- md5: {oid}\n  size: 12\n  path: old.txt\n")
    (repo_dir / ".gitignore").write_text("/old.txt\n")
    tide("remote", "add", "-d", "store", str(remote), cwd=repo_dir)
    tide("pull", cwd=repo_dir)
    assert (repo_dir / "old.txt").read_bytes() == raw
    assert (repo_dir / ".dvc" / "cache" / oid[:2] / oid[2:]).read_bytes() == raw
    # pushing it to a fresh remote keeps the legacy layout
    tide("remote", "add", "fresh", str(tmp_path / "fresh"), cwd=repo_dir)
    tide("push", "-r", "fresh", cwd=repo_dir)
    assert _remote_keys(tmp_path / "fresh") == [f"{oid[:2]}/{oid[2:]}"]


def test_seed_workflow_on_google_drive(repo_dir, tide, tmp_path, gdrive_fake, monkeypatch):
    """The seed's commands verbatim (dvc -> tide), against the Drive v3 fake with a service account."""
    folder = gdrive_fake.new_folder()
    key = gdrive_fake.service_account_file(str(tmp_path / "sa.json"))
    # the seed passes the key in the variable dvc documents: this test sets it (tests start without it)
    monkeypatch.setenv("GDRIVE_CREDENTIALS_DATA", open(key).read())  # noqa: SIM115
    monkeypatch.setenv("TIDE_GDRIVE_API_URL", gdrive_fake.base)
    _make_data(repo_dir)
    tide("add", "data", "model.bin", cwd=repo_dir)
    tide("remote", "add", "-d", "-f", "myremote", f"gdrive://{folder}", cwd=repo_dir)
    tide("remote", "modify", "myremote", "gdrive_use_service_account", "true", cwd=repo_dir)
    out = tide("push", cwd=repo_dir)
    assert "15 files pushed" in out.stdout
    stored = [p for p in gdrive_fake.paths() if f"/shared-{folder[:6]}/" in f"/{p}"]
    assert len(stored) == 15 and all("/files/md5/" in p for p in stored)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    clone = _clone(repo_dir, tmp_path / "clone")
    tide("pull", cwd=clone)
    assert _files(clone) == _files(repo_dir)
    monkeypatch.setenv("GDRIVE_CREDENTIALS_DATA", "{not json")
    (repo_dir / "more.txt").write_text("more\n")
    tide("add", "more.txt", cwd=repo_dir)
    p = tide("push", cwd=repo_dir, check=False)
    assert p.returncode == 1 and p.stderr.startswith("ERROR: ") and "not valid JSON" in p.stderr
    assert "PRIVATE KEY" not in p.stderr + p.stdout


def test_stale_remote_index_is_dropped_by_status(repo_dir, tide, tmp_path):
    """Another clone garbage-collected the remote: status -c notices, and the next push re-sends."""
    import shutil

    remote = tmp_path / "remote"
    tide("remote", "add", "-d", "store", str(remote), cwd=repo_dir)
    (repo_dir / "a.txt").write_text("a\n")
    tide("add", "a.txt", cwd=repo_dir)
    tide("push", cwd=repo_dir)
    shutil.rmtree(remote)  # behind this clone's back
    assert tide("push", cwd=repo_dir).stdout.strip() == "Everything is up to date."  # the index's word
    assert "new:" in tide("status", "-c", cwd=repo_dir).stdout
    assert "1 file pushed (" in tide("push", cwd=repo_dir).stdout


def test_verify_option_of_a_local_remote(repo_dir, tide, tmp_path):
    """Large objects from a local remote are kernel copies: still verified by default, trusted by
    name (not re-hashed) with dvc's ``verify = false``."""
    remote = tmp_path / "remote"
    big = os.urandom(3 * 1024 * 1024 + 5)
    (repo_dir / "big.bin").write_bytes(big)
    (repo_dir / "small.txt").write_text("small\n")
    tide("add", "big.bin", "small.txt", cwd=repo_dir)
    tide("remote", "add", "-d", "store", str(remote), cwd=repo_dir)
    tide("push", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    oid = hashlib.md5(big).hexdigest()
    obj = remote / "files" / "md5" / oid[:2] / oid[2:]
    os.chmod(obj, 0o644)
    obj.write_bytes(big[:-1] + bytes([big[-1] ^ 0xFF]))
    clone = _clone(repo_dir, tmp_path / "clone")
    p = tide("pull", cwd=clone, check=False)
    assert p.returncode == 1 and oid in p.stderr and "corrupt" in p.stderr
    assert not (clone / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]).exists()
    assert (clone / "small.txt").read_text() == "small\n"
    obj.write_bytes(big)
    clone2 = _clone(repo_dir, tmp_path / "clone2")
    tide("remote", "modify", "--local", "store", "verify", "false", cwd=clone2)
    assert "verify = false" in (clone2 / ".dvc" / "config.local").read_text()
    tide("pull", cwd=clone2)
    assert (clone2 / "big.bin").read_bytes() == big and (clone2 / "small.txt").read_text() == "small\n"


def test_status_c_remembers_a_complete_directory_and_sees_a_change(repo_dir, tide, tmp_path, monkeypatch):
    """``status -c`` records a directory whose files the cache holds; the next run answers it without
    listing the cache (while nothing was added to or removed from it); an object gone from the cache
    since is reported again."""
    import time

    from tide.objects.cache import ObjectCache
    from tide.ops.cloud_status import cloud_status
    from tide.ops.data_scope import Scope
    from tide.workspace.repo import Repo

    _make_data(repo_dir)
    tide("add", "data", cwd=repo_dir)
    tide("remote", "add", "-d", "store", str(tmp_path / "remote"), cwd=repo_dir)
    tide("push", "-q", cwd=repo_dir)
    time.sleep(1.1)  # the cache's fingerprint is not trusted for a directory changed in the last second
    looked = []  # ids the cache was asked about
    real = ObjectCache.missing
    monkeypatch.setattr(ObjectCache, "missing", lambda self, ids, legacy=False: real(self, _seen(looked, ids), legacy))
    scope = Scope((), False, False, False)
    assert cloud_status(Repo.find(str(repo_dir)), scope)[1] == {}
    assert len(looked) > 10  # first run: every file looked for, and the directory recorded as complete
    looked.clear()
    assert cloud_status(Repo.find(str(repo_dir)), scope)[1] == {}
    assert len(looked) <= 1  # the manifest at most: the directory was known complete
    entry = json.loads(next((repo_dir / ".dvc" / "cache" / "files" / "md5").glob("*/*.dir")).read_text())[0]
    obj = repo_dir / ".dvc" / "cache" / "files" / "md5" / entry["md5"][:2] / entry["md5"][2:]
    obj.unlink()
    assert cloud_status(Repo.find(str(repo_dir)), scope)[1] == {f"data/{entry['relpath']}": "deleted"}
    assert json.loads(tide("status", "-c", "--json", cwd=repo_dir).stdout) == {f"data/{entry['relpath']}": "deleted"}


def _seen(into: list, ids) -> list:
    ids = list(ids)
    into.extend(ids)
    return ids
