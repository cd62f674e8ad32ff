"""Issue 22, `exp show` on many experiments (the bench row: `bench/run.py --only exp`): the commits are read
together (a fixed number of git calls however many experiments), each identical file read and each
dvc.yaml parsed once, with the same result as reading every commit on its own."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.conftest import git

DVC_YAML = """stages:
  train:
    cmd: python3 train.py
    deps:
    - train.py
    - src/deep/util.py
    params:
    - train
    outs:
    - model.txt
    metrics:
    - metrics.json:
        cache: false
"""


def _data(b: bytes) -> bytes:
    return b"data %d\n" % len(b) + b + b"\n"


def _commit(ref: str, when: int, parent: str | None, files: dict[str, str], mark: int = 0) -> bytes:
    out = f"commit {ref}\n" + (f"mark :{mark}\n" if mark else "") + f"committer t <t@example.com> {when} +0000\n"
    body = [out.encode(), _data(b"c"), f"from {parent}\n".encode() if parent else b""]
    for path, text in files.items():
        body.append(f"M 100644 inline {path}\n".encode() + _data(text.encode()))
    return b"".join(body) + b"\n"


def _files(lr: float, n: int) -> dict[str, str]:
    return {"params.yaml": f"train:\n  lr: {lr}\n  n: {n}\n",
            "metrics.json": json.dumps({"score": lr * n}),
            "dvc.lock": "schema: '2.0'\nstages:\n  train:\n    cmd: python3 train.py\n    params:\n"
                        f"      params.yaml:\n        train:\n          lr: {lr}\n          n: {n}\n"}


def _add_experiments(d, bases: int, exps: int, start: int = 0) -> None:
    """``bases`` commits on main with ``exps`` experiments each, written by git fast-import."""
    t0 = 1_767_225_600 + start * 1000
    stream = [_commit("refs/heads/main", t0 + 100 * i, "refs/heads/main^0" if i == 0 else None,
                      _files(0.1 + i + start, 1), i + 1) for i in range(bases)]
    marks = os.path.join(d, ".git", "test-marks")
    subprocess.run(["git", "fast-import", "--quiet", f"--export-marks={marks}"], cwd=d, input=b"".join(stream),
                   check=True)
    with open(marks) as f:
        shas = dict(line.split() for line in f)
    stream = []
    for i in range(bases):
        base = shas[f":{i + 1}"]
        for j in range(exps):
            stream.append(_commit(f"refs/exps/{base[:2]}/{base[2:]}/e{start}-{i}-{j}", t0 + 100 * i + j + 1, base,
                                  _files(0.1 + i + start, j + 2)))
    subprocess.run(["git", "fast-import", "--quiet"], cwd=d, input=b"".join(stream), check=True)
    git(d, "reset", "-q", "--hard", "main")


@pytest.fixture
def exp_repo(repo_dir):
    d = repo_dir
    (d / "dvc.yaml").write_text(DVC_YAML)
    (d / "train.py").write_text("print(1)\n")
    (d / "src" / "deep").mkdir(parents=True)
    (d / "src" / "deep" / "util.py").write_text("X = 1\n")
    for name, text in _files(0.05, 1).items():
        (d / name).write_text(text)
    git(d, "add", "-A")
    git(d, "commit", "-qm", "pipeline")
    return d


def _collect_counting(d, monkeypatch):
    from tide.core.git import Git
    from tide.ops import exp_show
    from tide.pipeline import definition
    from tide.workspace.repo import Repo

    calls = {"git": 0, "parse": 0}
    run, parse = Git.run, definition.parse

    def counting_run(self, *a, **k):
        calls["git"] += 1
        return run(self, *a, **k)

    def counting_parse(*a, **k):
        calls["parse"] += 1
        return parse(*a, **k)

    monkeypatch.setattr(Git, "run", counting_run)
    monkeypatch.setattr(definition, "parse", counting_parse)
    getattr(definition, "_MEMO", {}).clear()  # parsed pipelines kept by earlier tests of this process
    states = exp_show.collect(Repo.find(str(d)), all_commits=True, use_cache=False)
    monkeypatch.setattr(Git, "run", run)
    monkeypatch.setattr(definition, "parse", parse)
    return states, calls


def test_issue22_exp_show_git_calls_do_not_grow_with_experiments(exp_repo, monkeypatch):
    """Before: three git processes per commit (rev-parse, ls-tree, cat-file) and dvc.yaml parsed three
    times per commit; now the same few calls for 6 or 27 commits, and the one dvc.yaml parsed once."""
    from tide.ops import exp_show
    from tide.workspace.repo import Repo

    _add_experiments(exp_repo, 2, 2)
    few, few_calls = _collect_counting(exp_repo, monkeypatch)
    _add_experiments(exp_repo, 3, 6, start=5)
    many, many_calls = _collect_counting(exp_repo, monkeypatch)
    assert sum(len(s["experiments"] or []) for s in many) == 2 * 2 + 3 * 6
    assert many_calls["git"] == few_calls["git"] <= 16
    assert many_calls["parse"] == 1  # the workspace and every commit hold the same dvc.yaml

    # the same data as reading each commit on its own (no store, no shared parse)
    repo = Repo.find(str(exp_repo))
    for state in many[1:]:
        for rev in [state, *(r["revs"][0] for r in (state["experiments"] or [])[:1])]:
            alone = exp_show.collect_rev(repo, rev["rev"], rev["data"]["timestamp"], use_cache=False)
            assert alone["data"] == rev["data"]
            assert rev["data"]["metrics"]["metrics.json"]["data"]["score"] > 0
            assert set(rev["data"]["deps"]) == {"train.py", "src/deep/util.py"}


def test_issue22_rev_store_reads_what_git_reads(exp_repo):
    """RevStore (trees walked through cat-file, objects by id) lists and reads what ls-tree and
    cat-file per commit give: nested directories, an executable, a symlink, a repository in a subdirectory."""
    from tide.core.git import Git
    from tide.pipeline.revfs import RevReader, RevStore
    from tide.workspace.repo import Repo

    d = exp_repo
    (d / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(d / "run.sh", 0o755)
    os.symlink("train.py", d / "link.py")
    (d / "sub" / "a" / "b").mkdir(parents=True)
    (d / "sub" / "a" / "b" / "f.txt").write_text("deep\n")
    git(d, "add", "-A")
    git(d, "commit", "-qm", "more")
    (d / "sub" / "a" / "b" / "f.txt").write_text("changed\n")
    git(d, "commit", "-qam", "changed")
    g = Git(str(d))
    shas = git(d, "rev-list", "HEAD").split()
    store = RevStore(Repo.find(str(d)), [*shas, "0" * 40])  # an unknown commit is left out
    assert set(store.commits) == set(shas)
    for sha in shas:
        names = g.ls_files(sha)
        assert sorted(store.tree(sha)) == sorted(names)
        want = g.read_files(sha, names)
        assert {n: store.read(sha, n) for n in names} == want
    # a reader of the store in a repository that is a subdirectory of the git work tree
    (d / "sub" / ".dvc").mkdir()
    (d / "sub" / ".dvc" / "config").write_text("")
    git(d, "add", "-A")
    git(d, "commit", "-qm", "sub repo")
    head = git(d, "rev-parse", "HEAD").strip()
    sub = Repo.find(str(d / "sub"))
    plain, batched = RevReader(sub, head), RevReader(sub, head, RevStore(sub, [head]))
    assert batched.files == plain.files == {".dvc/config", "a/b/f.txt"}
    path = os.path.join(sub.root, "a", "b", "f.txt")
    assert batched.read_bytes(path) == plain.read_bytes(path) == b"changed\n"


def test_issue22_pipeline_shared_only_while_params_cannot_change_it(tmp_path):
    """A dvc.yaml without interpolation is parsed once for all commits, but its params file is still
    checked each time; one with ${...} is parsed again when the params change."""
    from tide.core.errors import FileFormatError
    from tide.pipeline import definition

    root = str(tmp_path)
    files: dict[str, str] = {}

    class Reader:
        def read_text(self, p):
            return files.get(os.path.relpath(p, root))

    y = os.path.join(root, "dvc.yaml")
    files["dvc.yaml"] = "stages:\n  s:\n    cmd: echo hi\n"
    files["params.yaml"] = "a: 1\n"
    first = definition.load(y, root, Reader())
    files["params.yaml"] = "a: 2\n"
    assert definition.load(y, root, Reader()) is first
    files["params.yaml"] = "- not a mapping\n"
    with pytest.raises(FileFormatError, match="expected a dictionary"):
        definition.load(y, root, Reader())
    files["dvc.yaml"] = "stages:\n  s:\n    cmd: echo ${a}\n"
    files["params.yaml"] = "a: 1\n"
    assert definition.load(y, root, Reader()).stages[0].cmd == "echo 1"
    files["params.yaml"] = "a: 2\n"
    assert definition.load(y, root, Reader()).stages[0].cmd == "echo 2"


def test_issue22_yaml_read_again_is_a_copy():
    """A text parsed once and kept (yamlio's memo) is handed out as a copy: changing what one caller got
    never changes what the next gets; aliases stay shared inside one copy."""
    from tide.core import yamlio

    text = "a: &x [1, {b: 2}]\nc: *x\nd: {e: [3]}\n"
    one = yamlio.loads(text, "t.yaml")
    assert one["a"] is one["c"]
    one["a"][1]["b"] = 99
    one["d"]["e"].append(4)
    two = yamlio.loads(text, "t.yaml")
    assert two == {"a": [1, {"b": 2}], "c": [1, {"b": 2}], "d": {"e": [3]}}
    assert two["a"] is two["c"]
    with pytest.raises(Exception, match="t.yaml"):
        yamlio.loads("a: [1\n", "t.yaml")


def test_issue22_exp_show_workspace_row_kept_until_what_it_read_changes(exp_repo, monkeypatch):
    """The workspace row is reused (no YAML parsed) only while every file it read, every directory it
    listed and the dvc.yaml/.dvc files found are unchanged; a file changed in the last 2 s is never kept."""
    import time

    from tide.ops import exp_show
    from tide.workspace.repo import Repo

    d = exp_repo
    repo = Repo.find(str(d))
    made = []
    rev_data = exp_show._rev_data

    def counting(r, rev, *a, **k):
        made.append(rev)
        return rev_data(r, rev, *a, **k)

    monkeypatch.setattr(exp_show, "_rev_data", counting)

    def age(*names, by=10):
        for n in names:
            t = time.time() - by
            os.utime(d / n, (t, t))

    def workspace():
        made.clear()
        state = exp_show.collect(repo)[0]
        return state["data"]["params"]["params.yaml"]["data"]["train"], made.count("workspace")

    age("dvc.yaml", "params.yaml", "metrics.json", "dvc.lock")
    assert workspace() == ({"lr": 0.05, "n": 1}, 1)
    assert workspace() == ({"lr": 0.05, "n": 1}, 0)  # kept
    (d / "params.yaml").write_text("train:\n  lr: 0.07\n  n: 1\n")  # same size
    age("params.yaml", by=5)
    assert workspace() == ({"lr": 0.07, "n": 1}, 1)
    assert workspace() == ({"lr": 0.07, "n": 1}, 0)
    (d / "params.yaml").write_text("train:\n  lr: 0.08\n  n: 1\n")  # just now: read, never kept
    assert workspace() == ({"lr": 0.08, "n": 1}, 1)
    assert workspace() == ({"lr": 0.08, "n": 1}, 1)
    age("params.yaml")
    assert workspace()[1] == 1
    (d / "sub").mkdir()
    (d / "sub" / "dvc.yaml").write_text("stages:\n  s:\n    cmd: echo\n    params:\n    - ../params.yaml:\n"
                                        "      - train.n\n")
    assert workspace()[1] == 1  # a new dvc.yaml: read again
    assert exp_show.collect(repo, use_cache=False)[0] == exp_show.collect(repo)[0]


def test_issue22_exp_show_warm_run_reads_one_file_and_no_git_log(exp_repo, monkeypatch):
    """A warm run takes the commits of the last run from one file (shown.json) and their dates from it:
    no cache file per commit, no ``git log``; for-each-ref gives the experiments' dates and parents. A new
    experiment, a commit missing from shown.json or a damaged shown.json fall back to the per-commit path,
    with the same result as reading everything afresh."""
    from tide.core.git import Git
    from tide.ops import exp_show
    from tide.workspace.repo import Repo

    _add_experiments(exp_repo, 3, 4)
    repo = Repo.find(str(exp_repo))
    fresh = exp_show.collect(repo, all_commits=True, use_cache=False)
    assert exp_show.collect(repo, all_commits=True) == fresh  # fills the caches
    calls: list[str] = []
    logged: list[str] = []
    opened: list[str] = []
    run, cached = Git.run, exp_show._cached

    def counting_run(self, *a, **k):
        calls.append(a[0])
        if a[0] == "log":
            logged.extend(x for x in a if len(x) == 40)
        return run(self, *a, **k)

    def counting_cached(r, rev):
        opened.append(rev)
        return cached(r, rev)

    monkeypatch.setattr(Git, "run", counting_run)
    monkeypatch.setattr(exp_show, "_cached", counting_cached)
    assert exp_show.collect(repo, all_commits=True) == fresh
    assert calls == ["for-each-ref", "rev-list"] and opened == []
    # a new commit with an experiment: both read, git's date only for the commit (the experiment's from
    # for-each-ref), then both listed in shown.json
    _add_experiments(exp_repo, 1, 1, start=7)
    calls.clear()
    now = exp_show.collect(repo, all_commits=True)
    assert logged == [git(exp_repo, "rev-parse", "HEAD").strip()]
    assert now == exp_show.collect(repo, all_commits=True, use_cache=False)
    assert sum(len(s["experiments"] or []) for s in now) == 3 * 4 + 1
    calls.clear()
    opened.clear()
    assert exp_show.collect(repo, all_commits=True) == now and opened == [] and "log" not in calls
    # a commit listed twice (a branch at an experiment's tip: a baseline too), its own cache file gone:
    # both rows from shown.json, with its date
    tip = now[1]["experiments"][0]["revs"][0]["rev"]
    git(exp_repo, "branch", "at-tip", tip)
    os.unlink(exp_show._cache_path(repo, tip))
    twice = exp_show.collect(repo, all_commits=True)
    assert twice == exp_show.collect(repo, all_commits=True, use_cache=False)
    assert [s["data"]["timestamp"] for s in twice if s["rev"] == tip] == [now[1]["experiments"][0]["revs"][0]
                                                                           ["data"]["timestamp"]]
    now = exp_show.collect(repo, all_commits=True)
    # a damaged shown.json: each commit's own cache file, and git's dates only for what is not cached
    with open(exp_show._shown_path(repo), "w") as f:
        f.write('{"v": "1", "data": {')
    calls.clear()
    assert exp_show.collect(repo, all_commits=True) == now and len(set(opened)) >= 14
    assert "log" not in calls


def test_issue22_exp_show_dates_as_datetime_prints_them():
    """``_iso`` and ``format_time`` (time.strftime, no datetime import) give datetime's text: commit
    dates over the years, today's (a time) and other days' (a date); any other ISO form goes to datetime."""
    import random
    import time
    from datetime import date, datetime

    from tide.ops import exp_show

    rng = random.Random(7)
    stamps = [rng.randint(0, 4_000_000_000) for _ in range(300)] + [int(time.time()), int(time.time()) - 86_400]
    for ts in stamps:
        iso = exp_show._iso(ts)
        assert iso == datetime.fromtimestamp(ts).isoformat()
        t = datetime.fromisoformat(iso)
        want = t.strftime("%I:%M %p" if t.date() == date.today() else "%b %d, %Y")
        assert exp_show.format_time(iso, "-", False) == want
        assert exp_show.format_time(iso, "-", True) == iso
    assert exp_show.format_time("2026-01-02T03:04:05.250000", "-", False) == "Jan 02, 2026"
    assert exp_show._plain_iso("2026-13-02T03:04:05") is None and exp_show.format_time(None, "-", False) == "-"
