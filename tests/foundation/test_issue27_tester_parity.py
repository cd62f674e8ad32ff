"""Issue 27: divergences from dvc 3.67.1 that the differential tester (tests/differential/) found after the
first ten (RELIABILITY.md, N18 on), each reproduced on both tools in fresh repositories (``git init; T init;
T remote add -d r ../remote; commit``) and compared."""

from __future__ import annotations

import json
import os

import pytest

from tests.conftest import breadth


def _outcome(r, *argv):
    p = r.t(*argv, check=False)
    return p.returncode, p.stdout.strip()


def _json(r, *argv):
    rc, out = _outcome(r, *argv)
    return rc, json.loads(out) if out else None


# --- N20: params/metrics/plots diff: which params files, and before the first commit --------------------
PARAMS = "lr: 0.1\nepochs: 1\ntrain:\n  depth: 2\n"


def test_n20_params_diff_lists_the_repositorys_params_yaml_without_any_stage(both):
    """dvc shows the root params.yaml whole, whether a stage uses it or not (seed 9107, sequence 33)."""
    seen = []
    for r in both:
        r.sh(f"printf '{PARAMS}' > params.yaml")
        seen.append([_json(r, "params", "diff", "--json"), _outcome(r, "params", "diff")])
    assert seen[0] == seen[1]
    assert seen[1][0][1]["params.yaml"]["lr"] == {"old": None, "new": 0.1}


def test_n20_params_files_and_keys_are_dvcs(both):
    """Stage params show only the keys the stages use (whole file with ``[]``); top-level ``params:`` files
    and the root params.yaml whole unless ``--deps``; a params.yaml next to a sub-pipeline's dvc.yaml that no
    stage uses is not shown."""
    seen = []
    for r in both:
        r.sh("printf 'c: 1\\nd: 2\\n' > other.yaml; printf 'e: 1\\nf: 2\\n' > whole.yaml;"
             "printf 'b: 1\\nz: 3\\n' > params.yaml; mkdir sub; printf 'a: 1\\n' > sub/params.yaml;"
             "printf 'stages:\\n  t:\\n    cmd: echo\\n' > sub/dvc.yaml;"
             "printf 'stages:\\n  s:\\n    cmd: echo\\n    params: [b, {other.yaml: [c]}, {whole.yaml: []}]\\n'"
             " > dvc.yaml")
        out = []
        for top in ("", "params: [other.yaml]\n"):
            if top:
                r.sh(f"printf '{top}' | cat - dvc.yaml > y && mv y dvc.yaml")
            for extra in ((), ("--deps",), ("--targets", "other.yaml")):
                out.append(_json(r, "params", "diff", "--json", *extra))
        r.sh("git add -A && git commit -qm p && sed -i s/2/5/ other.yaml whole.yaml params.yaml")
        for extra in ((), ("--deps",), ("--all",)):
            out.append(_json(r, "params", "diff", "--json", *extra))
        seen.append(out)
    assert seen[0] == seen[1]
    assert set(seen[1][0][1]) == {"other.yaml", "params.yaml", "whole.yaml"}
    assert set(seen[1][0][1]["other.yaml"]) == {"c"}


def test_n20_diffs_before_the_first_commit_compare_nothing(both, tmp_path):
    """In a git repository without commits dvc's params/metrics/plots diff print ``{}`` (and the tables
    nothing) and exit 0."""
    seen = []
    for r in both:
        r.sh("rm -rf .git && git init -q -b main")
        r.sh(f"printf '{PARAMS}' > params.yaml; echo '{{\"m\": 1}}' > m.json; printf 'x,y\\n1,2\\n' > p.csv;"
             "printf 'metrics: [m.json]\\nplots:\\n- p.csv\\nstages:\\n  s:\\n    cmd: echo\\n    params: [lr]\\n'"
             " > dvc.yaml")
        seen.append([_outcome(r, *argv) for argv in (
            ("params", "diff", "--json"), ("metrics", "diff", "--json"), ("plots", "diff", "--json"),
            ("params", "diff"), ("metrics", "diff"), ("diff", "--json"))]
            + [os.path.exists(r.p("dvc_plots"))])
    assert seen[0] == seen[1]
    assert seen[1][0] == (0, "{}")


# --- N24: add of a tracked directory together with a file inside it -------------------------------------
@pytest.mark.parametrize("targets", breadth([("d/s/c", "d/b.txt", "d/s"), ("d", "d/b.txt"), ("d/b.txt", "d")]))
def test_n24_add_of_a_tracked_directory_and_a_file_inside_it(both, targets):
    """``add d d/b.txt`` when d.dvc tracks d: both targets are d's output (dvc's find_outs_by_path), so
    dvc adds d once and exits 0 (seed 123)."""
    seen = []
    for r in both:
        r.sh("mkdir -p d/s && echo x > d/b.txt && echo y > d/s/c")
        r.t("add", "-q", "d")
        first = _outcome(r, "add", "-q", *targets)
        r.sh("echo z > d/b.txt && echo w > d/s/c")
        second = _outcome(r, "add", "-q", *targets)
        with open(r.p("d.dvc")) as f:
            seen.append((first, second, f.read(), r.cache_files(), sorted(os.listdir(r.p("d"))),
                         _json(r, "status", "--json")))
    assert seen[0] == seen[1]
    assert seen[1][0][0] == seen[1][1][0] == 0


@pytest.mark.parametrize("tracked", ["", "d/b.txt"])
def test_n24_nested_targets_of_different_outputs_are_still_refused(both, tracked):
    """``add d d/b.txt`` where d is not tracked (or d/b.txt has its own .dvc file) is refused by both,
    nothing written (N5 stays)."""
    seen = []
    for r in both:
        r.sh("mkdir -p d && echo x > d/b.txt")
        if tracked:
            r.t("add", "-q", tracked)
        rc, _ = _outcome(r, "add", "-q", "d", "d/b.txt")
        seen.append((rc != 0, os.path.exists(r.p("d.dvc")), r.ls()))
    assert seen[0] == seen[1]
    assert seen[1][0] is True


# --- N21: reports on a pipeline whose graph dvc refuses (a cycle, duplicate or nested outputs) ----------
BROKEN = {
    "self": "stages:\n  s1:\n    cmd: cp m1.json u1\n    deps: [m1.json]\n    outs: [{u1: {cache: false}}]\n"
            "    metrics: [{m1.json: {cache: false}}]\n",
    "cycle": "stages:\n  a:\n    cmd: cp x y\n    deps: [x]\n    outs: [y]\n  b:\n    cmd: cp y x\n    deps: [y]\n"
             "    outs: [x]\n",
    "duplicate": "stages:\n  a:\n    cmd: echo > y\n    outs: [y]\n  b:\n    cmd: echo > y\n    outs: [y]\n",
    "nested": "stages:\n  a:\n    cmd: mkdir -p d\n    outs: [d]\n  b:\n    cmd: echo > d/y\n    outs: [d/y]\n",
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_n21_status_reports_a_pipeline_whose_graph_is_refused(both, kind):
    """A stage whose metric is also its dependency (seed 9107, sequence 58), or any graph dvc refuses:
    dvc's ``status`` reads each stage on its own and exits 0; ``repro`` and ``dag`` fail in both."""
    seen = []
    for r in both:
        with open(r.p("dvc.yaml"), "w") as f:
            f.write(BROKEN[kind])
        r.sh("echo '{\"m\": 1}' > m1.json")
        first = r.t("stage", "list", check=False).returncode
        reports = [_json(r, "status", "--json"), _outcome(r, "status")[0]]
        fails = [r.t(*argv, check=False).returncode != 0 for argv in (("repro", "-q"), ("dag",))]
        seen.append((first, reports, fails))
    assert seen[0] == seen[1]
    assert seen[1][1][0][0] == 0 and seen[1][2] == [True, True]


# --- N18: commit records runs as dvc's stage.save does; without -f a change is refused ------------------
N18_STAGE = ("stages:\n  s1:\n    cmd: cat s s > u1 && cp s m.json\n    deps: [s]\n    params: [epochs]\n"
             "    outs:\n    - u1:\n        cache: false\n    metrics:\n    - m.json:\n        cache: false\n")


def _read(r, rel):
    with open(r.p(rel)) as f:
        return f.read()


def _cache_state(r):
    import stat

    base = r.p(".dvc/cache")
    out = {}
    for d, _, fs in os.walk(base):
        for f in fs:
            p = os.path.join(d, f)
            st = os.lstat(p)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, base)] = (oct(stat.S_IMODE(st.st_mode)), fh.read())
    return out


@pytest.mark.parametrize("cache_type", ["copy", "hardlink", "symlink"])
def test_n18_commit_force_saves_the_run_with_its_uncached_outputs(both, cache_type):
    """``repro`` of a stage with an uncached plain output saves no run (bug 38); ``commit -f`` then does,
    with the uncached output's object in the cache, the workspace file left a plain copy (seed 9107,
    sequence 4)."""
    seen = []
    for r in both:
        r.t("config", "cache.type", cache_type)
        r.sh(f"echo 2 > s; printf 'lr: 1\\nepochs: 2\\n' > params.yaml; printf '{N18_STAGE}' > dvc.yaml")
        r.t("repro", "-q")
        after_repro = r.runs()
        r.t("commit", "-q", "-f")
        st = os.lstat(r.p("u1"))
        seen.append((after_repro, _cache_state(r), st.st_nlink, oct(st.st_mode), _read(r, "dvc.lock")))
        r.sh("echo 1 >> u1")  # the user's own file: writable, the cache keeps its object intact
        seen[-1] += (_cache_state(r),)
    assert seen[0] == seen[1]
    assert seen[1][0] == [] and any(k.startswith("runs/") for k in seen[1][1])


def test_n18_commit_without_force_refuses_a_changed_stage_or_output(both):
    """Without -f and without a terminal dvc refuses to commit a changed ``.dvc`` output or stage (exit
    1, nothing written); an unchanged one, or one only missing from the cache, is committed; ``-f``
    records the change."""
    seen = []
    for r in both:
        r.sh("echo 1 > g; echo 1 > a; printf 'stages:\\n  s:\\n    cmd: cp a b\\n    deps: [a]\\n    outs: [b]\\n'"
             " > dvc.yaml")
        r.t("add", "-q", "--no-commit", "g")
        r.t("repro", "-q", "--no-commit")
        out = [r.t("commit", "-q", check=False).returncode, _cache_state(r), _read(r, ".gitignore")]
        for change, argv in (("echo 2 > a", ("commit", "-q")), ("echo 2 > g", ("commit", "-q", "g.dvc")),
                             ("echo 3 > g", ("commit", "-q", "s")), ("echo 3 > b", ("commit", "-q", "b"))):
            r.sh(change)
            out.append((r.t(*argv, check=False).returncode != 0, _read(r, "g.dvc"),
                        _read(r, "dvc.lock")))
        out.append(r.t("commit", "-q", "-f").returncode)
        out += [_read(r, "g.dvc"), _read(r, "dvc.lock"), _cache_state(r)]
        seen.append(out)
    assert seen[0] == seen[1]
    assert seen[1][0] == 0 and seen[1][3][0] is True


# --- N23: an empty directory output is checked out as an empty directory ------------------------------
@pytest.mark.parametrize("cache_type", ["copy", "hardlink", "symlink", "reflink,copy"])
def test_n23_pull_and_checkout_make_an_empty_tracked_directory(both, tmp_path, cache_type):
    """``add`` of a tree of empty directories records an empty tree; ``pull`` in a clone and
    ``checkout`` after it was deleted make the (empty) directory, as dvc (seed 123)."""
    from tests.conftest import git

    seen = []
    for r in both:
        r.t("config", "cache.type", cache_type)
        r.sh("mkdir -p data/deep/er")
        r.t("add", "-q", "data")
        r.t("push", "-q")
        git(r.path, "add", "-A")
        git(r.path, "commit", "-qm", "c")
        clone = tmp_path / f"clone-{r.name}"
        git(tmp_path, "clone", "-q", str(r.path), str(clone))
        rc = r.run("pull", "-q", cwd=clone, check=False).returncode
        out = [rc, sorted(os.listdir(clone)), os.path.isdir(clone / "data") and os.listdir(clone / "data")]
        out.append(_json(r.__class__(r.name, r.run, clone), "status", "--json"))
        r.sh("rm -rf data")
        out += [_outcome(r, "checkout", "-q")[0], os.path.isdir(r.p("data")), _json(r, "status", "--json")]
        seen.append(out)
    assert seen[0] == seen[1]
    assert "data" in seen[1][1] and seen[1][5] is True


# --- N19 (deliberate): move with cache.type reflink where reflinks are impossible ---------------------
def test_n19_reflink_only_move_is_a_deliberate_difference(both, tmp_path):
    """dvc renames the file, then fails linking it (exit 1), leaving f.dvc naming a missing path and the
    data untracked; tide completes the move (docs/versioning.md, ``known.DELIBERATE``); checkout then
    fails in both."""
    from tide.objects.cache import ObjectCache

    if not ObjectCache(str(tmp_path / "cache"), ("reflink",)).reflink_only_unsupported(str(tmp_path)):
        pytest.skip("this file system supports reflinks: the case cannot arise here")
    seen = {}
    for r in both:
        r.t("config", "cache.type", "reflink")
        r.sh("echo a > f")
        r.t("add", "-q", "f")
        rc = _outcome(r, "move", "-q", "f", "data")[0]
        st = _json(r, "status", "--json")
        r.sh("rm data")
        seen[r.name] = (rc, sorted(x for x in r.ls() if x.endswith(".dvc")), st, _outcome(r, "checkout", "-q")[0] != 0)
    assert seen == {"dvc": (1, ["f.dvc"], (0, {"f.dvc": [{"changed outs": {"f": "deleted"}}]}), True),
                    "tide": (0, ["data.dvc"], (0, {}), True)}, seen


# --- add and move: the new .dvc file, the new output and the pipelines' graph are checked, as dvc -------
SETUP_TRACKED = ("mkdir d ig o; echo 1 > d/a; echo 1 > f; echo 1 > ig/f; echo 2 > o/x; echo 'ig/' >> .gitignore;"
                 "printf 'stages:\\n  s:\\n    cmd: mkdir -p o\\n    outs: [o]\\n' > dvc.yaml")


@pytest.mark.parametrize("argv", [("add", "-q", "ig/f"), ("move", "-q", "f", "ig/g"), ("move", "-q", "f", "d/x"),
                                  ("move", "-q", "f", "d"), ("move", "-q", "f", "o/y"), ("move", "-q", "f", "g"),
                                  ("move", "-q", "d", "d2")])
def test_add_and_move_refuse_an_ignored_dvc_file_or_an_overlapping_output(both, argv):
    """dvc refuses a ``.dvc`` file git ignores (inside an ignored or tracked directory) and an output inside
    another output; tide wrote them (a move into a tracked directory changed that directory's data)."""
    from tests.conftest import git

    seen = []
    for r in both:
        r.sh(SETUP_TRACKED)
        r.t("add", "-q", "d", "f")
        git(r.path, "add", "-A")
        git(r.path, "commit", "-qm", "x")
        rc = _outcome(r, *argv)[0]
        tree = sorted(os.path.relpath(os.path.join(dp, f), r.path) for dp, dn, fs in os.walk(r.path)
                      if ".git" not in dp.split(os.sep) and ".dvc" not in dp.split(os.sep) for f in fs)
        seen.append((rc != 0, tree, _json(r, "status", "--json")))
    assert seen[0] == seen[1]
    assert seen[1][0] is (argv[-1] not in ("g", "d2"))


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_add_and_move_refuse_while_the_pipeline_graph_is_invalid(both, kind):
    """dvc checks the whole graph before ``add`` and ``move`` write anything (N21's pipelines)."""
    seen = []
    for r in both:
        r.sh("echo 1 > f; echo 1 > h")
        r.t("add", "-q", "f")
        with open(r.p("dvc.yaml"), "w") as fh:
            fh.write(BROKEN[kind])
        seen.append((_outcome(r, "add", "-q", "h")[0] != 0, _outcome(r, "move", "-q", "f", "g")[0] != 0, r.ls()))
    assert seen[0] == seen[1]
    assert seen[1][:2] == (True, True)


# --- remove of a pipeline stage (seed 4242, sequence 22) -------------------------------------------------
REMOVE_YAML = ("stages:\n  s1:\n    cmd: 'cat a > o1'\n    deps:\n    - 'a'\n    outs:\n    - o1\n  s3:\n"
               "    cmd: 'cat a > o3 && echo > u'\n    deps:\n    - 'a'\n    params:\n    - lr\n    outs:\n    - o3\n"
               "    - u:\n        cache: false\n  s4:\n    cmd: echo\n")


@pytest.mark.parametrize("ran", [False, True])
def test_remove_of_a_pipeline_stage(both, ran):
    """``remove [--outs] dvc.yaml:NAME`` (or NAME): the stage leaves dvc.yaml (deleted with its last
    stage) and dvc.lock, its outputs leave .gitignore (--outs deletes them); tide refused stages."""
    seen = []
    for r in both:
        with open(r.p("dvc.yaml"), "w") as f:
            f.write(REMOVE_YAML)
        r.sh("echo in > a; printf 'lr: 1\\n' > params.yaml")
        if ran:
            r.t("repro", "-q")
        out = []
        for argv in (("remove", "-q", "--outs", "dvc.yaml:s3"), ("remove", "-q", "s1"),
                     ("remove", "-q", "dvc.yaml:s4"), ("remove", "-q", "nope")):
            rc = _outcome(r, *argv)[0]
            files = {n: _read(r, n) for n in ("dvc.yaml", "dvc.lock", ".gitignore") if os.path.exists(r.p(n))}
            out.append((rc != 0, r.ls(), files))
        seen.append(out)
    assert seen[0] == seen[1]
    assert [x[0] for x in seen[1]] == [False, False, False, True]
