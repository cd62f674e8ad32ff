"""The commit cache's fast first fill (tide/ui/history.py): what it finds at every commit is what
``ops.metrics.show`` / ``ops.params.show`` / ``RevReader.outs`` find, also for the commits it does not read
(their changes left everything the reading of the parent consulted untouched)."""

from __future__ import annotations

import json

from tests.conftest import git


def _commit(ws, msg: str, files: dict[str, str | None]) -> None:
    for name, text in files.items():
        path = ws / name
        if text is None:
            git(ws, "rm", "-q", name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", msg)


def _pointer(md5: str, size: int, path: str) -> str:
    return f"outs:\n- md5: {md5}\n  size: {size}\n  hash: md5\n  path: {path}\n"


def _slow(repo, sha: str) -> dict:
    """One commit read as the UI read it before: the ops functions, each with its own RevReader."""
    from tide.ops import metrics as ops_metrics
    from tide.ops import params as ops_params
    from tide.pipeline.metrics import flatten
    from tide.pipeline.revfs import RevReader
    from tide.ui.facts import _jsonable, _numbers

    shown = ops_metrics.show(repo, revs=[sha])[sha]
    metrics = {p: _numbers(flatten(e["data"])) for p, e in shown.get("data", {}).items() if "data" in e}
    params = {p: _jsonable(flatten(e["data"])) for p, e in ops_params.show(repo, rev=sha).items() if "data" in e}
    outs = sorted((o.md5, o.size, __import__("os").path.relpath(o.abspath, repo.root)) for o in
                  RevReader(repo, sha).outs())
    return {"metrics": metrics, "params": params, "outs": outs}


def test_issue25_first_fill_reads_what_ops_read_and_skips_only_untouched_commits(tmp_path):
    from tide.ops.init import init
    from tide.ui.facts import Facts
    from tide.workspace.repo import Repo

    git(tmp_path, "init", "-q", "-b", "main")
    proj = tmp_path / "proj"  # a project in a subdirectory of its git work tree (dvc init --subdir)
    proj.mkdir()
    (tmp_path / "top.txt").write_text("outside the project\n")
    init(str(proj), subdir=True)
    dvc_yaml = "metrics:\n- m.json\n- more.json\nparams:\n- extra.yaml\n"
    p = "proj/"
    steps = [
        ("start", {p + "dvc.yaml": dvc_yaml, p + "m.json": '{"acc": 0.5}', p + "params.yaml": "lr: 1\n",
                   p + "more.json": '{"x": 1}', p + "data.dvc": _pointer("a" * 32, 3, "data")}),
        ("unrelated", {p + "README.md": "hello\n", "top.txt": "changed\n"}),          # reused
        ("metrics", {p + "m.json": '{"acc": 0.6}'}),
        ("new pointer", {p + "model.dvc": _pointer("b" * 32, 5, "model.bin")}),     # a pipeline file appears
        ("unrelated 2", {p + "notes/n.txt": "n\n"}),                                 # reused
        ("params", {p + "params.yaml": "lr: 2\n"}),
        ("more metrics", {p + "more.json": '{"x": 2}'}),
        ("a params file named but absent until now", {p + "extra.yaml": "k: v\n"}),  # looked for, now there
        ("pointer gone", {p + "data.dvc": None}),
    ]
    for msg, files in steps:
        _commit(tmp_path, msg, files)
    # a merge on main: first-parent changes come from the merged branch
    git(tmp_path, "checkout", "-q", "-b", "side")
    _commit(tmp_path, "side", {p + "m.json": '{"acc": 0.9}'})
    git(tmp_path, "checkout", "-q", "main")
    _commit(tmp_path, "main moves", {p + "README.md": "again\n"})
    git(tmp_path, "merge", "-q", "--no-ff", "-m", "merge side", "side")

    repo = Repo(str(proj))
    try:
        f = Facts(repo)
        shas = f.fill("main")
        assert shas == git(tmp_path, "rev-list", "--first-parent", "--reverse", "main").split()
        assert f.stats == {"commits": 11, "read": 8}, f.stats  # "unrelated", "unrelated 2", "main moves" reused
        for sha in shas:
            got = f.commits[sha]
            assert not got["errors"], got
            fast = {"metrics": got["metrics"], "params": got["params"],
                    "outs": sorted((o["md5"], o["size"], o["path"]) for o in got["outs"])}
            assert fast == _slow(repo, sha), git(tmp_path, "log", "-1", "--format=%s", sha)
        head = f.commits[shas[-1]]
        assert head["metrics"]["m.json"] == {"acc": 0.9} and head["params"]["extra.yaml"] == {"k": "v"}
        assert json.loads(json.dumps(f.commits))  # what goes into commits.json
        # a commit read on its own (an experiment, a side branch) agrees too
        side = git(tmp_path, "rev-parse", "side").strip()
        f.commits.pop(side, None)
        one = f.commit(side)
        assert {"metrics": one["metrics"], "params": one["params"],
                "outs": sorted((o["md5"], o["size"], o["path"]) for o in one["outs"])} == _slow(repo, side)
    finally:
        f.blobs.close()
        repo.close()
