"""Issue 17, security findings 7, 10, 11, 13 and 14: what leaves the machine in a report, values
passed to external programs, what the demo deletes, corrupt remote objects, import-db side effects."""

from __future__ import annotations

import os

import pytest

from tide.core.errors import UsageError

# --- finding 11: tide demo deletes only what it made ---------------------------------------------


def test_issue17_f11_demo_refuses_dot_and_foreign_dirs(tmp_path, tide, monkeypatch):
    (tmp_path / "precious.txt").write_text("keep me\n")
    res = tide("demo", "--dir", ".", "--days", "1", cwd=tmp_path, check=False)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me\n"

    other = tmp_path / "other"
    other.mkdir()
    (other / "data.csv").write_text("1,2\n")
    res = tide("demo", "--dir", other, "--days", "1", cwd=tmp_path, check=False)
    assert res.returncode != 0 and "not made by 'tide demo'" in res.stderr
    assert (other / "data.csv").read_text() == "1,2\n"


def test_issue17_f11_demo_claims_only_its_own_dirs(tmp_path, monkeypatch):
    from tide.ops.demo import MARKER, claim_dir

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    for bad in (".", str(tmp_path), "/", str(tmp_path / "home"), "..", os.path.dirname(str(tmp_path))):
        with pytest.raises(UsageError):
            claim_dir(bad)
    fresh = claim_dir("fresh")                      # created: marked
    assert os.path.isfile(os.path.join(fresh, MARKER))
    (tmp_path / "fresh" / "old").mkdir()
    (tmp_path / "fresh" / "old" / "f").write_text("x")
    assert claim_dir("fresh") == fresh and os.listdir(fresh) == [MARKER]  # an earlier demo's dir: emptied
    (tmp_path / "empty").mkdir()
    claim_dir("empty")                              # empty: taken and marked
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "x").write_text("x")
    os.symlink(tmp_path / "fresh" / MARKER, tmp_path / "linked" / MARKER)  # a marker must be a real file
    with pytest.raises(UsageError, match="not made by"):
        claim_dir("linked")
    assert (tmp_path / "linked" / "x").exists()
    os.symlink(tmp_path / "fresh", tmp_path / "alias")
    with pytest.raises(UsageError, match="not a directory"):
        claim_dir("alias")


# --- finding 14: import-db creates nothing -------------------------------------------------------


@pytest.mark.parametrize("conn", ["sqlite:///nope.db", "sqlite:///sub/nope.db", "sqlite:///file:nope.db?uri=true"])
def test_issue17_f14_import_db_missing_sqlite_creates_nothing(repo_dir, tide, conn):
    before = sorted(p.name for p in repo_dir.rglob("*") if ".git" not in p.parts and ".dvc" not in p.parts)
    res = tide("import-db", "--table", "t", "--conn", conn, "-o", "out.csv", cwd=repo_dir, check=False)
    assert res.returncode != 0 and res.stderr.startswith("ERROR: ") and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    after = sorted(p.name for p in repo_dir.rglob("*") if ".git" not in p.parts and ".dvc" not in p.parts)
    assert after == before


def test_issue17_f14_import_db_reads_sqlite_read_only(repo_dir, tide):
    import sqlite3

    db = repo_dir / "shop.db"
    c = sqlite3.connect(db)
    c.execute("create table t (a integer)")
    c.execute("insert into t values (1)")
    c.commit()
    c.close()
    res = tide("import-db", "--sql", "delete from t returning a", "--conn", f"sqlite:///{db}", "-o", "o.csv",
               cwd=repo_dir, check=False)
    assert res.returncode != 0 and "readonly" in res.stderr
    c = sqlite3.connect(db)
    assert c.execute("select count(*) from t").fetchone() == (1,)
    c.close()


# --- finding 13: corrupt remote objects: which, where, and a repair that works -------------------


def test_issue17_f13_pull_names_corrupt_objects_and_the_advice_repairs(repo_dir, tide, tmp_path):
    import shutil

    from tests.conftest import git

    remote = tmp_path / "store"
    tide("remote", "add", "-d", "store", remote, cwd=repo_dir)
    (repo_dir / "d").mkdir()
    (repo_dir / "d" / "a.txt").write_text("precious\n")
    (repo_dir / "b.txt").write_text("other\n")
    tide("add", "d", "b.txt", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    tide("push", cwd=repo_dir)
    import hashlib

    oid = hashlib.md5(b"precious\n").hexdigest()
    obj = remote / "files" / "md5" / oid[:2] / oid[2:]
    os.chmod(obj, 0o644)
    obj.write_text("tampered\n")

    cache = repo_dir / ".dvc" / "cache"
    shutil.move(cache, tmp_path / "good-cache")
    shutil.rmtree(repo_dir / "d")
    res = tide("pull", cwd=repo_dir, check=False)
    err = res.stderr.strip()
    assert res.returncode != 0 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "again to resume" not in err
    assert "d/a.txt" in err and oid in err and f"files/md5/{oid[:2]}/{oid[2:]}" in err
    assert "remote 'store'" in err and str(remote) in err
    assert "TIDE_REMOTE_INDEX=0 tide push -r store" in err
    manifest = err.split("the manifests of the directories holding them (")[1].split(")")[0]
    assert manifest.startswith("files/md5/") and manifest.endswith(".dir")
    assert not (repo_dir / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]).exists()

    # the advice: delete the bad copy on the remote, push from a cache that has a good one
    obj.unlink()
    (remote / manifest).unlink()
    shutil.rmtree(repo_dir / ".dvc" / "cache")
    shutil.move(tmp_path / "good-cache", cache)
    tide("push", "-r", "store", cwd=repo_dir, env={**os.environ, "TIDE_REMOTE_INDEX": "0"})
    shutil.rmtree(cache)
    tide("pull", cwd=repo_dir)
    assert (repo_dir / "d" / "a.txt").read_text() == "precious\n"
