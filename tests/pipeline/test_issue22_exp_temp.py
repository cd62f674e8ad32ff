"""Issue 22: ``tide exp run --temp`` (run now in an isolated copy, the workspace left as it is) and
``-C/--copy-paths`` (untracked or ignored paths copied into that copy, for --temp and --queue), as dvc
has them."""

from __future__ import annotations

import hashlib
import json
import sys
import textwrap

from tests.conftest import git
from tests.pipeline.expproject import train_project

TRAIN = textwrap.dedent('''
    import json, os, yaml
    p = yaml.safe_load(open("params.yaml"))["train"]
    if p.get("fail"):
        raise SystemExit("training diverged")
    extra = open("data/extra.cfg").read().strip() if os.path.exists("data/extra.cfg") else "none"
    open("model.txt", "w").write(f"{p['lr']} {extra}")
    json.dump({"score": p["lr"] * 10, "extra": extra}, open("metrics.json", "w"))
''')


def test_issue22_exp_run_temp_and_copy_paths(tmp_path, tide, monkeypatch, capsys):
    d = train_project(tmp_path / "p", tide, TRAIN, "train:\n  lr: 0.1\n  fail: 0\n", {".gitignore": "/data/\n"})
    (d / "data").mkdir()
    (d / "data" / "extra.cfg").write_text("hello\n")  # ignored: only -C brings it into a copy
    before = sorted(p.name for p in d.iterdir())

    out = tide("exp", "run", "--temp", "-n", "t1", "-S", "train.lr=0.3", "-C", "data", cwd=d).stdout
    assert "Ran experiment(s): t1" in out
    # the workspace is as it was; the experiment is recorded with what the copied path gave it
    assert sorted(p.name for p in d.iterdir()) == before and git(d, "status", "--porcelain") == ""
    assert "lr: 0.1" in (d / "params.yaml").read_text()
    shown = json.loads(tide("exp", "show", "--json", cwd=d).stdout)[1]["experiments"]
    assert [(r["name"], r["revs"][0]["data"]["metrics"]["metrics.json"]["data"]) for r in shown] == [
        ("t1", {"score": 3.0, "extra": "hello"})]
    h = hashlib.md5(b"0.3 hello").hexdigest()
    assert (d / ".dvc" / "cache" / "files" / "md5" / h[:2] / h[2:]).is_file()  # its output is in the cache
    # no queue entry, copy or worktree left behind
    q = d / ".dvc" / "tmp" / "tide-queue"
    assert not list((q / "entries").iterdir()) and not list((q / "copies").iterdir())
    assert len(git(d, "worktree", "list").splitlines()) == 1

    # a failing --temp run: one line, exit 1, nothing recorded, nothing left
    bad = tide("exp", "run", "--temp", "-n", "t2", "-S", "train.fail=1", cwd=d, check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr, bad.stderr
    assert bad.stderr.strip().splitlines()[-1] == (
        f"ERROR: failed to reproduce 'train': failed to run: {sys.executable} train.py, exited with 1")
    assert "training diverged" in bad.stdout + bad.stderr  # the stage's own output is shown as it runs
    assert git(d, "for-each-ref", "--format=%(refname:short)", "refs/exps/").count("t2") == 0
    assert not list((q / "entries").iterdir())

    # -C with --queue: copied when the queued run starts
    tide("exp", "run", "--queue", "-n", "q1", "-S", "train.lr=0.5", "-C", "data/extra.cfg", cwd=d)
    (d / "data" / "extra.cfg").write_text("later\n")
    assert "Ran experiment 'q1'" in tide("exp", "run", "--run-all", cwd=d).stdout
    shown = json.loads(tide("exp", "show", "--json", cwd=d).stdout)[1]["experiments"]
    assert {r["name"]: r["revs"][0]["data"]["metrics"]["metrics.json"]["data"]["extra"] for r in shown} == {
        "t1": "hello", "q1": "later"}

    # misuse: one line each (in-process: argument checks only)
    from tide.cli.main import main

    monkeypatch.chdir(d)
    for args, msg in [
        (["-C", "data"], "ERROR: -C/--copy-paths copies into an isolated copy: use it with --temp or --queue"),
        (["--temp", "-C", "../elsewhere"], "ERROR: -C/--copy-paths '../elsewhere': not a path inside the repository"),
        (["--temp", "-C", "nope"], "ERROR: -C/--copy-paths 'nope': no such file or directory"),
        (["--temp", "-S", "train.lr=1,2"], "ERROR: sweep overrides (a=1,2, range(), choice()) can't be used "
                                            "without --queue"),
        (["--on", "local"], "ERROR: --on runs experiments in isolated copies: use it with --run-all or --temp"),
    ]:
        code = main(["exp", "run", *args])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith(msg), (args, err)
