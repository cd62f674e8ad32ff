"""tide repro behaviour: skipping, forcing, failures, keep-going, dry runs, targets, frozen/persist stages."""

from __future__ import annotations

import textwrap

import pytest

from tests.conftest import git


def write(d, name, text):
    p = d / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text).lstrip())
    return p


@pytest.fixture
def diamond(repo_dir):
    """a -> (b, c) -> d, plus an independent e; b fails when fail.txt says so."""
    write(repo_dir, "src.txt", "s\n")
    write(repo_dir, "fail.txt", "no\n")
    write(repo_dir, "dvc.yaml", """
        stages:
          a:
            cmd: cp src.txt a.txt
            deps: [src.txt]
            outs: [a.txt]
          b:
            cmd: grep -q no fail.txt && cp a.txt b.txt
            deps: [a.txt, fail.txt]
            outs: [b.txt]
          c:
            cmd: cp a.txt c.txt
            deps: [a.txt]
            outs: [c.txt]
          d:
            cmd: cat b.txt c.txt > d.txt
            deps: [b.txt, c.txt]
            outs: [d.txt]
          e:
            cmd: echo e > e.txt
            deps: [fail.txt]
            outs: [e.txt]
    """)
    return repo_dir


def ran(out: str) -> list[str]:
    return [line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage")]


def test_order_skip_and_force(diamond, tide):
    out = tide("repro", cwd=diamond).stdout
    assert ran(out) == ["a", "b", "c", "d", "e"]
    assert (diamond / "d.txt").read_text() == "s\ns\n"
    assert ran(tide("repro", cwd=diamond).stdout) == []
    assert ran(tide("repro", "-f", "c", cwd=diamond).stdout) == ["a", "c"]
    assert ran(tide("repro", "-f", "-s", "c", cwd=diamond).stdout) == ["c"]
    assert ran(tide("repro", "-f", "--downstream", "c", cwd=diamond).stdout) == ["c", "d"]
    assert ran(tide("repro", "-f", "-p", "b", cwd=diamond).stdout) == ["a", "b", "c", "d"]
    assert ran(tide("repro", "-f", "-p", "e", cwd=diamond).stdout) == ["e"]
    dry = tide("repro", "--dry", "-f", "d", cwd=diamond).stdout
    assert ran(dry) == ["a", "b", "c", "d"] and "> cat b.txt c.txt > d.txt" in dry
    # outputs are in the cache and git-ignored
    assert "/d.txt" in (diamond / ".gitignore").read_text()
    lock = (diamond / "dvc.lock").read_text()
    assert "d.txt" in lock and lock.startswith("schema: '2.0'\nstages:\n  a:\n")


def test_changed_dependency_reruns_downstream_only(diamond, tide):
    tide("repro", cwd=diamond)
    (diamond / "fail.txt").write_text("no, really\n")
    # b runs again but writes the same b.txt, so d stays up to date
    assert ran(tide("repro", cwd=diamond).stdout) == ["b", "e"]
    (diamond / "src.txt").write_text("s2\n")
    assert ran(tide("repro", cwd=diamond).stdout) == ["a", "b", "c", "d"]


def test_failing_stage_reports_exit_code_and_keeps_lock(diamond, tide):
    tide("repro", cwd=diamond)
    before = (diamond / "dvc.lock").read_text()
    (diamond / "fail.txt").write_text("yes\n")
    (diamond / "src.txt").write_text("s2\n")
    res = tide("repro", cwd=diamond, check=False)
    assert res.returncode != 0
    err = res.stderr.strip().splitlines()
    assert err == ["ERROR: failed to reproduce 'b': failed to run: grep -q no fail.txt && cp a.txt b.txt, "
                   "exited with 1"]
    assert "Traceback" not in res.stderr
    lock = (diamond / "dvc.lock").read_text()
    assert lock != before  # 'a' succeeded and was recorded
    b_entry = before.split("  b:\n")[1].split("\n  c:\n")[0]
    assert b_entry in lock  # the failed stage's entry is untouched


def test_keep_going_runs_independent_branches(diamond, tide):
    (diamond / "fail.txt").write_text("yes\n")
    res = tide("repro", "--keep-going", cwd=diamond, check=False)
    assert res.returncode == 1
    assert ran(res.stdout) == ["a", "b", "c", "e"]
    assert res.stderr.strip().splitlines() == [  # WARNING lines on stderr, as dvc's
        "WARNING: failed to reproduce 'b': failed to run: grep -q no fail.txt && cp a.txt b.txt, exited with 1",
        "WARNING: Stage 'd' will be skipped due to this failure",
        "ERROR: failed to reproduce 'b'"]
    assert "WARNING" not in res.stdout
    lock = (diamond / "dvc.lock").read_text()
    assert "  c:\n" in lock and "  e:\n" in lock and "  b:\n" not in lock and "  d:\n" not in lock


def test_run_cache_restores_instead_of_running(repo_dir, tide):
    write(repo_dir, "x.txt", "1\n")
    write(repo_dir, "dvc.yaml", """
        stages:
          count:
            cmd: wc -c x.txt > n.txt && date +%N >> n.txt
            deps: [x.txt]
            outs: [n.txt]
    """)
    tide("repro", cwd=repo_dir)
    first = (repo_dir / "n.txt").read_text()
    (repo_dir / "x.txt").write_text("22\n")
    tide("repro", cwd=repo_dir)
    (repo_dir / "x.txt").write_text("1\n")
    out = tide("repro", cwd=repo_dir).stdout
    assert "Stage 'count' is cached - skipping run, checking out outputs" in out
    assert (repo_dir / "n.txt").read_text() == first
    (repo_dir / "n.txt").unlink()
    out = tide("repro", cwd=repo_dir).stdout
    assert "is cached" in out and (repo_dir / "n.txt").read_text() == first
    (repo_dir / "x.txt").write_text("22\n")
    assert "Running stage" in tide("repro", "--no-run-cache", cwd=repo_dir).stdout


def test_frozen_always_changed_and_persist(repo_dir, tide):
    write(repo_dir, "dvc.yaml", """
        stages:
          tick:
            cmd: echo t >> log.txt
            always_changed: true
            outs:
            - log.txt:
                persist: true
          frozen:
            cmd: echo f > f.txt
            frozen: true
            outs: [f.txt]
    """)
    tide("repro", "tick", cwd=repo_dir)
    tide("repro", "tick", cwd=repo_dir)
    assert (repo_dir / "log.txt").read_text() == "t\nt\n"  # persistent output kept, stage always runs
    # a frozen stage's command never runs (dvc, N63): its missing output fails it, even forced ...
    for argv in (("repro", "frozen"), ("repro", "-f", "frozen")):
        res = tide(*argv, cwd=repo_dir, check=False)
        assert res.returncode == 1 and "missing data 'source': f.txt" in res.stderr
        assert not (repo_dir / "f.txt").exists() and "frozen" not in (repo_dir / "dvc.lock").read_text()
    # ... and an output that exists is recorded as it is
    (repo_dir / "f.txt").write_text("mine\n")
    out = tide("repro", "frozen", cwd=repo_dir).stdout
    assert "Verifying outputs in frozen stage: 'frozen'" in out and "Running stage" not in out
    assert (repo_dir / "f.txt").read_text() == "mine\n" and "  frozen:" in (repo_dir / "dvc.lock").read_text()
    assert "didn't change" in tide("repro", "frozen", cwd=repo_dir).stdout


def test_wdir_list_cmd_and_params_files(repo_dir, tide, pyenv):
    write(repo_dir, "sub/cfg.toml", "[opt]\nk = 3\n")
    write(repo_dir, "sub/conf.py", "EPOCHS = 4\nclass Train:\n    lr = 0.5\n")
    write(repo_dir, "sub/dvc.yaml", """
        stages:
          multi:
            wdir: work
            cmd:
            - mkdir -p out
            - echo one > out/1.txt
            params:
            - ../cfg.toml:
              - opt.k
            - ../conf.py:
            outs: [out]
    """)
    (repo_dir / "sub" / "work").mkdir()
    tide("repro", "sub/dvc.yaml", cwd=repo_dir)
    assert (repo_dir / "sub" / "work" / "out" / "1.txt").read_text() == "one\n"
    lock = (repo_dir / "sub" / "dvc.lock").read_text()
    assert "../cfg.toml:\n        opt.k: 3\n" in lock and "EPOCHS: 4" in lock and "lr: 0.5" in lock
    assert tide("status", cwd=repo_dir).stdout.strip() == "Data and pipelines are up to date."
    (repo_dir / "sub" / "cfg.toml").write_text("[opt]\nk = 4\n")
    st = tide("status", cwd=repo_dir).stdout
    assert "sub/dvc.yaml:multi:" in st and "modified:           opt.k" in st


def test_commit_records_manual_changes(diamond, tide):
    tide("repro", cwd=diamond)
    (diamond / "c.txt").chmod(0o644)
    (diamond / "c.txt").write_text("edited\n")
    assert "modified:           c.txt" in tide("status", cwd=diamond).stdout
    tide("commit", "-f", "c", cwd=diamond)
    st = tide("status", cwd=diamond).stdout
    assert "c:\n" not in st.split("d:")[0]  # c is clean now; d sees its changed dependency
    assert "d:" in st


def test_dag_renderings(diamond, tide):
    md = tide("dag", "--md", cwd=diamond).stdout
    assert "flowchart TD" in md and 'node1["a"]' in md and "node1-->node2" in md
    dot = tide("dag", "--dot", "d", cwd=diamond).stdout
    assert '"b" -> "d";' in dot and '"e"' not in dot
    text = tide("dag", cwd=diamond).stdout
    assert "| d |" in text and "from b, c" in text


def test_git_files_hint(diamond, tide):
    git(diamond, "add", "-A")
    out = tide("repro", cwd=diamond).stdout
    assert "git add .gitignore dvc.lock" in out


def test_tide_yaml_makes_push_and_pull_carry_the_run_cache(repo_dir, tide, tmp_path):
    """pipeline.run_cache: true in tide.yaml = --run-cache on every push, pull and fetch."""
    remote = tmp_path / "remote"
    tide("remote", "add", "-d", "r", str(remote), cwd=repo_dir)
    write(repo_dir, "x.txt", "1\n")
    write(repo_dir, "dvc.yaml", """
        stages:
          count:
            cmd: wc -c x.txt > n.txt
            deps: [x.txt]
            outs: [n.txt]
    """)
    tide("repro", cwd=repo_dir)
    tide("push", cwd=repo_dir)
    assert not (remote / "runs").exists()  # without the setting: objects only, as dvc
    write(repo_dir, "tide.yaml", "pipeline:\n  run_cache: true\n")
    tide("push", cwd=repo_dir)
    pushed = sorted(p.relative_to(remote) for p in (remote / "runs").rglob("*") if p.is_file())
    assert pushed
    runs = repo_dir / ".dvc" / "cache" / "runs"
    import shutil

    shutil.rmtree(runs)
    tide("fetch", cwd=repo_dir)
    assert sorted(p.relative_to(runs.parent) for p in runs.rglob("*") if p.is_file()) == pushed
    write(repo_dir, "tide.yaml", "pipeline:\n  run_cache: maybe\n")
    res = tide("push", cwd=repo_dir, check=False)
    assert res.returncode != 0 and "pipeline.run_cache must be true or false" in res.stderr
