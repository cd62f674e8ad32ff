"""Issue 20, target selection and graphs as dvc 3.67.1 has them: ``status -R/--with-deps/-a/-T/-A``,
``gc --rev/--num/--not-in-remote``, ``data status --not-in-remote``, ``dag --dot/--mermaid/--md/--outs``.
tide and real dvc run on the same repository layout; exit status, output and the cache left are compared."""

from __future__ import annotations

import json
import os
import shutil

PIPE = """stages:
  prep:
    cmd: cat data/raw.txt > prepared.txt
    deps: [data]
    outs: [prepared.txt]
  train:
    cmd: cat prepared.txt ext.txt > model.txt && cp ext.txt m.json
    deps: [prepared.txt, ext.txt]
    outs: [model.txt]
    metrics: [m.json]
  lone:
    cmd: echo x > lone.txt
    outs: [lone.txt]
"""
SUB = """stages:
  eval:
    cmd: cat ../model.txt > ev.txt
    deps: [../model.txt]
    outs: [ev.txt]
"""


def _same(both, fn):
    seen = [fn(r) for r in both]
    assert seen[0] == seen[1], seen
    return seen[0]


def _project(r):
    r.sh("mkdir -p data sub && echo a > data/raw.txt && echo b > ext.txt")
    r.t("add", "-q", "data", "ext.txt")
    with open(r.p("dvc.yaml"), "w") as f:
        f.write(PIPE)
    with open(r.p("sub/dvc.yaml"), "w") as f:
        f.write(SUB)


def test_issue20_dag_and_status_selection_as_dvc(both):
    """``dag``: .dvc files are nodes, ``--outs`` draws outputs, byte for byte; ``status -R/--with-deps`` select
    as dvc; ``-a/-T/-A`` are refused for the local status with dvc's message and work with ``-c``."""
    dags = (["--dot"], ["--md"], ["--outs", "--dot"], ["--outs", "--mermaid", "train"], ["--dot", "--full", "data.dvc"])

    def go(r):
        _project(r)
        got = [(a, r.t("dag", *a, check=False)) for a in dags]
        got = [(a, p.returncode, p.stdout) for a, p in got]
        sub = r.run("dag", "--dot", cwd=r.p("sub"), check=False)  # names relative to the current directory
        got.append((sub.returncode, sub.stdout))
        r.sh("echo changed > ext.txt")
        for a in (["-R", "sub"], ["--with-deps", "sub/dvc.yaml:eval"]):
            p = r.t("status", "--json", *a, check=False)
            got.append((a, p.returncode, json.loads(p.stdout or "null")))
        p = r.t("status", "-a", "-j", "2", check=False)
        got.append((p.returncode, p.stdout, p.stderr.strip().splitlines()[-1].split(": ", 1)[-1]))
        p = r.t("data", "status", "--not-in-remote", "--granular", "--json", check=False)  # nothing pushed yet
        got.append((p.returncode, json.loads(p.stdout)))
        r.t("push", "-q")
        p = r.t("status", "-c", "-a", "--json", check=False)
        got.append((p.returncode, json.loads(p.stdout)))
        p = r.t("status", "-c", "--with-deps", "sub/dvc.yaml:eval", "--json", check=False)  # stages never run
        got.append((p.returncode, json.loads(p.stdout)))
        return got

    seen = _same(both, go)
    dot = seen[0][2]
    assert '"data.dvc";' in dot and '"ext.txt.dvc" -> "train";' in dot and dot.endswith("}\n\n")
    assert seen[5][1].startswith('strict digraph {\n"../data.dvc";')
    assert list(seen[6][2]) == ["sub/dvc.yaml:eval"]
    assert {"ext.txt.dvc", "prep", "train", "sub/dvc.yaml:eval"} == set(seen[7][2])
    assert seen[8] == (1, "", "The following options are meaningless for local status: --all-branches, --jobs")
    assert sorted(seen[9][1]["not_in_remote"]) == ["data/", "data/raw.txt", "ext.txt"]


def test_issue20_gc_rev_num_and_not_in_remote_keep_what_dvc_keeps(both):
    scopes = (["--rev", "HEAD~1"], ["--rev", "main", "-n", "2"], ["-a", "-n", "2"], ["-w", "-n", "2"])

    def go(r):
        for i in range(1, 4):
            r.sh(f"echo v{i} > f")
            r.t("add", "-q", "f")
            r.sh(f"git add -A && git commit -qm c{i}")
        r.sh("git checkout -q -b side HEAD~2 && echo s > f")
        r.t("add", "-q", "f")
        r.sh("git add -A && git commit -qm s && git checkout -q main")
        r.t("checkout", "-q")
        cache = r.p(".dvc/cache")
        shutil.copytree(cache, r.p("../cache0-" + r.name))
        got = []
        for a in scopes:
            shutil.rmtree(cache)
            shutil.copytree(r.p("../cache0-" + r.name), cache)
            p = r.t("gc", "-f", *a, check=False)
            got.append((a, p.returncode == 0, r.cache_files()))
        shutil.rmtree(cache)
        shutil.copytree(r.p("../cache0-" + r.name), cache)
        r.sh("git checkout -q HEAD~1")
        r.t("checkout", "-q")
        r.t("push", "-q")
        r.sh("git checkout -q main")
        r.t("checkout", "-q")
        p = r.t("data", "status", "--not-in-remote", "--json", check=False)
        got.append(("data status", p.returncode, json.loads(p.stdout)))
        p = r.t("gc", "-f", "-w", "--not-in-remote", check=False)
        got.append(("nir", p.returncode, r.cache_files(), sorted(os.listdir(r.p("../remote-" + r.name)))))
        return got

    seen = _same(both, go)
    # the workspace is always kept: v3; --rev HEAD~1: + v2; -a -n 2: + side's s and its parent's v1
    assert len(seen[0][2]) == 2 and len(seen[1][2]) == 2 and len(seen[2][2]) == 4
    assert seen[3][1] is False  # -n without --rev/-a
    assert seen[4][2] == {"not_in_remote": ["f"], "committed": {}} or seen[4][2]["not_in_remote"] == ["f"]
    assert len(seen[5][2]) == 1  # v2 is on the remote, v3 is not


def test_issue20_f01_data_status_skips_outputs_of_stages_never_run(both):
    """Found by the test above: tide listed a declared output with no hash in dvc.lock as added (committed)
    and deleted (uncommitted); dvc counts an output without a hash as absent."""
    def go(r):
        r.sh("printf 'stages:\\n  a:\\n    cmd: echo x > a.txt\\n    outs: [a.txt]\\n  b:\\n    cmd: echo y > b.txt\\n"
             "    outs: [b.txt]\\n' > dvc.yaml && git add -A && git commit -qm p && echo hand > a.txt")
        p = r.t("data", "status", "--json", "--granular", "--unchanged", check=False)
        return p.returncode, json.loads(p.stdout)

    assert _same(both, go) == (0, {"uncommitted": {"added": ["a.txt"]}})


def test_issue20_du_and_cache_migrate_as_dvc(both):
    """``du``: sizes of git- and dvc-tracked files (dvc lists the entries in no stable order: compared sorted);
    ``cache migrate``: 2.x objects re-hashed into the 3.x layout, the message and the objects as dvc's."""
    legacy = {"b1/946ac92492d2347c6235b4d2611184": b"hello\r\n",  # md5-dos2unix of the bytes
              "f9/62d5d673cb84c3fbf9d61c28e0f324.dir": b'[{"md5": "b1946ac92492d2347c6235b4d2611184", "relpath": "f"}]'}

    def go(r):
        r.sh("mkdir -p d/s && echo 1 > d/x && echo 22 > d/s/y && echo abc > a && echo note > README")
        r.t("add", "-q", "d", "a")
        got = [sorted(r.t("du", ".", *a).stdout.splitlines()) for a in ([], ["d"], ["-s"], ["d/s/y"])]
        r.sh("printf '[core]\\n    remote = q\\n[\\x27remote \"q\"\\x27]\\n    url = /nonexistent\\n' > ../c.cfg")
        for a in (["--config", "../c.cfg"], ["--remote", "r", "--remote-config", "url=/nonexistent"]):
            res = r.t("du", ".", "-s", *a, check=False)  # sizes from the .dvc files: the remote is not read
            got.append((res.returncode, res.stdout))
        for rel, raw in legacy.items():
            os.makedirs(os.path.dirname(r.p(".dvc/cache/" + rel)), exist_ok=True)
            with open(r.p(".dvc/cache/" + rel), "wb") as f:
                f.write(raw)
        for a in (["--dry"], [], []):
            got.append(r.t("cache", "migrate", *a).stdout)
        got.append(r.cache_files())
        return got

    seen = _same(both, go)
    assert seen[2] == ["20"] and seen[1] == sorted(["2  d/x", "3  d/s", "5  d"])
    assert seen[4:6] == [(0, "20\n")] * 2
    assert seen[7:9] == ["Migrated 2 files to DVC 3.0 cache location.\n",
                         "Migrated 0 files to DVC 3.0 cache location.\n"]
    assert "af/5597c29467a96523a70787c319f4db" in seen[9]


def test_issue20_f02_metrics_show_all_hides_the_unchanged_workspace_and_names_commits_as_dvc(both):
    """tide listed the workspace beside ``-a/-T`` revisions even when it equals the active branch, and one
    row per branch or tag; dvc hides such a workspace and names a commit once by all its names (``main,v1``)."""
    def go(r):
        r.sh("echo '{\"acc\": 1}' > m.json && printf 'metrics:\\n- m.json\\n' > dvc.yaml && git add -A && "
             "git commit -qm m && git tag v1")
        got = [list(r.j("metrics", "show", "-a", "--json"))]
        r.sh("git branch side")
        got.append(list(r.j("metrics", "show", "-a", "-T", "--json")))
        r.sh("echo '{\"acc\": 2}' > m.json && mkdir sub")
        got.append(r.t("metrics", "show", "-a").stdout)
        for a in (["show", "--json"], ["diff", "HEAD", "--json"]):  # f03: from a subdirectory, paths relative to it
            got.append(r.run("metrics", *a, cwd=r.p("sub")).stdout)
        return got

    seen = _same(both, go)
    # hidden only when equal to the revision named by the active branch alone
    assert seen[:2] == [["main"], ["workspace", "main,side,v1"]] and "workspace   m.json  2" in seen[2]
    assert '"../m.json"' in seen[3] and '"../m.json"' in seen[4]


FOREACH = """stages:
  gen:
    foreach: [a, b]
    do:
      cmd: echo ${item} > ${item}.txt
      outs: ["${item}.txt"]
  use:
    foreach: [a, b]
    do:
      cmd: cat ${item}.txt > u-${item}.txt
      deps: ["${item}.txt"]
      outs: ["u-${item}.txt"]
  final:
    cmd: cat u-a.txt u-b.txt > f.txt
    deps: [u-a.txt, u-b.txt]
    outs: [f.txt]
"""


def test_issue20_dag_collapses_foreach_stages_as_dvc(both):
    def go(r):
        with open(r.p("dvc.yaml"), "w") as f:
            f.write(FOREACH)
        return [r.t("dag", *a).stdout for a in (["--dot", "use@a"], ["--collapse-foreach-matrix", "--md"])]

    seen = _same(both, go)
    assert 'node2["gen"]' in seen[1] and "node2-->node3" in seen[1]


def test_issue20_data_status_no_remote_refresh_uses_what_is_known_as_dvc(both):
    """``data status --not-in-remote --no-remote-refresh``: the remote is not asked; what an earlier refreshing
    run found there counts, what it found missing does not (dvc's cached remote index)."""
    def go(r):
        r.sh("echo a > a && echo b > b")
        r.t("add", "-q", "a", "b")
        r.sh("git add -A && git commit -qm ab")
        r.t("push", "-q", "a.dvc")
        got = []
        for a in ([], "rm", ["--no-remote-refresh"], [], ["--no-remote-refresh"]):
            if a == "rm":
                shutil.rmtree(r.p(f"../remote-{r.name}/files"))
                continue
            p = r.t("data", "status", "--not-in-remote", "--json", *a, check=False)
            got.append((p.returncode, sorted(json.loads(p.stdout)["not_in_remote"])))
        return got

    assert _same(both, go) == [(0, ["b"])] * 2 + [(0, ["a", "b"])] * 2


def test_issue20_status_reports_import_update_available_as_dvc(both):
    """dvc's ``status``: an import whose source repository moved on past its ``rev_lock`` has an update
    available (a changed dependency) unless ``--no-updates``."""
    def go(r):
        src = f"../src-{r.name}"
        r.sh(f"git init -q {src} && cd {src} && echo 1 > x.txt")
        r.run("init", "-q", cwd=r.p(src))
        r.run("add", "-q", "x.txt", cwd=r.p(src))
        r.sh(f"cd {src} && git add -A && git commit -qm 1")
        r.t("import", "-q", src, "x.txt")
        r.sh("git add -A && git commit -qm imp")
        got = [r.t("status", "--json").stdout]
        r.sh(f"cd {src} && echo 2 > README && git add README && git commit -qm 2")
        for a in (["--json"], [], ["--no-updates"], ["-q"]):
            p = r.t("status", *a, check=False)
            got.append((p.returncode, p.stdout.replace(src, "SRC")))
        return got

    seen = _same(both, go)
    assert json.loads(seen[1][1]) == {"x.txt.dvc": [{"changed deps": {"x.txt (SRC)": "update available"}}]}
    assert seen[3] == (0, "Data and pipelines are up to date.\n") and seen[4][0] == 1
