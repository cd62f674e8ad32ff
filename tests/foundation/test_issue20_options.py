"""Issue 20: the target-selection options of push/pull/fetch, checkout and commit (``-R``, ``-d``,
``--glob``, ``--allow-missing``, ``--max-size``, ``--type``), run by tide and by real dvc 3.67.1 on the
same repository and compared: exit status, the objects moved, the files restored or recorded.

One repository per tool for the whole module (lean: each scenario resets only the cache, the remote
or the workspace outputs it needs)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import _run, dvc_bin, git
from tests.foundation.conftest import ToolRepo

PIPE = """stages:
  prep:
    cmd: cp top p.out
    deps: [top]
    outs: [p.out]
  train:
    cmd: sh train.sh
    deps: [p.out]
    outs: [model]
    metrics: [m.json]
    plots: [pl.csv]
"""

WS_OUTS = ["d1/f1", "d1/sub/f2", "top", "big", "p.out", "model", "m.json", "pl.csv", "d2"]


@pytest.fixture(scope="module")
def repos(tmp_path_factory):
    base = tmp_path_factory.mktemp("opts20")
    exe = dvc_bin()
    runners = (("dvc", lambda *a, cwd=None, check=True, input=None, env=None: _run([exe, *map(str, a)], cwd, check,
                                                                                    input, env)),
               ("tide", lambda *a, cwd=None, check=True, input=None, env=None: _run(
                   [sys.executable, "-m", "tide", *map(str, a)], cwd, check, input, env)))
    out = []
    for name, run in runners:
        d = base / name
        d.mkdir()
        (base / f"remote-{name}").mkdir()
        subprocess.run(["git", "init", "-q", "-b", "main", str(d)], check=True)
        r = ToolRepo(name, run, d)
        r.t("init", "-q")
        r.t("remote", "add", "-q", "-d", "r", f"../remote-{name}")
        r.sh("mkdir -p d1/sub && echo f1 > d1/f1 && echo f2 > d1/sub/f2 && echo top > top"
             " && head -c 300 /dev/zero | tr '\\0' b > big && mkdir d2 && echo a > d2/a && echo b > d2/b")
        r.t("add", "-q", "d1/f1", "d1/sub/f2", "top", "big", "d2")
        with open(r.p("dvc.yaml"), "w") as f:
            f.write(PIPE)
        with open(r.p("train.sh"), "w") as f:
            f.write("cat p.out p.out > model && echo '{\"acc\": 1}' > m.json && printf 'x,y\\n1,2\\n' > pl.csv\n")
        r.t("repro", "-q")
        git(d, "add", "-A")
        git(d, "commit", "-qm", "data")
        r.t("push", "-q")
        r.sh(f"cp -a .dvc/cache ../cache-{name}.orig && cp -a ../remote-{name} ../remote-{name}.orig")
        out.append(r)
    return out


def _objects(base):
    base = os.path.join(base, "files", "md5")
    return sorted(os.path.relpath(os.path.join(d, f), base) for d, _, fs in os.walk(base) for f in fs)


def _remote(r):
    return os.path.join(os.path.dirname(r.path), f"remote-{r.name}")


def _present(r):
    return [p for p in WS_OUTS if os.path.exists(r.p(p))]


def _fresh_clone(r):
    """The cache and the workspace outputs gone, as in a fresh clone; the remote holds everything."""
    rem = _remote(r)
    r.sh(f"rm -rf .dvc/cache .dvc/tmp {rem} " + " ".join(WS_OUTS) + f" && cp -a {rem}.orig {rem}")


def _full_cache(r):
    """Every object in the cache, the remote empty (and no tool remembers what it held)."""
    rem = _remote(r)
    r.sh(f"rm -rf .dvc/cache .dvc/tmp {rem}/* && cp -a ../cache-{r.name}.orig .dvc/cache")


def _same(repos, fn):
    seen = [fn(r) for r in repos]
    assert seen[0] == seen[1], seen
    return seen[0]


@pytest.mark.parametrize("argv", [
    ["fetch", "-R", "d1"],
    ["fetch", "--with-deps", "top.dvc", "model"],
    ["fetch", "--max-size", "100"],
    ["fetch", "--type", "metrics"],
    ["fetch", "--type", "plots", "--type", "metrics"],
    ["pull", "--glob", "d1/*.dvc"],
    ["pull", "-d", "model"],
])
def test_issue20_fetch_pull_select_the_targets_as_dvc(repos, argv):
    def go(r):
        _fresh_clone(r)
        res = r.t(*argv, check=False)
        return res.returncode, _objects(r.p(".dvc/cache")), _present(r)

    rc, objs, present = _same(repos, go)
    assert rc == 0 and objs


@pytest.mark.parametrize("argv", [["push", "-d", "train"], ["push", "--glob", "d1/**/*.dvc"],
                                  ["push", "-R", "-d", "d1", "train"]])
def test_issue20_push_selects_the_targets_as_dvc(repos, argv):
    def go(r):
        _full_cache(r)
        res = r.t(*argv, check=False)
        return res.returncode, _objects(_remote(r))

    rc, objs = _same(repos, go)
    assert rc == 0 and objs


def test_issue20_glob_without_matches_fails_as_dvc(repos):
    def go(r):
        res = r.t("push", "--glob", "nothing*", check=False)
        return res.returncode != 0, res.stderr.count("\n") <= 2

    assert _same(repos, go) == (True, True)


def test_issue20_pull_allow_missing_skips_what_the_remote_lacks(repos):
    def go(r):
        _fresh_clone(r)
        r.sh(f"rm -rf {_remote(r)}/files/md5/57")  # d1/sub/f2's object ("f2\\n": 575c56...)
        strict = r.t("pull", "-R", "d1", check=False).returncode
        r.sh("rm -rf .dvc/cache .dvc/tmp " + " ".join(WS_OUTS))
        lenient = r.t("pull", "--allow-missing", "-R", "d1", check=False).returncode
        return strict, lenient, _present(r)

    strict, lenient, present = _same(repos, go)
    assert strict == 1 and lenient == 0 and present == ["d1/f1"]


def test_issue20_checkout_and_commit_select_the_targets_as_dvc(repos):
    def go(r):
        _full_cache(r)
        r.sh("rm -rf " + " ".join(WS_OUTS))
        seen = []
        for argv in (["checkout", "-R", "d1"], ["checkout", "-d", "prep"], ["checkout", "--with-deps", "train"]):
            seen.append((r.t(*argv, check=False).returncode, _present(r)))
        r.sh("rm -f top && rm -rf .dvc/cache/files/md5/" + _top_dir(r))
        # exit status: dvc 255 (CheckoutError), tide 1, a known difference outside these options
        seen.append((r.t("checkout", "top.dvc", check=False).returncode != 0, _present(r)))
        seen.append((r.t("checkout", "--allow-missing", "-d", "prep", check=False).returncode, _present(r)))
        r.sh(f"cp -a ../cache-{r.name}.orig/files/md5/{_top_dir(r)} .dvc/cache/files/md5/{_top_dir(r)}")
        r.sh("echo changed > d1/f1 && echo changed > d1/sub/f2 && echo changed > top")
        res = r.t("commit", "-f", "-R", "d1", check=False)
        seen.append((res.returncode, [_read(r, p) for p in ("d1/f1.dvc", "d1/sub/f2.dvc", "top.dvc")]))
        res = r.t("commit", "-f", "-d", "prep", check=False)
        seen.append((res.returncode, [_read(r, p) for p in ("top.dvc", "dvc.lock")]))
        r.sh("git checkout -q -- . && rm -rf " + " ".join(WS_OUTS))
        r.t("checkout", "-q", "-f")
        r.sh("rm d2/a && echo zz > d2/b && echo new > d2/c")
        for argv in (["checkout", "-f", "--summary", "d2"], ["checkout", "--summary"]):
            res = r.t(*argv, check=False)
            seen.append((res.returncode, res.stdout))
        return seen

    seen = _same(repos, go)
    assert seen[0] == (0, ["d1/f1", "d1/sub/f2"])
    assert seen[3][0] is True and seen[4][0] == 0
    assert seen[-2:] == [(0, "1 file modified, 1 file added and 1 file deleted\n"), (0, "No changes.\n")]


def _top_dir(r):
    with open(r.p("top.dvc")) as f:
        md5 = next(line.split()[-1] for line in f if "md5:" in line)
    return f"{md5[:2]}/{md5[2:]}"


def _read(r, rel):
    with open(r.p(rel), encoding="utf-8") as f:
        return f.read()
