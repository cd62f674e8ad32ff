"""Issue 20: more dvc options (repro --glob/--ignore-errors, the mv/rm aliases, metrics -R), run by tide and
by real dvc 3.67.1 on the same repository and compared: exit status, the stages run, the files written."""

from __future__ import annotations

import json
import os

import yaml

PIPE = """stages:
  train-a:
    cmd: echo a > a.out
    outs: [a.out]
  train-b:
    cmd: echo b > b.out
    outs: [b.out]
  prep:
    cmd: echo p > p.out
    outs: [p.out]
  evaluate:
    cmd: cat a.out > e.out
    deps: [a.out]
    outs: [e.out]
"""

FAILING = """stages:
  bad:
    cmd: "false"
    outs: [x.out]
  after:
    cmd: cat x.out > y.out
    deps: [x.out]
    outs: [y.out]
  other:
    cmd: echo o > o.out
    outs: [o.out]
"""


def _read(r, rel):
    with open(r.p(rel), encoding="utf-8") as f:
        return f.read()


def _ran(out: str) -> list[str]:
    return sorted(line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage"))


def _same(both, fn):
    seen = [fn(r) for r in both]
    assert seen[0] == seen[1], seen
    return seen[0]


def test_issue20_repro_glob_and_ignore_errors_as_dvc(both):
    def go(r):
        r.sh(f"cat > dvc.yaml <<'EOF'\n{PIPE}EOF\nmkdir sub")
        r.sh(f"cat > sub/dvc.yaml <<'EOF'\n{PIPE}EOF")
        steps = []
        for argv in (["repro", "--glob", "train-*"], ["repro", "--glob", "sub/dvc.yaml:*-b", "e*"],
                     ["repro", "--glob", "-s", "ev?luate"], ["repro", "--glob", "nothere/dvc.yaml:x*"]):
            res = r.t(*argv, check=False)
            # a missing file: dvc exits 255 (an unexpected error), tide 1 (a user error)
            steps.append((res.returncode != 0, _ran(res.stdout), r.ls(), sorted(r.sh("ls sub").stdout.split())))
        steps.append(yaml.safe_load(_read(r, "dvc.lock")))  # entries in run order: dvc's is a set's order
        # --ignore-errors: a failure is a warning, its dependents still run (and fail), the others run; exit 0
        r.sh(f"cat > dvc.yaml <<'EOF'\n{FAILING}EOF\nrm -rf sub dvc.lock")
        res = r.t("repro", "--ignore-errors", check=False)
        steps.append((res.returncode, _ran(res.stdout), r.ls(), yaml.safe_load(_read(r, "dvc.lock"))))
        # -k then --ignore-errors: the last one wins, as in dvc (one option, two values)
        res = r.t("repro", "-k", "--ignore-errors", check=False)
        steps.append(res.returncode)
        res = r.t("repro", "--ignore-errors", "-k", check=False)
        steps.append((res.returncode != 0, _ran(res.stdout)))  # dvc exits 255, tide 1
        return steps

    steps = _same(both, go)
    assert steps[0][:2] == (False, ["train-a", "train-b"])
    assert steps[1][:2] == (False, ["evaluate", "sub/dvc.yaml:train-b"])  # ./evaluate: a.out is there
    assert steps[3][0]
    assert steps[5][:2] == (0, ["bad", "other"])  # "after" fails on its missing dependency, ignored too
    assert steps[6] == 0 and steps[7] == (True, ["bad"])


def test_issue20_repro_glob_matching_nothing_runs_nothing(both):
    """Deliberate difference: dvc reproduces every stage of the repository when the patterns match no stage
    (its plan of an empty stage list is the whole graph); tide reproduces none."""
    tide = next(r for r in both if r.name == "tide")
    tide.sh(f"cat > dvc.yaml <<'EOF'\n{PIPE}EOF")
    res = tide.t("repro", "--glob", "zz*")
    assert res.returncode == 0 and _ran(res.stdout) == [] and "a.out" not in tide.ls()
    assert "Data and pipelines are up to date." in res.stdout


def test_issue20_mv_rm_aliases_and_metrics_recursive_as_dvc(both):
    def go(r):
        r.sh("echo x > f.txt; mkdir -p m/n; echo '{\"acc\": 0.5}' > m/n/s.json; echo '{\"l\": 2}' > m/t.json")
        r.t("add", "-q", "f.txt")
        steps = []
        res = r.t("mv", "f.txt", "g.txt")
        steps.append((res.returncode, r.ls(), _read(r, "g.txt.dvc").replace("dvc", "T")))
        res = r.t("rm", "g.txt.dvc")
        steps.append((res.returncode, r.ls()))
        for argv in (["metrics", "show", "-R", "m", "--json"], ["metrics", "show", "--recursive", "m/n", "--json"],
                     ["metrics", "diff", "-R", "--targets", "m", "--json"]):
            res = r.t(*argv, check=False)
            steps.append((res.returncode, json.loads(res.stdout or "null")))
        return steps

    steps = _same(both, go)
    assert steps[0][1] == ["g.txt", "g.txt.dvc", "m"] and steps[1] == (0, ["g.txt", "m"])
    assert list(steps[2][1][""]["data"]) == ["m/n/s.json", "m/t.json"]


def test_issue20_add_force_and_no_relink_as_dvc(both):
    def go(r):
        r.sh("git config core.autocrlf false; echo one > ../ext-" + r.name + ".txt; echo a > h.txt; echo b > k.txt")
        r.t("config", "cache.type", "hardlink")
        steps = []
        for argv in (["add", "-o", "o.txt", f"../ext-{r.name}.txt"], ["add", "-o", "o.txt", f"../ext-{r.name}.txt"],
                     ["add", "-f", "-o", "o.txt", f"../ext-{r.name}.txt"]):
            r.sh(f"echo {len(steps)} > ../ext-{r.name}.txt")
            res = r.t(*argv, check=False)
            steps.append((res.returncode != 0, _read(r, "o.txt"), _read(r, "o.txt.dvc").replace("dvc", "T")))
        r.t("add", "--no-relink", "h.txt")
        r.t("add", "k.txt")
        for f in ("h.txt", "k.txt"):
            st = os.stat(r.p(f))
            steps.append((f, st.st_nlink, bool(st.st_mode & 0o200), _read(r, f + ".dvc").replace("dvc", "T")))
        steps.append([f for f in r.cache_files() if not f.startswith(".")])  # dvc leaves .tmp files there
        return steps

    steps = _same(both, go)
    assert [s[:2] for s in steps[:3]] == [(False, "0\n"), (True, "0\n"), (False, "2\n")]
    assert steps[3][:3] == ("h.txt", 1, True) and steps[4][:3] == ("k.txt", 2, False)


def test_issue20_commit_no_relink_as_dvc(both):
    def go(r):
        r.t("config", "cache.type", "hardlink")
        r.sh("echo a > h.txt; echo b > k.txt")
        r.sh("printf 'stages:\\n  s:\\n    cmd: echo s > s.out\\n    outs: [s.out]\\n' > dvc.yaml")
        r.t("add", "-q", "h.txt", "k.txt")
        r.t("repro", "-q")
        r.sh("for f in h.txt k.txt s.out; do rm $f; echo new-$f > $f; done")
        steps = [r.t("commit", "-f", "--no-relink", "h.txt.dvc", "s").returncode,
                 r.t("commit", "-f", "k.txt").returncode]
        for f in ("h.txt", "k.txt", "s.out"):
            st = os.stat(r.p(f))
            steps.append((f, st.st_nlink, bool(st.st_mode & 0o200)))
        steps.append((_read(r, "h.txt.dvc"), yaml.safe_load(_read(r, "dvc.lock"))))
        steps.append([f for f in r.cache_files() if not f.startswith(".")])
        return steps

    steps = _same(both, go)
    assert steps[2:5] == [("h.txt", 1, True), ("k.txt", 2, False), ("s.out", 1, True)]


def test_issue20_gc_all_experiments_date_skip_failed_as_dvc(both):
    def go(r):
        r.sh("echo v1 > a.txt")
        r.t("add", "-q", "a.txt")
        r.sh("git add -A && git commit -qm v1 && echo v2 > a.txt")
        r.t("add", "-q", "a.txt")
        # an experiment commit on top of the baseline, as dvc's refs/exps/<b[:2]>/<b[2:]>/<name>
        r.sh("b=$(git rev-parse HEAD); git add -A; git commit -qm exp; "
             "git update-ref refs/exps/${b:0:2}/${b:2}/exp1 HEAD; git reset -q --hard $b")
        r.t("checkout", "-q", "-f")
        steps = []
        for argv in (["gc", "-w", "--all-experiments", "-f"], ["gc", "--date", "2000-01-01", "-f"],
                     ["gc", "-w", "--date", "2999-01-01", "-f"]):
            res = r.t(*argv, check=False)
            steps.append((res.returncode, [f for f in r.cache_files() if not f.startswith(".")]))
        # a revision whose .dvc file is broken: gc fails, unless --skip-failed (that revision keeps nothing)
        r.sh("echo v3 > a.txt")
        r.t("add", "-q", "a.txt")
        r.sh("git add -A; git commit -qm v3; echo 'outs: [' > a.txt.dvc; git commit -qam broken; "
             "git checkout -q HEAD~1 -- a.txt.dvc")
        for argv in (["gc", "-a", "-f"], ["gc", "-a", "--skip-failed", "-f"]):
            res = r.t(*argv, check=False)
            steps.append((res.returncode != 0, [f for f in r.cache_files() if not f.startswith(".")]))
        return steps

    steps = _same(both, go)
    assert len(steps[0][1]) == 2 and len(steps[1][1]) == 1 and len(steps[2][1]) == 1  # the exp object: -w only
    assert steps[3][0] and not steps[4][0]
