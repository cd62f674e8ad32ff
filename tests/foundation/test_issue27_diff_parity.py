"""Issue 27 (second differential-testing round, N2-N11): ``diff``, ``status``, ``metrics show`` and
``repro`` compared with dvc 3.67.1, each scenario run on both tools in fresh repositories
(``git init; T init; T remote add -d r ../remote; commit``)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import git
from tests.foundation.conftest import ToolRepo


def _same(both, *args):
    """Both tools' JSON output of ``args``; asserts they are equal and returns it."""
    got = [r.j(*args) for r in both]
    assert got[0] == got[1], args
    return got[0]


def _same_text(both, *args):
    got = [r.t(*args).stdout for r in both]
    assert got[0] == got[1], args
    return got[0]


def _commit(r, msg="c"):
    git(r.path, "add", "-A")
    git(r.path, "commit", "-qm", msg)


def test_issue27_n2_diff_reports_a_moved_file_as_renamed(both):
    for r in both:
        r.sh("echo a > a")
        r.t("add", "-q", "a")
        _commit(r)
        r.t("move", "-q", "a", "b")
    got = _same(both, "diff", "--json")
    assert got["renamed"] == [{"path": {"old": "a", "new": "b"}}] and not got["added"] and not got["deleted"]
    assert "Renamed:\n    a -> b\n" in _same_text(both, "diff")


def test_issue27_n2_diff_renames_directories_files_inside_them_and_equal_contents(both):
    for r in both:
        r.sh("mkdir d; echo a > d/a; echo b > d/b; echo c > c; echo c > c2")
        r.t("add", "-q", "d", "c", "c2")
        _commit(r)
        r.t("move", "-q", "d", "e")
        r.sh("mv c2 c3; mv c2.dvc c3.dvc; sed -i 's/path: c2/path: c3/' c3.dvc")
    got = _same(both, "diff", "--json")
    assert {e["path"]["new"] for e in got["renamed"]} == {"c3", "e/", "e/a", "e/b"}
    for args in (["diff"], ["diff", "--show-hash"], ["diff", "--md"], ["diff", "--md", "--show-hash"]):
        _same_text(both, *args)
    for r in both:  # a file renamed inside the renamed directory, one added: the directory changed
        r.sh("mv e/a e/a2; echo z > e/z")
    got = _same(both, "diff", "--json", "--show-hash")
    assert [e["path"] for e in got["deleted"]] == ["d/"] and len(got["renamed"]) == 3
    for args in (["diff"], ["diff", "--show-hash"], ["diff", "--md"]):
        _same_text(both, *args)


def test_issue27_n2_diff_not_in_cache_in_a_clone_and_hide_missing(both):
    for r in both:
        r.sh("mkdir d; echo a > d/a; echo b > d/b; echo x > x")
        r.t("add", "-q", "d", "x")
        _commit(r)
    got = _same(both, "diff", "--json")
    assert got == {}
    for r in both:  # one file object of the directory gone, x changed
        r.sh("rm -rf .dvc/cache/files/md5/3b; echo y > x")
    got = _same(both, "diff", "--json")
    assert got["not in cache"] == [{"path": "d/b"}] and got["modified"] == [{"path": "x"}]
    assert "not in cache" not in _same(both, "diff", "--json", "--hide-missing")
    assert _same(both, "diff", "HEAD", "HEAD", "--json") == {}
    assert "not in cache" not in _same(both, "diff", "HEAD~1", "HEAD", "--json")
    clones = []
    for r in both:
        c = r.path.parent / f"clone-{r.name}"
        git(r.path, "clone", "-q", ".", str(c))
        clones.append(ToolRepo(r.name, r.run, c))
    got = _same(clones, "diff", "--json")
    assert got["not in cache"] == [{"path": "d/"}, {"path": "x"}] and got["deleted"] == got["not in cache"]
    _same_text(clones, "diff")


STAGE_N3 = (
    "stages:\n  s:\n    cmd: echo 1 > m.json; echo 2 > p.csv; echo 3 > o\n    outs: [o]\n"
    "    metrics: [m.json]\n    plots: [p.csv]\n"
)


def test_issue27_n3_diff_lists_cached_outputs_of_a_stage_that_never_ran(both):
    for r in both:
        r.sh(f"printf '{STAGE_N3}' > dvc.yaml")
    assert _same(both, "diff", "--json") == {}  # dvc.yaml not committed: nothing at HEAD
    for r in both:
        _commit(r)
    got = _same(both, "diff", "--json")
    assert [e["path"] for e in got["deleted"]] == ["m.json", "o", "p.csv"]
    _same_text(both, "diff")
    for r in both:
        r.sh("echo 3 > o")
    got = _same(both, "diff", "--json")
    assert got["modified"] == [{"path": "o"}]
    got = _same(both, "diff", "HEAD~1", "HEAD", "--json")
    assert [e["path"] for e in got["added"]] == ["m.json", "o", "p.csv"]


STAGE_N4 = (
    "stages:\n  s:\n    cmd: echo 1 > u; echo 2 > o; echo 5 > m.json; echo 6 > n.json\n"
    "    outs:\n    - o\n    - u:\n        cache: false\n"
    "    metrics:\n    - m.json\n    - n.json:\n        cache: false\n"
)


def test_issue27_n4_diff_omits_uncached_outputs(both):
    for r in both:
        r.sh(f"printf '{STAGE_N4}' > dvc.yaml")
        r.t("repro", "-q")
        _commit(r)
        r.sh("echo 3 > u; echo 4 > o; echo 7 > m.json; echo 8 > n.json")
    got = _same(both, "diff", "--json")
    assert got["modified"] == [{"path": "m.json"}, {"path": "o"}]


def test_issue27_diff_with_an_invalid_dvc_yaml_fails(both):
    for r in both:
        r.sh("printf 'stages:\\n  s:\\n    cmd: x\\n    bogus: 1\\n' > dvc.yaml")
        assert r.t("diff", "--json", check=False).returncode != 0, r.name


def test_issue27_n9_status_in_a_clone_says_not_in_cache(both):
    for r in both:
        r.sh("mkdir d; echo a > d/a; echo b > d/b; echo x > x; echo w > w")
        r.t("add", "-q", "d", "x", "w")
        _commit(r)
    clones = []
    for r in both:
        c = r.path.parent / f"clone-{r.name}"
        git(r.path, "clone", "-q", ".", str(c))
        clones.append(ToolRepo(r.name, r.run, c))
    got = _same(clones, "status", "--json")
    assert got["x.dvc"] == [{"changed outs": {"x": "not in cache"}}]
    assert got["d.dvc"] == [{"changed outs": {"d": "not in cache"}}]
    texts = [r.t("status").stdout for r in clones]
    assert all("not in cache:       x" in t and "deleted" not in t for t in texts), texts
    for c in clones:  # present in the workspace, changed or not: still not in cache
        c.sh("echo x > x; echo y > w")
    assert _same(clones, "status", "--json")["w.dvc"] == [{"changed outs": {"w": "not in cache"}}]
    for r in both:  # a directory missing one file object, then deleted from the workspace
        r.sh("rm -rf .dvc/cache/files/md5/3b d")
    assert _same(both, "status", "--json") == {"d.dvc": [{"changed outs": {"d": "not in cache"}}]}


def test_issue27_n10_metrics_show_json_errors_have_dvcs_shape(both):
    for r in both:
        r.sh("printf 'stages:\\n  s:\\n    cmd: echo 1 > m.json\\n    metrics: [m.json, n.json]\\n' > dvc.yaml")
        r.sh("echo '{\"a\": 1}' > n.json")
    _same(both, "metrics", "show", "--json")  # m.json: FileNotFoundError, the same message
    _same_text(both, "metrics", "show")
    _same_text(both, "metrics", "show", "--md")
    _same(both, "metrics", "show", "nothere.json", "--json")
    for r in both:
        _commit(r)
        r.sh("echo 'x: [' > m.yaml")
    got = [r.j("metrics", "show", "m.yaml", "--json") for r in both]
    assert [g[""]["data"]["m.yaml"]["error"]["type"] for g in got] == ["YAMLFileCorruptedError"] * 2
    for r in both:  # an empty JSON file is corrupt (an empty YAML file is {}): seed 62001 sequence 1927
        r.sh(": > e.json; : > e.yaml")
    got = [r.j("metrics", "show", "e.json", "e.yaml", "--json")[""]["data"] for r in both]
    assert [g["e.json"]["error"]["type"] for g in got] == ["JSONFileCorruptedError"] * 2
    assert [g["e.yaml"] for g in got] == [{"data": {}}] * 2
    for r in both:
        r.sh("printf 'stages:\\n  s:\\n    cmd: x\\n    bogus: 1\\n' > dvc.yaml")
    got = [r.j("metrics", "show", "-a", "--json") for r in both]
    assert got[0]["main"] == got[1]["main"]
    assert [set(g) for g in got] == [{"workspace", "main"}] * 2
    assert [g["workspace"]["error"]["type"] for g in got] == ["YAMLValidationError"] * 2
    for r in both:
        assert "failed to load some metrics for following revisions: 'workspace, main'." in r.t(
            "metrics", "show", "-a").stderr, r.name


STAGE_N11 = (
    "stages:\n  s1:\n    cmd: cat a > m.json; cat a > o\n    deps: [a]\n    params: [lr]\n"
    "    outs: [o]\n    metrics:\n    - m.json:\n        cache: false\n"
)


@pytest.mark.parametrize("params", [None, "x: 1"], ids=["no-file", "no-key"])
def test_issue27_n11_repro_checks_params_before_running(both, params):
    for r in both:
        r.sh(f"echo 1 > a; printf '{STAGE_N11}' > dvc.yaml")
        if params:
            r.sh(f"echo '{params}' > params.yaml")
        assert r.t("repro", "-q", check=False).returncode != 0, r.name
    assert both[0].ls() == both[1].ls()
    assert "m.json" not in both[1].ls()


@pytest.mark.parametrize("params", [None, "x: 1"], ids=["no-file", "no-key"])
def test_issue27_n11_failing_params_check_removes_previous_outputs(both, params):
    """As dvc (N65, was a deliberate difference until session 13): the outputs are removed, then the
    missing parameter fails the stage. Neither runs the command."""
    for r in both:
        r.sh(f"echo 2 > a; printf '{STAGE_N11}' > dvc.yaml; echo old > m.json; echo old > o")
        if params:
            r.sh(f"echo '{params}' > params.yaml")
        assert r.t("repro", "-q", check=False).returncode != 0, r.name
    assert both[0].ls() == both[1].ls()
    assert not {"o", "m.json"} & set(both[1].ls())


def test_issue27_diff_targets_limit_the_comparison(both):
    for r in both:
        r.sh("mkdir d; echo a > d/a; echo b > d/b; echo x > x; echo y > y")
        r.t("add", "-q", "d", "x", "y")
        _commit(r)
        r.sh("echo 1 > d/a; echo 2 > x; echo 3 > y")
    assert _same(both, "diff", "--json", "--targets", "x")["modified"] == [{"path": "x"}]
    assert _same(both, "diff", "--json", "--targets", "x.dvc")["modified"] == [{"path": "x"}]
    assert _same(both, "diff", "--json", "--targets", "d/a")["modified"] == [{"path": "d/a"}]
    got = _same(both, "diff", "--json", "--targets", "x", "d")
    assert got["modified"] == [{"path": "d/"}, {"path": "d/a"}, {"path": "x"}]
    got = [r.run("diff", "--json", "--targets", "a", cwd=r.path / "d").stdout for r in both]
    assert got[0] == got[1] and json.loads(got[0])["modified"] == [{"path": "d/a"}]
    for r in both:
        assert r.t("diff", "--json", "--targets", "nope", check=False).returncode != 0, r.name


def test_issue27_n60_status_c_in_a_clone_downloads_the_manifest_only_the_remote_has(both):
    """N60: ``status -c`` in a fresh clone lists a directory by its files, as dvc does: the ``.dir``
    manifest only the remote has is downloaded into the cache (verified) and is then in sync itself.
    The remote's manifest stands for all its files (d/b's object removed there is still ``deleted``)."""
    import os
    import shutil

    for r in both:
        r.sh("mkdir -p d/sub; echo a > d/a; echo b > d/b; echo c > d/sub/c; echo x > x")
        r.t("add", "-q", "d", "x")
        r.t("push", "-q")
        _commit(r)
        r.sh(f"rm ../remote-{r.name}/files/md5/3b/5d5c3712955042212316173ccf37be")  # d/b's object
    clones = []
    for r in both:
        c = r.path.parent / f"clone-{r.name}"
        git(r.path, "clone", "-q", ".", str(c))
        clones.append(ToolRepo(r.name, r.run, c))
    files = {"d/a": "deleted", "d/b": "deleted", "d/sub/c": "deleted"}
    assert _same(clones, "status", "-c", "--json") == {**files, "x": "deleted"}
    manifest = [f for f in clones[0].cache_files() if f.endswith(".dir")]
    assert len(manifest) == 1 and all(c.cache_files() == manifest for c in clones)
    texts = [sorted(c.t("status", "-c").stdout.splitlines()) for c in clones]
    assert texts[0] == texts[1] and len(texts[0]) == 4, texts
    for c in clones:  # from a subdirectory: names relative to it, as dvc names outputs
        os.mkdir(c.p("d"))
    got = [json.loads(c.run("status", "-c", "--json", cwd=c.path / "d").stdout) for c in clones]
    assert got[0] == got[1] == {"./a": "deleted", "./b": "deleted", "./sub/c": "deleted", "../x": "deleted"}
    for c in clones:  # targets; one file object in the cache: in sync, not listed
        shutil.rmtree(c.p(".dvc/cache"))
        assert c.j("status", "-c", "x", "--json") == {"x": "deleted"} and not os.path.exists(c.p(".dvc/cache"))
        c.sh(f"mkdir -p .dvc/cache/files/md5/60 && cp ../remote-{c.name}/files/md5/60/b725f10c9c85c70d97880dfe8191b3"
             " .dvc/cache/files/md5/60/")
    assert _same(clones, "status", "-c", "d", "--json") == {"d/b": "deleted", "d/sub/c": "deleted"}
    tide = clones[1]
    remote = tide.path.parent / "remote-tide" / "files" / "md5" / manifest[0]
    good = remote.read_bytes()
    for bad in (b'[{"md5": "00000000000000000000000000000000", "relpath": "q"}]', b"garbage{"):
        shutil.rmtree(tide.p(".dvc/cache"))
        os.chmod(remote, 0o644)
        remote.write_bytes(bad)  # corrupt on the remote: one error line, nothing cached
        res = tide.t("status", "-c", "--json", check=False)
        assert res.returncode != 0 and res.stdout == "" and len(res.stderr.splitlines()) == 1, res
        assert "corrupt" in res.stderr and "Traceback" not in res.stderr
        assert tide.cache_files() == []
    remote.unlink()  # the manifest nowhere: the directory stays itself (deliberate N28)
    assert tide.j("status", "-c", "--json") == {"d": "missing", "x": "deleted"} and tide.cache_files() == []
    remote.write_bytes(good)
    assert tide.j("status", "-c", "--json") == {**files, "x": "deleted"}
    import fcntl

    shutil.rmtree(tide.p(".dvc/cache"))
    with open(tide.p(".dvc/tmp/lock"), "w") as held:  # another process writes the repository
        fcntl.flock(held, fcntl.LOCK_EX)
        res = tide.run("status", "-c", "--json", cwd=tide.path, check=False,
                       env={**os.environ, "TIDE_LOCK_TIMEOUT": "0.2"})
    assert res.returncode != 0 and "locked" in res.stderr and tide.cache_files() == [], res  # cached under it only
    assert tide.j("status", "-c", "--json") == {**files, "x": "deleted"}
