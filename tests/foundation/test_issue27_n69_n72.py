"""Issue 27: divergences N69-N72 the differential tester found (seed 61801, sequences 308, 59, 417 and 603), each
scenario run on both tools in fresh repositories (``git init; T init; T remote add -d r ../remote; commit``).

- N69 ``diff``: a directory above an output is an entry with no hash, never compared (dvc's data index), and a path
  is reported once per output above it (``tide.ops.diff.Side.add_parents``, ``_walks``).
- N70 ``move`` replaces an untracked file or symlink at the destination, as dvc's ``fs.move``; an existing directory
  there is refused (deliberate: dvc moves the data into it under a temporary name) (``tide.ops.move.move``).
- N71 ``checkout`` refuses data it would lose before writing anything (``tide.ops.checkout._refuse_losses``).
- N72 ``status`` writes no 2.x-layout ``.dir`` manifest of an output ``dvc.lock`` does not record (deliberate).
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import git


def _commit(r, msg="c"):
    git(r.path, "add", "-A")
    git(r.path, "commit", "-qm", msg)


def _same_json(both, *args):
    got = [r.j(*args) for r in both]
    assert got[0] == got[1], (args, got)
    return got[0]


def test_issue27_n69_n71_n72_diff_above_an_output_checkout_refusal_status(both):
    """N69, seed 61801 sequence 308: ``remove D.dvc; add D/e/f`` (same content): no change, not ``deleted D/``; a
    file output replaced by a directory holding an output is reported ``added`` once per output above it, as dvc.
    Then N71 and N72 in the same repositories (one setup: the suite's time)."""
    for r in both:
        r.sh("mkdir -p D/e && printf 'no newline' > D/e/f && echo x > x")
        r.t("add", "-q", "D", "x")
        _commit(r)
        r.t("remove", "-q", "D.dvc", "x.dvc")
        r.sh("rm x && mkdir x && echo y > x/y")
        r.t("add", "-q", "D/e/f", "x/y")
    assert _same_json(both, "diff", "--json") == {
        "added": [{"path": "x/y"}, {"path": "x/y"}], "deleted": [], "modified": [], "renamed": [], "not in cache": []}
    for r in both:
        r.sh("rm -rf x D .gitignore")  # x and D gone: x's file output is deleted as usual
        _commit(r)
    _n71_checkout_refuses_before_writing_anything(both)
    _n72_status_writes_no_legacy_manifest(both)


def test_issue27_n70_move_replaces_an_untracked_file_at_the_destination(both):
    """Seed 61801 sequence 59: ``add --no-commit f``, then ``move f data`` where ``data/f`` is an untracked file:
    dvc renames over it (and commits and links the output); tide refused ("exists already")."""
    for r in both:
        r.t("config", "cache.type", "symlink")
        r.sh("printf 'new\\n' > f && mkdir data && : > data/f && ln -s nowhere g && echo g > h")
        r.t("add", "-q", "--no-commit", "f", "h")
        r.t("move", "-q", "f", "data")
        r.t("move", "-q", "h", "g")  # a (dangling) symlink at the destination is replaced too
    seen = []
    for r in both:
        seen.append((r.ls(), sorted(os.listdir(r.p("data"))), os.readlink(r.p("data/f")).rsplit("/", 4)[1:],
                     Path(r.p("g")).read_text(), r.cache_files()))
    assert seen[0] == seen[1]
    assert _same_json(both, "status", "--json") == {}
    tide = both[1]  # deliberate: an existing directory at the destination is refused (dvc moves into it)
    tide.sh("mkdir -p dd/k && echo k > k")
    tide.t("add", "-q", "k")
    assert tide.t("move", "-q", "k", "dd", check=False).returncode == 1
    assert os.listdir(tide.p("dd/k")) == [] and os.path.isfile(tide.p("k.dvc"))


def _n71_checkout_refuses_before_writing_anything(both):
    """Seed 61801 sequence 417: ``a`` deleted and ``b`` changed (not in the cache): ``checkout`` refuses because of
    ``b`` before anything is written, so ``a`` stays deleted, as dvc (tide restored ``a``, then refused)."""
    for r in both:
        r.sh("echo 1 > a && echo 2 > b")
        r.t("add", "-q", "a", "b")
        r.sh("rm a && echo 3 > b")
        assert r.t("checkout", "-q", check=False).returncode != 0
        assert not os.path.exists(r.p("a")) and Path(r.p("b")).read_text() == "3\n"
    assert _same_json(both, "status", "--json") == {
        "a.dvc": [{"changed outs": {"a": "deleted"}}], "b.dvc": [{"changed outs": {"b": "modified"}}]}


def _n72_status_writes_no_legacy_manifest(both):
    """Seed 61801 sequence 603 (deliberate): a directory output added to a stage ``dvc.lock`` already records
    without it; dvc's ``status`` hashes it as a 2.x output and writes its manifest to ``.dvc/cache/xx/``, tide's
    status writes nothing. Both report the same."""
    yaml = "stages:\n  s:\n    cmd: echo o > o\n    outs: [o]\n"
    for r in both:
        r.sh(f"printf '{yaml}' > dvc.yaml")
        r.t("repro", "-q")
        r.sh(f"printf '{yaml}' | sed 's/outs: \\[o\\]/outs: [o, od]/' > dvc.yaml && mkdir od && echo f > od/f")
    _same_json(both, "status", "--json")

    def legacy(r):
        base = r.p(".dvc/cache")
        return sorted(f"{d}/{f}" for d in os.listdir(base) if len(d) == 2 for f in os.listdir(os.path.join(base, d)))

    dvc, tide = both
    assert [n.endswith(".dir") for n in legacy(dvc)] == [True] and legacy(tide) == []
