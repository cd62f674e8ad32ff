"""issue 19: ``tide ls`` lists what ``dvc ls`` lists, byte for byte, for sources made by dvc or tide."""

from __future__ import annotations

import os

import pytest

LS_ARGS = [
    [], ["-R"], ["--json"], ["--size"], ["--size", "-R"], ["--dvc-only"], ["--dvc-only", "-R", "--size"],
    ["-R", "--json", "--size"], ["--show-hash"], ["--dvc-only", "--json"], ["data", "--json", "-R"],
    ["data", "--size"], ["data/sub", "--json"], ["models/m.pkl"], ["data/a.txt", "--json"], ["gitdir", "--json"],
]


@pytest.mark.parametrize("args", LS_ARGS, ids=lambda a: " ".join(a) or "plain")
def test_issue19_ls_same_as_dvc_file_url(source, tide, dvc, args):
    want = dvc("ls", source.url, *args).stdout
    got = tide("ls", source.url, *args).stdout
    assert got == want


@pytest.mark.parametrize("rev", ["v1", "main", "commit"])
def test_issue19_ls_same_as_dvc_at_rev(dvc_source, tide, dvc, rev):
    rev = dvc_source.v1 if rev == "commit" else rev
    for args in (["-R", "--json"], ["--size"], ["data", "--size"]):
        want = dvc("ls", str(dvc_source.path), *args, "--rev", rev).stdout
        assert tide("ls", str(dvc_source.path), *args, "--rev", rev).stdout == want
        assert tide("list", dvc_source.url, *args, "--rev", rev).stdout == want


def test_issue19_ls_local_path_reads_the_workspace(fresh_source, tide, dvc):
    """A local path without --rev is its workspace, as dvc reads it (uncommitted files included)."""
    (fresh_source.path / "new.txt").write_text("new\n")
    for args in ([], ["--json"], ["-R", "--size"], ["data", "--size"], ["--dvc-only", "-R", "--json"]):
        assert tide("ls", str(fresh_source.path), *args).stdout == dvc("ls", str(fresh_source.path), *args).stdout


@pytest.mark.parametrize("args,what", [
    (["{src}", "nope"], "nope"), (["{src}", "--rev", "nope"], "nope"), (["{tmp}/missing"], "missing"),
    (["file://{tmp}/missing"], "missing"), (["http://127.0.0.1:9/x.git"], "127.0.0.1"),
])
def test_issue19_ls_errors_one_line(dvc_source, tide, tmp_path, args, what):
    before = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    argv = [a.format(src=dvc_source.path, tmp=tmp_path) for a in args]
    r = tide("ls", *argv, check=False)
    assert r.returncode == 1  # dvc exits 255: tide's convention (docs/versioning.md), 1 for an error
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: failed to list") and what in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    left = {n for n in set(os.listdir(os.environ.get("TMPDIR", "/tmp"))) - before if n.startswith("tide-source-")}
    assert not left  # the temporary clone is removed


def test_issue19_ls_tree_and_level_same_as_dvc(dvc_source, tide, dvc):
    """``-T/--tree`` (dvc's tree lines, the top's git tree size) and ``-L/--level`` with and without ``-R``."""
    for args in (["-T", "--size", "--show-hash"], ["-T", "-L", "1", "--dvc-only", "--size"], ["data/", "-T"],
                 ["-R", "-L", "2", "--size"], ["models", "-T", "--size", "--rev", "v1"]):
        want = dvc("ls", dvc_source.url, *args).stdout
        assert tide("ls", dvc_source.url, *args).stdout == want, args
    r = tide("ls", dvc_source.url, "-T", "--json", check=False)
    assert r.returncode == 2 and r.stderr.strip() == "ERROR: Cannot use --tree and --json options together."


def test_issue19_ls_url_same_as_dvc(tmp_path, tide, dvc):
    """``ls-url``: dvc's order (a level's files, then its directories, as the filesystem lists them),
    ``-R``, ``-L``, ``--size``, ``-T``; a file is shown by its absolute path."""
    from tests.foundation.conftest import make_tree

    top = tmp_path / "u"
    make_tree(top, {"z.txt": b"1\n", "a.txt": b"22\n", "d/m": b"3\n", "d/e/n": b"4\n", "d/e/o": b"55\n"})
    (top / "empty").mkdir()
    for args in (["."], ["-R", "--size", "."], ["-R", "-L", "2", "."], ["-T", "--size", "."], ["-T", "-L", "1", "d"],
                 ["z.txt", "--size"]):
        assert tide("ls-url", *args, cwd=top).stdout == dvc("ls-url", *args, cwd=top).stdout, args
    r = tide("list-url", "nope", cwd=top, check=False)
    assert r.returncode == 1 and r.stderr.strip() == "ERROR: The path 'nope' does not exist"


def test_issue19_source_dvcignore_respected(tmp_path, tide, dvc):
    """The source's .dvcignore files (top and nested) hide what they ignore from ls (and from a directory
    get), as dvc's DVCFileSystem does; a file named by itself is still got, as dvc gets it."""
    from tests.foundation.conftest import make_tree
    from tests.registry.conftest import git

    src = tmp_path / "ign"
    make_tree(src, {".dvcignore": b"# top\n*.log\nbuild/\n", "a.txt": b"a\n", "x.log": b"log\n",
                    "build/o.bin": b"o\n", "sub/.dvcignore": b"secret*\n", "sub/keep.txt": b"k\n",
                    "sub/secret.txt": b"s\n", "sub/deep/secret2": b"s2\n", "sub/deep/fine": b"f\n"})
    git(tmp_path, "init", "-q", "-b", "main", str(src))
    tide("init", cwd=src)
    git(src, "add", "-A")
    git(src, "commit", "-qm", "one")
    for url, args in ((f"file://{src}", ["-R"]), (f"file://{src}", ["-T"]), (str(src), ["sub", "--json"])):
        assert tide("ls", url, *args).stdout == dvc("ls", url, *args).stdout, (url, args)
    for tool, name in ((tide, "t"), (dvc, "d")):
        tool("get", str(src), "sub", "-o", str(tmp_path / name))
    got = {os.path.relpath(os.path.join(d, f), tmp_path / "t") for d, _, fs in os.walk(tmp_path / "t") for f in fs}
    assert got == {"keep.txt", "deep/fine"}  # .dvcignore is one of dvc's files, left out as dvc leaves it
    assert got == {os.path.relpath(os.path.join(d, f), tmp_path / "d") for d, _, fs in os.walk(tmp_path / "d")
                   for f in fs}
    tide("get", str(src), "x.log", "-o", str(tmp_path / "x.log"))
    assert (tmp_path / "x.log").read_bytes() == b"log\n"
