"""Issue 27: divergences from dvc 3.67.1 found by random differential testing, each reproduced
on both tools in fresh repositories (``git init; T init; T remote add -d r ../remote; commit``) and
compared."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import breadth

STAGE_METRIC = "stages:\n  s:\n    cmd: cp s m.json\n    deps: [s]\n    metrics:\n    - m.json:\n        cache: false\n"


def _verify_cache(r):
    """Every file object's content matches its name."""
    import hashlib

    base = r.p(".dvc/cache/files/md5")
    for rel in r.cache_files():
        if rel.endswith(".dir"):
            continue
        with open(os.path.join(base, rel), "rb") as f:
            assert hashlib.md5(f.read()).hexdigest() == rel.replace(os.sep, ""), (r.name, rel)


@pytest.mark.parametrize("cache_type", ["hardlink", "symlink"])
def test_f01_hardlink_cache_uncached_metric_is_plain_copy(both, cache_type):
    seen = []
    for r in both:
        r.t("config", "cache.type", cache_type)
        r.sh("echo a > s")
        r.sh(f"printf '{STAGE_METRIC}' > dvc.yaml")
        r.t("repro", "-q")
        st = os.lstat(r.p("m.json"))
        seen.append((stat.S_ISREG(st.st_mode), st.st_nlink, stat.S_IMODE(st.st_mode) & 0o200, r.cache_files()))
        r.sh("echo 1 > m.json")  # an uncached output is the user's: writable in place
        _verify_cache(r)
    assert seen[0] == seen[1]
    assert seen[1][:3] == (True, 1, 0o200)


def test_f01_class_only_linked_outputs_share_inodes_with_the_cache(both):
    """No workspace path shares an inode with a cache object unless that object is read-only,
    after add, commit and repro with cached and uncached outputs of every kind."""
    for r in both:
        r.t("config", "cache.type", "hardlink")
        r.sh("echo a > s; mkdir D; echo 1 > D/f; echo x > x")
        r.sh("printf 'stages:\\n  s:\\n    cmd: cp s o; echo 1 > m.json; echo 2 > pl.csv\\n    deps: [s]\\n"
             "    outs: [o]\\n    metrics: [{m.json: {cache: false}}]\\n"
             "    plots: [{pl.csv: {cache: false}}]\\n' > dvc.yaml")
        r.t("add", "-q", "D", "x")
        r.t("repro", "-q")
        r.sh("chmod u+w x && echo 2 > x")
        r.t("commit", "-q", "-f", "x.dvc")
        inodes = {}
        for d, _, fs in os.walk(r.p(".dvc/cache/files")):
            for f in fs:
                st = os.stat(os.path.join(d, f))
                inodes[st.st_ino] = stat.S_IMODE(st.st_mode)
        for rel in ("s", "o", "m.json", "pl.csv", "D/f", "x"):
            st = os.lstat(r.p(rel))
            if st.st_ino in inodes:
                assert inodes[st.st_ino] & 0o222 == 0, (r.name, rel)
        for rel in ("m.json", "pl.csv"):
            assert os.stat(r.p(rel)).st_nlink == 1, (r.name, rel)
    assert [r.cache_files() for r in both][0] == both[1].cache_files()


@pytest.mark.parametrize("cache_type", ["hardlink", "symlink"])
def test_f02_empty_files_are_not_hardlinked(both, cache_type):
    seen = []
    for r in both:
        r.t("config", "cache.type", cache_type)
        r.sh(": > z; mkdir D; : > D/e; echo 1 > D/f")
        r.t("add", "-q", "z", "D")
        states = []
        for _ in range(2):
            for rel in ("z", "D/e", "D/f"):
                st = os.lstat(r.p(rel))
                states.append((rel, stat.S_ISLNK(st.st_mode), st.st_nlink, oct(stat.S_IMODE(st.st_mode))))
            r.sh("rm -rf z D")
            r.t("checkout", "-q")
        states.append(r.t("status", "--json").stdout.strip())
        seen.append(states)
    assert seen[0] == seen[1]


def test_f03_no_run_cache_for_stage_with_uncached_plain_output(both):
    seen = []
    for r in both:
        r.sh("echo a > s")
        r.sh("printf 'stages:\\n  s:\\n    cmd: cp s p; cp s o\\n    deps: [s]\\n    outs:\\n    - p\\n"
             "    - o:\\n        cache: false\\n' > dvc.yaml")
        r.t("repro", "-q")
        seen.append((r.runs(), r.cache_files()))
    assert seen[0] == seen[1]
    assert seen[1][0] == []


def test_f03_run_cache_kept_for_uncached_metrics_and_plots(both):
    seen = []
    for r in both:
        r.sh("echo a > s")
        r.sh("printf 'stages:\\n  s:\\n    cmd: cp s p; cp s m.json; cp s q.csv\\n    deps: [s]\\n    outs: [p]\\n"
             "    metrics: [{m.json: {cache: false}}]\\n    plots: [{q.csv: {cache: false}}]\\n' > dvc.yaml")
        r.t("repro", "-q")
        seen.append((r.runs(), r.cache_files()))
    assert seen[0] == seen[1]
    assert len(seen[1][0]) == 1


def test_f04_add_of_a_file_git_tracks_is_refused(both):
    seen = []
    for r in both:
        r.sh("echo 1 > f; mkdir D; echo 1 > D/a; echo 2 > D/b; git add f D/a; git commit -qm f")
        results = [r.t("add", "f", check=False).returncode != 0, r.t("add", "D", check=False).returncode != 0]
        results.append(sorted(os.listdir(r.path)))
        results.append(r.cache_files())
        results.append(r.t("add", "-q", "D/b", check=False).returncode)  # an untracked file beside is fine
        seen.append(results)
    assert seen[0] == seen[1]
    assert seen[1][:2] == [True, True]


def test_f06_move_into_a_missing_directory_fails(both):
    seen = []
    for r in both:
        r.sh("echo x > f")
        r.t("add", "-q", "f")
        codes = [r.t("move", "f", "nd/g", check=False).returncode != 0,
                 r.t("move", "f", "nd/", check=False).returncode != 0]
        tree = sorted(os.path.relpath(os.path.join(d, f), r.path) for d, _, fs in os.walk(r.path)
                      if ".git" not in d and ".dvc" + os.sep not in d + os.sep for f in fs)
        r.sh("mkdir nd")
        r.t("move", "f", "nd/")
        after = sorted(os.listdir(r.p("nd")))
        seen.append((codes, tree, after))
    assert seen[0] == seen[1]
    assert seen[1][0] == [True, True]


@pytest.mark.parametrize("yaml", [
    "stages:\n  s:\n    cmd: cp s o\n    deps: 5\n    outs: [o]\n",
    "stages:\n  s:\n    outs: [o]\n",
])
def test_f09_params_and_metrics_diff_with_a_stage_dvc_cannot_load(both, yaml):
    seen = []
    for r in both:
        r.sh("echo a > s; echo 'lr: 1' > params.yaml")
        with open(r.p("dvc.yaml"), "w") as f:
            f.write(yaml)
        outs = []
        for cmd in (("params", "diff", "--json"), ("metrics", "diff", "--json"), ("params", "diff"),
                    ("metrics", "diff")):
            p = r.t(*cmd, check=False)
            outs.append((p.returncode, p.stdout.strip()))
        seen.append(outs)
    assert seen[0] == seen[1]
    assert seen[1][0] == (0, "{}")


def test_f10_diff_json_without_changes_is_empty_object(both):
    seen = []
    for r in both:
        outs = [r.t("diff", "--json").stdout.strip()]
        r.sh("echo a > a")
        r.t("add", "-q", "a")
        outs.append(r.t("diff", "--json").stdout.strip())
        r.sh("git add -A; git commit -qm a")
        outs.append(r.t("diff", "--json").stdout.strip())
        outs.append(r.t("diff", "--json", "HEAD~1").stdout.strip())
        seen.append(outs)
    assert seen[0] == seen[1]
    assert seen[1][0] == "{}"


TWO_STAGES = ("stages:\n  s:\n    cmd: cp s o\n    deps: [s]\n    outs: [o]\n"
              "  t:\n    cmd: cp s p\n    deps: [s]\n    outs: [p]\n")


def test_f07_outputs_without_hash_fail_checkout_and_pull(both, tmp_path):
    seen = []
    for r in both:
        r.sh("echo a > s")
        with open(r.p("dvc.yaml"), "w") as f:
            f.write(TWO_STAGES)
        r.t("repro", "-q", "t")
        r.t("push", "-q")
        r.sh("git add -A; git commit -qm y")
        res = [r.t("checkout", check=False).returncode != 0, r.t("checkout", "o", check=False).returncode != 0]
        clone = tmp_path / f"clone-{r.name}"
        subprocess.run(["git", "clone", "-q", str(r.path), str(clone)], check=True)
        res.append(r.run("pull", cwd=clone, check=False).returncode != 0)
        res.append(sorted(os.listdir(clone)))
        r.sh("echo hi > o; rm p")
        res.append(r.t("checkout", check=False).returncode != 0)
        res.append(sorted(os.listdir(r.path)))  # o kept without --force, nothing checked out
        res.append(r.t("checkout", "--force", check=False).returncode != 0)
        res.append(sorted(os.listdir(r.path)))
        seen.append(res)
    assert seen[0] == seen[1]
    assert seen[1][:3] == [True, True, True]


@pytest.mark.parametrize("cache_type", ["copy", "hardlink"])
def test_f08_add_of_a_file_inside_a_tracked_directory_updates_its_tree(both, cache_type):
    seen = []
    for r in both:
        r.t("config", "cache.type", cache_type)
        r.sh("mkdir D; echo 1 > D/f; echo x > D/h")
        r.t("add", "-q", "D")
        r.sh("git add -A; git commit -qm D; rm D/f D/h; echo 2 > D/f; echo 3 > D/g; echo y > D/h")
        res = [r.t("add", "-q", "D/f").returncode]
        res.append(Path(r.p("D.dvc")).read_text())
        res.append(r.t("status", "--json").stdout.strip())
        r.t("add", "-q", "D/g", "D/h")
        r.sh("mkdir -p D/sub; echo 5 > D/sub/a")
        r.t("add", "-q", "D/sub")
        res.append(Path(r.p("D.dvc")).read_text())
        res.append(r.cache_files())
        res.append(r.t("status", "--json").stdout.strip())
        res.append(sorted((rel, os.stat(r.p(rel)).st_nlink) for rel in ("D/f", "D/g", "D/h", "D/sub/a")))
        _verify_cache(r)
        seen.append(res)
    assert seen[0] == seen[1]
    assert seen[1][0] == 0


@pytest.mark.parametrize("cache_type", ["copy", "symlink"])
def test_f08_add_of_an_unchanged_file_inside_a_tracked_directory_leaves_its_dvc_file(both, cache_type):
    """Found by the differential tester after f08's fix: re-adding D/f with the content D.dvc records
    rewrote D.dvc without its size; dvc leaves the file as it is."""
    seen = []
    for r in both:
        r.t("config", "cache.type", cache_type)
        r.sh("mkdir -p D/e; printf 'hello\\n' > D/e/b.txt")
        r.t("add", "-q", "D")
        before = Path(r.p("D.dvc")).read_text()
        assert r.t("add", "-q", "D/e/b.txt").returncode == 0
        seen.append((before, Path(r.p("D.dvc")).read_text()))
    assert seen[0] == seen[1] and seen[1][0] == seen[1][1] and "size: 6" in seen[1][1]


def test_f05_checkout_deletes_outputs_no_longer_tracked_after_git_checkout(both):
    seen = []
    for r in both:
        r.sh("echo hello > x")
        r.t("add", "-q", "x")
        r.sh("git add -A; git commit -qm a; mkdir d")
        r.t("move", "x", "d/y")
        r.sh("git add -A; git commit -qm b; git checkout -q HEAD~1")
        r.t("checkout", "-q")
        res = [sorted(os.listdir(r.path)), sorted(os.listdir(r.p("d")))]
        r.sh("git checkout -q main")
        r.t("checkout", "-q")
        res += [sorted(os.listdir(r.path)), sorted(os.listdir(r.p("d")))]
        seen.append(res)
    assert seen[0] == seen[1]
    assert seen[1][1] == []


def test_f05_only_untouched_outputs_with_cached_data_are_deleted(both):
    seen = []
    for r in both:
        r.sh("git commit -qm base --allow-empty; mkdir D; echo 1 > D/f; echo a > a; echo b > b; echo c > c; echo s > s")
        r.t("add", "-q", "D", "a", "b", "c")
        r.sh("printf 'stages:\\n  s:\\n    cmd: cp s o\\n    deps: [s]\\n    outs: [o]\\n' > dvc.yaml")
        r.t("repro", "-q")
        r.sh("git add -A; git commit -qm all; git checkout -q HEAD~1")
        r.sh("chmod u+w a; rm a; echo 2 > a; touch -d '2001-01-01' b")  # changed, and only touched
        r.t("checkout", "-q")
        res = [sorted(os.listdir(r.path))]
        r.sh("git checkout -q main")
        r.t("checkout", "-q", "--force")
        r.sh("rm c.dvc")  # a .dvc file deleted by hand: its output goes too
        r.t("checkout", "-q")
        res.append(sorted(os.listdir(r.path)))
        seen.append(res)
    assert seen[0] == seen[1]
    assert [n for n in seen[1][0] if not n.startswith(".")] == ["a", "b"]
    assert "c" not in seen[1][1] and "D" in seen[1][1]


def test_f05_deliberate_data_left_by_remove_is_kept(both):
    """dvc deletes the data `dvc remove x.dvc` left behind at the next checkout; tide keeps it
    (docs/versioning.md, deliberate differences)."""
    seen = []
    for r in both:
        r.sh("echo e > e")
        r.t("add", "-q", "e")
        r.t("remove", "-q", "e.dvc")
        r.t("checkout", "-q")
        seen.append(os.path.exists(r.p("e")))
    assert seen == [False, True]


def test_smaller_failed_pull_leaves_no_empty_cache_directories(both, tmp_path):
    seen = []
    for r in both:
        r.sh("mkdir D; echo 1 > D/f; echo 2 > D/g; echo x > x")
        r.t("add", "-q", "D", "x")
        r.t("push", "-q")
        r.sh(f"rm ../remote-{r.name}/files/md5/*/*.dir; git add -A; git commit -qm D")
        clone = tmp_path / f"clone-{r.name}"
        subprocess.run(["git", "clone", "-q", str(r.path), str(clone)], check=True)
        failed = r.run("pull", cwd=clone, check=False).returncode != 0
        cache = clone / ".dvc" / "cache"
        dirs = sorted(os.path.relpath(d, cache) for d, _, _ in os.walk(cache))
        seen.append((failed, dirs, sorted(os.listdir(clone))))
    assert seen[0] == seen[1]
    assert seen[1][0]


def test_smaller_add_quiet_prints_nothing(both):
    seen = []
    for r in both:
        r.sh("echo y > y; mkdir D; echo 1 > D/f")
        outs = [r.t("add", "-q", "y").stdout, r.t("add", "D", "-q").stdout]
        r.sh("echo 2 > D/f")
        outs.append(r.t("add", "-q", "D/f").stdout)
        seen.append(outs)
    assert seen[0] == seen[1] == ["", "", ""]


def test_f03_no_run_cache_flag_still_saves_the_run(both):
    seen = []
    for r in both:
        r.sh("echo a > s; printf 'stages:\\n  s:\\n    cmd: cp s p\\n    deps: [s]\\n    outs: [p]\\n' > dvc.yaml")
        r.t("repro", "-q", "--no-run-cache")
        seen.append(len(r.runs()))
    assert seen == [1, 1]


def test_callback_stage_without_deps_or_outs_always_runs(both):
    seen = []
    for r in both:
        r.sh("printf 'stages:\\n  s:\\n    cmd: echo hi >> log\\n' > dvc.yaml")
        r.t("repro", "-q")
        r.t("repro", "-q")
        seen.append((Path(r.p("log")).read_text(), r.t("status", "--json").stdout.strip(),
                     Path(r.p("dvc.lock")).read_text()))
    assert seen[0] == seen[1]
    assert seen[1][0] == "hi\nhi\n"


def test_params_yaml_that_is_not_a_mapping_fails_the_pipeline(both):
    seen = []
    for r in both:
        r.sh("echo a > s; echo '- 1' > params.yaml; echo 'x: 1' > other.yaml")
        r.sh("printf 'stages:\\n  s:\\n    cmd: cp s o\\n    deps: [s]\\n    params: [{other.yaml: [x]}]\\n"
             "    outs: [o]\\n' > dvc.yaml")
        res = [r.t("status", check=False).returncode != 0, r.t("repro", "-q", check=False).returncode != 0]
        p = r.t("params", "diff", "--json", check=False)
        res.append((p.returncode, p.stdout.strip()))
        seen.append(res)
    assert seen[0] == seen[1]
    assert seen[1] == [True, True, (0, "{}")]


def test_status_quiet_answers_by_exit_code(both):
    seen = []
    for r in both:
        codes = [r.t("status", "-q", check=False).returncode]
        r.sh("echo a > a")
        r.t("add", "-q", "a")
        r.t("push", "-q")
        codes += [r.t("status", "-q", check=False).returncode, r.t("status", "-c", "-q", check=False).returncode]
        r.sh("echo b > a")
        codes.append(r.t("status", "-q", check=False).returncode)
        r.t("commit", "-q", "-f")
        codes.append(r.t("status", "-c", "-q", check=False).returncode)
        seen.append(codes)
    assert seen[0] == seen[1] == [0, 0, 0, 1, 1]


@pytest.mark.parametrize("cache_type", breadth(["symlink", "hardlink", "copy"]))
@pytest.mark.parametrize("target", ["u/f.csv", "u"])
def test_f05_stale_output_removed_with_every_cache_type(both, cache_type, target):
    """Found by the differential tester (seed 9107): with cache.type symlink, an output that a
    ``git checkout`` left untracked stayed as a link into the cache; dvc removes it."""
    seen = []
    for r in both:
        r.t("config", "cache.type", cache_type)
        r.sh("git add -A; git commit -qm t; mkdir -p u/s; printf 'no newline' > u/f.csv; echo b > u/s/g")
        r.t("add", "-q", target)
        r.sh("git add -A; git commit -qm c; git checkout -q main~1")
        r.t("checkout", "-q", "--force")
        seen.append(sorted(os.path.relpath(os.path.join(d, f), r.path) for d, _, fs in os.walk(r.p("u"))
                           for f in fs))
    assert seen[0] == seen[1]
