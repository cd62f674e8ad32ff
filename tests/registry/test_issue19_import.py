"""issue 19: ``tide get``/``get-url``/``import``/``import-url``/``update`` against real dvc, both ways: the
same bytes and the same ``.dvc`` files, and each tool updates the other's imports."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.registry.conftest import git


def tree(d):
    out = {}
    for base, _, files in os.walk(d):
        for f in files:
            p = os.path.join(base, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, d)] = (fh.read(), os.stat(p).st_mode & 0o111 != 0)
    return out


@pytest.mark.parametrize("path", ["data", "hello.txt", "data/sub", "data/a.txt", "gitdir", "run.sh", "models"])
def test_issue19_get_same_as_dvc(source, tide, dvc, tmp_path, path):
    for tool, name in ((dvc, "by-dvc"), (tide, "by-tide")):
        (tmp_path / name).mkdir()
        tool("get", source.url, path, "-o", "got", cwd=tmp_path / name)
    a, b = tmp_path / "by-dvc" / "got", tmp_path / "by-tide" / "got"
    assert (tree(a) if a.is_dir() else a.read_bytes()) == (tree(b) if b.is_dir() else b.read_bytes())


def test_issue19_get_at_rev_from_the_remote_only(fresh_source, tide, tmp_path):
    """Without the source's cache, data comes from its remote; --rev picks the version."""
    shutil.rmtree(fresh_source.path / ".dvc" / "cache")
    tide("get", str(fresh_source.path), "hello.txt", "-o", "v1.txt", "--rev", "v1", cwd=tmp_path)
    tide("get", fresh_source.url, "hello.txt", "-o", "head.txt", "-j", "2", cwd=tmp_path)
    assert (tmp_path / "v1.txt").read_bytes() == b"hello\n"
    assert (tmp_path / "head.txt").read_bytes() == b"hello2\n"
    assert not (fresh_source.path / ".dvc" / "cache").exists()  # nothing written into the source


def test_issue19_get_refuses_to_overwrite(dvc_source, tide, tmp_path):
    (tmp_path / "data").mkdir()
    r = tide("get", dvc_source.url, "data", cwd=tmp_path, check=False)
    assert r.returncode == 1 and "--force" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    tide("get", dvc_source.url, "data", "--force", cwd=tmp_path)
    assert sorted(tree(tmp_path / "data")) == ["a.txt", "sub/b.txt"]


@pytest.mark.parametrize("argv,what", [
    (["{url}", "nope"], "nope"), (["{url}", "hello.txt", "--rev", "nope"], "nope"),
    (["{tmp}/missing", "x"], "missing"), (["http://127.0.0.1:9/x.git", "x"], "127.0.0.1"),
])
def test_issue19_get_errors_leave_nothing(dvc_source, tide, tmp_path, argv, what):
    work = tmp_path / "work"
    work.mkdir()
    r = tide("get", *[a.format(url=dvc_source.url, tmp=tmp_path) for a in argv], cwd=work, check=False)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: failed to get") and what in lines[0]
    assert os.listdir(work) == []


def test_issue19_get_url(dvc_source, tide, dvc, tmp_path):
    tide("get-url", str(dvc_source.path / "data"), "d", cwd=tmp_path)
    tide("get-url", str(dvc_source.path / "code.py"), cwd=tmp_path)
    assert sorted(tree(tmp_path / "d")) == ["a.txt", "sub/b.txt"]
    assert (tmp_path / "code.py").read_bytes() == b"code\n"
    r = tide("get-url", str(dvc_source.path / "nope"), cwd=tmp_path, check=False)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1


IMPORTS = [
    ("hello.txt", ["-o", "h.txt"]), ("data", ["--rev", "v1"]), ("code.py", []), ("data/sub", ["-o", "sub"]),
    ("models/m.pkl", ["--no-download", "-o", "nd.pkl"]), ("hello.txt", ["--no-exec", "-o", "ne.txt"]),
]


def _dest(tmp_path, tool, name):
    d = tmp_path / name
    d.mkdir()
    git(d, "init", "-q", "-b", "main")
    tool("init", cwd=d)
    return d


def test_issue19_import_writes_the_dvc_file_dvc_writes(source, tide, dvc, tmp_path):
    a, b = _dest(tmp_path, dvc, "by-dvc"), _dest(tmp_path, tide, "by-tide")
    for path, extra in IMPORTS:
        dvc("import", str(source.path), path, *extra, cwd=a)
        tide("import", str(source.path), path, *extra, cwd=b)
    for name in sorted(n for n in os.listdir(a) if n.endswith(".dvc") and n != ".dvc"):
        assert (b / name).read_text() == (a / name).read_text(), name
    assert sorted((b / ".gitignore").read_text().splitlines()) == sorted((a / ".gitignore").read_text().splitlines())
    for out in ("h.txt", "data", "code.py", "sub"):
        pa, pb = a / out, b / out
        assert (tree(pa) if pa.is_dir() else pa.read_bytes()) == (tree(pb) if pb.is_dir() else pb.read_bytes())
    assert not (b / "nd.pkl").exists() and not (b / "ne.txt").exists()
    git(b, "add", "-A")
    git(b, "commit", "-qm", "imports")
    assert "h.txt" not in dvc("status", cwd=b).stdout  # dvc sees tide's import as up to date


def test_issue19_update_both_ways(fresh_source, tide, dvc, tmp_path):
    src = fresh_source
    for tool, other, name in ((tide, dvc, "t"), (dvc, tide, "d")):
        d = _dest(tmp_path, tool, name)
        tool("import", src.url, "hello.txt", "--rev", "v1", cwd=d)
        tool("import", str(src.path), "data", cwd=d)
        git(d, "add", "-A")
        git(d, "commit", "-qm", "imports")
        r = other("update", "hello.txt.dvc", "data.dvc", cwd=d)
        assert "didn't change, skipping" in r.stdout + r.stderr
        other("update", "hello.txt.dvc", "--rev", "main", cwd=d)
        assert (d / "hello.txt").read_bytes() == b"hello2\n"
        assert "rev: main" in (d / "hello.txt.dvc").read_text()
        assert git(src.path, "rev-parse", "main") in (d / "hello.txt.dvc").read_text()
        after = (d / "hello.txt.dvc").read_text()
        tool("update", "hello.txt.dvc", cwd=d)  # the updating tool's .dvc file is final for the other
        assert (d / "hello.txt.dvc").read_text() == after
        assert "Data and pipelines are up to date." in dvc("status", cwd=d).stdout
    # a change in the source: both tools see it
    (src.path / "data" / "c.txt").write_bytes(b"c\n")
    dvc("add", "data", cwd=src.path)
    dvc("push", cwd=src.path)
    git(src.path, "commit", "-qam", "three")
    for name, tool in (("t", dvc), ("d", tide)):
        tool("update", "data.dvc", cwd=tmp_path / name)
        assert (tmp_path / name / "data" / "c.txt").read_bytes() == b"c\n"
    assert (tmp_path / "t" / "data.dvc").read_text() == (tmp_path / "d" / "data.dvc").read_text()


def test_issue19_import_url_same_as_dvc(tmp_path, tide, dvc):
    ext = tmp_path / "ext"
    ext.mkdir()
    (ext / "f.txt").write_bytes(b"one\n")
    (ext / "dir").mkdir()
    (ext / "dir" / "x").write_bytes(b"x\n")
    a, b = _dest(tmp_path, dvc, "by-dvc"), _dest(tmp_path, tide, "by-tide")
    for tool, d in ((dvc, a), (tide, b)):
        tool("import-url", str(ext / "f.txt"), cwd=d)
        tool("import-url", str(ext / "dir"), "dd", cwd=d)
        tool("import-url", "../ext/f.txt", "rel.txt", cwd=d)
        tool("import-url", "--no-exec", str(ext / "dir"), "nx", cwd=d)  # test_issue19_import_url_no_exec_dep
    for name in ("f.txt.dvc", "dd.dvc", "rel.txt.dvc", "nx.dvc"):
        assert (b / name).read_text() == (a / name).read_text()
    (ext / "f.txt").write_bytes(b"two\n")
    tide("update", "f.txt.dvc", cwd=a)   # tide updates dvc's import-url
    dvc("update", "f.txt.dvc", cwd=b)    # dvc updates tide's
    assert (a / "f.txt").read_bytes() == (b / "f.txt").read_bytes() == b"two\n"
    assert (a / "f.txt.dvc").read_text() == (b / "f.txt.dvc").read_text()
    r = tide("update", "f.txt.dvc", cwd=b)
    assert "didn't change" in r.stdout


@pytest.mark.parametrize("argv,what", [
    (["{url}", "nope"], "nope"), (["{url}", "hello.txt", "--rev", "nope"], "nope"),
    (["{tmp}/missing", "x"], "missing"),
])
def test_issue19_import_errors_leave_nothing(dvc_source, tide, dest, tmp_path, argv, what):
    before = sorted(os.listdir(dest))
    r = tide("import", *[a.format(url=dvc_source.url, tmp=tmp_path) for a in argv], cwd=dest, check=False)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: failed to import") and what in lines[0]
    assert sorted(os.listdir(dest)) == before


def test_issue19_pull_of_imports_comes_from_the_source(fresh_source, tide, dvc, tmp_path):
    """dvc's imports in a repository with no remote: tide pull fetches whole outputs, git-tracked files
    and parts of directories from the source at rev_lock (rebuilt and checked against the .dvc hash)."""
    d = _dest(tmp_path, dvc, "d")
    for path, extra in (("data", []), ("code.py", []), ("data/sub", ["-o", "sub"]), ("hello.txt", ["--rev", "v1"])):
        dvc("import", str(fresh_source.path), path, *extra, cwd=d)
    git(d, "add", "-A")
    git(d, "commit", "-qm", "imports")
    shutil.rmtree(fresh_source.path / ".dvc" / "cache")  # only the source's remote has the data now
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(d), str(clone))
    tide("pull", cwd=clone)
    assert (clone / "data" / "sub" / "b.txt").read_bytes() == b"b\n"
    assert (clone / "code.py").read_bytes() == b"code\n"
    assert (clone / "sub" / "b.txt").read_bytes() == b"b\n"
    assert (clone / "hello.txt").read_bytes() == b"hello\n"
    assert "up to date" in tide("status", cwd=clone).stdout
    assert "up to date" in dvc("status", cwd=clone).stdout


def _update(dest, monkeypatch, targets, rev=None, forbid_open=True, recursive=False):
    from tide.ops import registry_source
    from tide.ops.registry_import import update
    from tide.workspace.repo import Repo

    with monkeypatch.context() as m:  # only this patch is undone after: the test's hermetic environment stays
        if forbid_open:
            def refuse(*a, **k):
                raise AssertionError("the source was opened (cloned) for a no-op update")
            m.setattr(registry_source.Source, "__init__", refuse)
        repo = Repo.find(str(dest))
        try:
            return update(repo, [str(dest / t) for t in targets], rev, cwd=str(dest), recursive=recursive)
        finally:
            repo.close()


def test_issue19_noop_update_opens_no_source(dvc_source, tide, dest, monkeypatch):
    src = dvc_source
    tide("import", src.url, "data", cwd=dest)                          # default branch of a URL
    tide("import", src.url, "hello.txt", "--rev", "v1", cwd=dest)      # a tag
    tide("import", src.url, "models/m.pkl", "--rev", src.v1, cwd=dest)  # a commit
    tide("import", str(src.path), "code.py", "--rev", "main", cwd=dest)  # a local path at a branch
    targets = ["data.dvc", "hello.txt.dvc", "m.pkl.dvc", "code.py.dvc"]
    before = {t: (dest / t).read_bytes() for t in targets}
    res = _update(dest, monkeypatch, targets)
    assert [r.changed for r in res] == [False] * 4
    assert {t: (dest / t).read_bytes() for t in targets} == before
    # -R: every import under a directory, other .dvc files left alone (test_issue19_update_recursive)
    (dest / "plain.txt").write_text("p\n")
    tide("add", "plain.txt", cwd=dest)
    res = _update(dest, monkeypatch, ["."], recursive=True)
    assert sorted(r.pointer for r in res) == sorted(targets)
    # the data changed here: the import is brought back (the source is opened)
    (dest / "data" / "a.txt").unlink()
    with pytest.raises(AssertionError, match="opened"):
        _update(dest, monkeypatch, ["data.dvc"])
    _update(dest, monkeypatch, ["data.dvc"], forbid_open=False)
    assert (dest / "data" / "a.txt").read_bytes() == b"a\n"


def test_issue19_source_config_remote_options(dvc_source, tide, dvc, tmp_path):
    """``--config``/``--remote``/``--remote-config`` of get/import: the source's remote is replaced or
    amended; imports keep them in ``repo`` as dvc does (same bytes) and pull reads them back, both ways."""
    src = tmp_path / "moved"
    git(tmp_path, "clone", "-q", str(dvc_source.path), str(src))  # no cache: the data is only on the remote
    conf = (src / ".dvc" / "config").read_text().replace(str(dvc_source.remote), str(tmp_path / "gone"))
    (src / ".dvc" / "config").write_text(conf)
    git(src, "commit", "-qam", "the remote moved")
    cfg = tmp_path / "alt.cfg"
    cfg.write_text(f"[core]\n    remote = alt\n['remote \"alt\"']\n    url = {dvc_source.remote}\n")
    url = str(src)
    assert tide("get", url, "hello.txt", "-o", str(tmp_path / "no"), check=False).returncode != 0
    tide("get", url, "hello.txt", "-o", str(tmp_path / "h"), "--remote-config", f"url={dvc_source.remote}")
    assert (tmp_path / "h").read_bytes() == b"hello2\n"
    from tide import api  # dvc.api's config/remote_config (test_issue19_api_config_and_remote_config)

    assert api.read("hello.txt", repo=url, remote_config={"url": str(dvc_source.remote)}) == "hello2\n"
    conf = {"core": {"remote": "alt"}, "remote": {"alt": {"url": str(dvc_source.remote)}}}
    assert api.read("models/m.pkl", repo=url, config=conf, mode="rb") == b"m\n"
    imports = [("hello.txt", "i1", ["--remote-config", f"url={dvc_source.remote}", "jobs=2"]),
               ("data", "i2", ["--remote", "r", "--remote-config", f"url={dvc_source.remote}"]),
               ("models/m.pkl", "i3", ["--config", str(cfg), "--remote", "alt"])]
    dests = {}
    for name, tool in (("d", dvc), ("t", tide)):
        d = dests[name] = _dest(tmp_path, tool, name)
        for path, out, extra in imports:
            tool("import", url, path, "-o", out, *extra, cwd=d)
        git(d, "add", "-A")
        git(d, "commit", "-qm", "imports")
    for _, out, _ in imports:
        assert (dests["t"] / f"{out}.dvc").read_bytes() == (dests["d"] / f"{out}.dvc").read_bytes(), out
    assert (dests["t"] / "i2" / "sub" / "b.txt").read_bytes() == b"b\n"
    for name, other in (("d", tide), ("t", dvc)):  # each pulls the other's imports through their options
        shutil.rmtree(dests[name] / ".dvc" / "cache")
        for _, out, _ in imports:
            p = dests[name] / out
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        other("pull", cwd=dests[name])
        assert (dests[name] / "i1").read_bytes() == b"hello2\n"
        assert (dests[name] / "i2" / "a.txt").read_bytes() == b"a\n"
        assert (dests[name] / "i3").read_bytes() == b"m\n"
    r = tide("import", url, "data", "--config", str(cfg), "--remote", "r", "--remote-config", "a=b",
             cwd=dests["t"], check=False)
    assert r.returncode != 0 and "Can't specify config path together with both remote and remote_config" in r.stderr


def _changes(out):
    """The ``A``/``M`` lines of a checkout or pull, as (letter, path) pairs (tabs or spaces)."""
    return sorted(tuple(line.split()) for line in out.splitlines() if line[:1] in "AM" and line[1:2].isspace())


def test_issue19_pull_of_no_download_import(dvc_source, tide, dvc, tmp_path):
    """``pull`` and ``checkout`` of a ``--no-download`` import (dvc's or tide's) get its data from the
    source at ``rev_lock`` and say ``A``/``M`` as dvc does (found: checkout asked for --force, a second
    pull said ``A``); the .dvc file stays as it is (as dvc leaves it)."""
    runs = {}
    for name, maker, tool in (("d", dvc, dvc), ("dt", dvc, tide), ("t", tide, tide)):
        d = _dest(tmp_path, maker, name)
        maker("import", "--no-download", str(dvc_source.path), "data", cwd=d)
        maker("import", "--no-download", str(dvc_source.path), "hello.txt", "--rev", "v1", cwd=d)
        before = (d / "data.dvc").read_bytes()
        seen = [_changes(tool("pull", cwd=d).stdout), _changes(tool("checkout", cwd=d).stdout)]
        shutil.rmtree(d / "data")
        seen += [_changes(tool("checkout", cwd=d).stdout), _changes(tool("pull", cwd=d).stdout)]
        runs[name] = seen
        assert (d / "data" / "sub" / "b.txt").read_bytes() == b"b\n"
        assert (d / "hello.txt").read_bytes() == b"hello\n"
        assert (d / "data.dvc").read_bytes() == before
    assert runs["d"][0] == [("A", "data/"), ("A", "hello.txt")] and runs["d"][1][0] == ("M", "data/")
    assert runs["dt"] == runs["t"] == runs["d"]
    d = tmp_path / "t"
    (d / "hello.txt").write_bytes(b"changed\n")  # tide keeps what is not in the cache (dvc overwrites it)
    r = tide("checkout", cwd=d, check=False)
    assert r.returncode == 1 and "--force" in r.stderr and (d / "hello.txt").read_bytes() == b"changed\n"
    tide("pull", "--force", "hello.txt.dvc", cwd=d)
    assert (d / "hello.txt").read_bytes() == b"hello\n"


def test_issue19_import_of_an_import(dvc_source, tide, dvc, tmp_path):
    """A source whose data is itself imported (and neither in its cache nor on a remote): import, get
    and pull follow the chain to the first source at rev_lock, as dvc does; ls shows such files
    without a hash, as dvc does."""
    mid = _dest(tmp_path, tide, "mid")
    tide("import", str(dvc_source.path), "data", cwd=mid)
    git(mid, "add", "-A")
    git(mid, "commit", "-qm", "import")
    shutil.rmtree(mid / ".dvc" / "cache")
    url = f"file://{mid}"
    for args in (["-R", "--show-hash"],):
        assert tide("ls", url, *args).stdout == dvc("ls", url, *args).stdout, args
    a, b = _dest(tmp_path, dvc, "end-d"), _dest(tmp_path, tide, "end-t")
    for tool, d in ((dvc, a), (tide, b)):
        tool("import", url, "data", cwd=d)
    assert (b / "data.dvc").read_bytes() == (a / "data.dvc").read_bytes()
    assert (b / "data" / "sub" / "b.txt").read_bytes() == b"b\n"
    git(a, "add", "-A")
    git(a, "commit", "-qm", "chain")
    shutil.rmtree(a / ".dvc" / "cache")
    shutil.rmtree(a / "data")
    tide("pull", cwd=a)  # dvc's import of an import, pulled by tide
    assert (a / "data" / "a.txt").read_bytes() == b"a\n"
    tide("get", url, "data/sub/b.txt", "-o", str(tmp_path / "b.txt"))
    assert (tmp_path / "b.txt").read_bytes() == b"b\n"


def test_issue19_import_url_to_remote(tmp_path, tide, dvc):
    """``import-url --to-remote``: the .dvc file (and .gitignore) dvc writes, the data only on the remote
    (not in the workspace, not in the cache), pulled by the other tool; ``update --to-remote`` too."""
    ext = tmp_path / "ext"
    (ext / "dir" / "sub").mkdir(parents=True)
    (ext / "f.txt").write_bytes(b"one\n")
    (ext / "dir" / "sub" / "x").write_bytes(b"x\n")
    dests = {}
    for name, tool in (("d", dvc), ("t", tide)):
        d = dests[name] = _dest(tmp_path, tool, name)
        tool("remote", "add", "-d", "r", str(tmp_path / f"remote-{name}"), cwd=d)
        tool("import-url", "--to-remote", str(ext / "f.txt"), cwd=d)
        tool("import-url", "--to-remote", str(ext / "dir"), "dd", cwd=d)
        assert not (d / "f.txt").exists() and not (d / "dd").exists()
        git(d, "add", "-A")
        git(d, "commit", "-qm", "to-remote")
    for f in ("f.txt.dvc", "dd.dvc", ".gitignore"):
        assert (dests["t"] / f).read_bytes() == (dests["d"] / f).read_bytes(), f
    assert not (dests["t"] / ".dvc" / "cache").exists()
    dvc("pull", cwd=dests["t"])
    tide("pull", cwd=dests["d"])
    for d in dests.values():
        assert (d / "dd" / "sub" / "x").read_bytes() == b"x\n" and (d / "f.txt").read_bytes() == b"one\n"
    (ext / "f.txt").write_bytes(b"two\n")
    assert "Importing" in tide("update", "--to-remote", "f.txt.dvc", cwd=dests["t"]).stdout
    shutil.rmtree(dests["t"] / ".dvc" / "cache")
    (dests["t"] / "f.txt").unlink()
    tide("pull", "f.txt.dvc", cwd=dests["t"])
    assert (dests["t"] / "f.txt").read_bytes() == b"two\n"


def _git_add(out):
    return {f for line in out.splitlines() if line.strip().startswith("git add ") for f in line.split()[2:]}


def test_issue19_messages_relative_to_cwd(dvc_source, tide, dvc, tmp_path):
    """Run from a sub-directory, import/update/add name paths relative to it, as dvc does (found:
    tide printed repository-relative paths, so the ``git add`` it suggested failed there); an update
    that imports again says so as dvc (tide said "Updated ...")."""
    runs = {}
    for name, tool in (("d", dvc), ("t", tide)):
        sub = _dest(tmp_path, tool, name) / "sub"
        sub.mkdir()
        (sub / "q.txt").write_bytes(b"q\n")
        runs[name] = [_git_add(tool("import", str(dvc_source.path), "data", "-o", "../top", cwd=sub).stdout),
                      _git_add(tool("import", str(dvc_source.path), "hello.txt", cwd=sub).stdout),
                      _git_add(tool("add", "q.txt", cwd=sub).stdout),
                      sorted(tool("update", "hello.txt.dvc", "../top.dvc", cwd=sub).stdout.splitlines()),  # any order
                      tool("update", "--rev", "v1", "hello.txt.dvc", cwd=sub).stdout]  # dvc's "Importing" line
    assert runs["t"] == runs["d"]
    assert runs["t"][0] == {"../top.dvc", "../.gitignore"}
    r = tide("import", str(dvc_source.path), "hello.txt", cwd=tmp_path / "t" / "sub", check=False)
    assert r.returncode == 1 and "'hello.txt' already exists" in r.stderr
    assert r.stdout == ""  # refused before "Importing ...", as dvc
