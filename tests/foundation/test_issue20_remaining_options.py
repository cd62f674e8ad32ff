"""Issue 20: the last missing dvc options (add --to-remote/-r/--remote-jobs, add -o into a directory, gc -p,
repro -i, plots diff -e), run by tide and by real dvc 3.67.1 on the same repository and compared: exit
status, error lines, the files written, the remote's objects; what one tool writes, the other reads."""

from __future__ import annotations

import json
import os


def _read(r, rel):
    with open(r.p(rel), encoding="utf-8") as f:
        return f.read()


def _read_abs(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _git_hint_sorted(text):
    """dvc lists the files of its "git add" hint in a set's order (it varies run to run): sorted."""
    return "\n".join("\tgit add " + " ".join(sorted(ln.split()[2:])) if ln.startswith("\tgit add ") else ln
                     for ln in text.split("\n"))


def _same(both, fn):
    seen = [fn(r) for r in both]
    assert seen[0] == seen[1], seen
    return seen[0]


def _objects(base):
    """Object files under a remote or cache directory (dvc leaves hidden ``.tmp`` files behind: left out)."""
    return sorted(os.path.relpath(os.path.join(d, f), base) for d, _, fs in os.walk(base) for f in fs
                  if not f.startswith("."))


def _err(res):
    return res.returncode, [ln for ln in res.stderr.splitlines() if ln.startswith("ERROR")]


def test_issue20_add_to_remote_and_out_as_dvc(both, tide, dvc):
    def go(r):
        ext = f"../ext-{r.name}"
        r.sh(f"mkdir -p {ext}/d sub; echo x > {ext}/d/1; echo y > {ext}/d/2; echo hello > {ext}/a.txt")
        steps = []
        res = r.t("add", f"{ext}/d", "--to-remote")  # -> ./d.dvc, the data only on the remote
        steps.append((res.returncode, _read(r, "d.dvc"), r.ls(), r.cache_files()))
        res = r.t("add", f"{ext}/a.txt", "--to-remote", "-r", "r", "--remote-jobs", "2", "-o", "sub/b.txt")
        steps.append((res.returncode, _read(r, "sub/b.txt.dvc"), sorted(os.listdir(r.p("sub")))))
        steps.append(_objects(r.p(f"../remote-{r.name}")))
        res = r.t("add", f"{ext}/a.txt", "-o", "sub")  # an existing directory: sub/a.txt (dvc's resolve_output)
        steps.append((res.returncode, _read(r, "sub/a.txt"), _read(r, "sub/a.txt.dvc")))
        for argv in (["add", f"{ext}/a.txt", f"{ext}/d", "--to-remote"], ["add", f"{ext}/a.txt", "-r", "r"],
                     ["add", f"{ext}/a.txt", "--to-remote", "--no-commit"]):
            steps.append(_err(r.t(*argv, check=False)))
        return steps

    steps = _same(both, go)
    assert steps[0][2] == ["d.dvc", "sub"] and steps[0][3] == []
    assert steps[3][0] == 0 and steps[4] == (1, ["ERROR: multiple targets can't be used with --to-remote"])
    # what each tool sent, the other pulls
    for r, other in ((both[0], tide), (both[1], dvc)):
        other("pull", cwd=r.path)
        assert (_read(r, "d/1"), _read(r, "d/2"), _read(r, "sub/b.txt")) == ("x\n", "y\n", "hello\n")


def test_issue20_gc_projects_keep_what_the_other_project_uses_as_dvc(both):
    def go(r):
        other = f"../proj2-{r.name}"
        r.sh(f"mkdir {other} && cd {other} && git init -q && echo b > b.txt && echo s > s.txt")
        for argv in (["init", "-q"], ["cache", "dir", f"../{r.name}/.dvc/cache"], ["add", "-q", "b.txt", "s.txt"]):
            r.run(*argv, cwd=r.p(other))
        r.sh("echo a > a.txt; echo s > s.txt; echo old > old.txt")
        r.t("add", "-q", "a.txt", "s.txt", "old.txt")
        r.sh("rm old.txt old.txt.dvc")
        steps = []
        for argv in (["gc", "-w", "-f", "--projects", other], ["gc", "-w", "-f", "-p", "../nowhere"],
                     ["gc", "-w", "-f", "-p"]):
            res = r.t(*argv, check=False)
            steps.append((res.returncode != 0, [f for f in r.cache_files() if not f.startswith(".")]))
        return steps

    steps = _same(both, go)
    assert len(steps[0][1]) == 3 and steps[1][0] and len(steps[2][1]) == 2  # a, s (+ b with -p)


REPRO = """stages:
  a:
    cmd: echo a > a.out
    outs: [a.out]
  b:
    cmd: cat a.out > b.out
    deps: [a.out]
    outs: [b.out]
  c:
    cmd: echo c > c.out
    outs: [c.out]
"""


def test_issue20_repro_interactive_asks_as_dvc(both):
    import re
    import shutil
    import sys

    from tests.conftest import dvc_bin

    script = shutil.which("script")  # util-linux: a terminal for the tool's stdin
    assert script, "util-linux 'script' is needed to give repro -i a terminal"
    tools = {"dvc": dvc_bin(), "tide": f"{sys.executable} -m tide"}

    def on_tty(r, answers, *argv):
        line = " ".join([tools[r.name], *argv])
        res = r.sh(f"printf '{answers}' | {script} -qec '{line}' /dev/null && echo rc=0 || echo rc=fail")
        text = re.sub(r"\x1b\[[0-9;]*m|\r", "", res.stdout)
        keep = ("Going to", "Your response", "Running stage", "aborted", "skipped", "ERROR", "rc=")
        return [ln.strip() for ln in text.splitlines() if any(k in ln for k in keep)]

    def go(r):
        r.sh(f"cat > dvc.yaml <<'EOF'\n{REPRO}EOF\ngit add -A; git commit -qm p")
        steps = [on_tty(r, "x\\ny\\nn\\n", "repro", "-i"), r.ls()]
        res = r.t("repro", "-i", check=False)  # no terminal: nothing can be asked, the stage is refused
        steps.append((res.returncode != 0, "reproduction aborted by the user" in res.stderr, r.ls()))
        r.sh("rm -f dvc.lock a.out")
        steps += [on_tty(r, "n\\ny\\n", "repro", "-i", "-k"), r.ls()]
        return steps

    steps = _same(both, go)
    assert steps[1] == ["a.out", "dvc.lock", "dvc.yaml"] and steps[2][:2] == (True, True)
    assert steps[4] == ["c.out", "dvc.lock", "dvc.yaml"]


TRAIN = """stages:
  train:
    cmd: python3 train.py
    deps: [train.py]
    params: [lr]
    plots: [loss.csv]
"""
TRAIN_PY = """lr = open("params.yaml").read().split(":")[1].strip()
open("loss.csv", "w").write(f"step,loss\\n0,1\\n1,{lr}\\n")
"""


def test_issue20_plots_diff_experiment_as_dvc(tmp_path, tide, dvc):
    """dvc's experiment (dvc exp run) compared by tide's plots diff -e, and experiment names as revisions:
    the same JSON as dvc's, byte for byte."""
    import subprocess

    d = tmp_path / "r"
    d.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(d)], check=True)
    dvc("init", "-q", cwd=d)
    (d / "dvc.yaml").write_text(TRAIN)
    (d / "params.yaml").write_text("lr: 0.5\n")
    (d / "train.py").write_text(TRAIN_PY)
    dvc("repro", "-q", cwd=d)
    subprocess.run("git add -A && git commit -qm base", shell=True, cwd=d, check=True)
    dvc("exp", "run", "-q", "-S", "lr=0.1", "-n", "e1", cwd=d)
    for argv in (["-e", "e1"], ["e1"], ["-e", "e1", "HEAD"], ["-e"]):
        want, got = (run("plots", "diff", *argv, "--json", cwd=d) for run in (dvc, tide))
        assert got.stdout == want.stdout, argv
    revs = [x["revisions"] for x in json.loads(got.stdout)["data"]["loss.csv"]]
    assert revs == [["workspace", "HEAD"]]  # -e without a revision: as plain diff (the workspace changed)
    assert tide("plots", "diff", "-e", "nope", cwd=d, check=False).returncode == 1


LEGACY = {  # a DVC 2.x project: md5-dos2unix hashes, no `hash:` keys, objects in the 2.x cache layout
    "f.txt": b"hello\r\n", "d/f": b"hello\r\n", "o.txt": b"hello\r\n",
    ".dvc/cache/b1/946ac92492d2347c6235b4d2611184": b"hello\r\n",
    ".dvc/cache/f9/62d5d673cb84c3fbf9d61c28e0f324.dir":
        b'[{"md5": "b1946ac92492d2347c6235b4d2611184", "relpath": "f"}]',
    "f.txt.dvc": b"outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 7\n  path: f.txt\n",
    "d.dvc": b"outs:\n- md5: f962d5d673cb84c3fbf9d61c28e0f324.dir\n  size: 7\n  nfiles: 1\n  path: d\n",
    "dvc.yaml": b"stages:\n  s:\n    cmd: cat f.txt > o.txt\n    deps: [f.txt]\n    outs: [o.txt]\n",
    "dvc.lock": b"schema: '2.0'\nstages:\n  s:\n    cmd: cat f.txt > o.txt\n    deps:\n    - path: f.txt\n"
                b"      md5: b1946ac92492d2347c6235b4d2611184\n      size: 7\n    outs:\n    - path: o.txt\n"
                b"      md5: b1946ac92492d2347c6235b4d2611184\n      size: 7\n",
    ".gitignore": b"/f.txt\n/d\n/o.txt\n",
}


def test_issue20_f_opts20_2x_entries_unchanged_and_cache_migrate_dvc_files_as_dvc(both, tide, dvc):
    """Finding: tide's status called a dvc.lock written by DVC 2.x changed (its deps compared by md5, not the
    md5-dos2unix they were recorded with; its outputs looked for in the 3.x cache) and commit refused it;
    dvc: up to date, commit leaves 2.x entries as they are. Then ``cache migrate --dvc-files`` as dvc."""
    import yaml

    from tests.foundation.conftest import make_tree

    def go(r):
        make_tree(r.path, LEGACY)
        r.sh("git add -A && git commit -qm 2.x")
        steps = [r.t("status").stdout, r.t("commit", check=False).returncode, r.sh("git status --short").stdout]
        steps += [_git_hint_sorted(r.t("cache", "migrate", "--dvc-files", *a).stdout.replace(f"\t{r.name} config",
                                                                                           "\tT config"))
                  for a in (["--dry"], [], ["--dry"])]
        steps.append([_read(r, f) for f in ("f.txt.dvc", "d.dvc")] + [yaml.safe_load(_read(r, "dvc.lock"))])
        steps.append([f for f in r.cache_files() if not f.startswith(".")])
        return steps

    steps = _same(both, go)[3:]
    assert "\td.dvc\n\tdvc.yaml (dvc.lock)\n\tf.txt.dvc" in steps[0] and "No DVC files" in steps[2]
    assert steps[3][0] == "outs:\n- md5: af5597c29467a96523a70787c319f4db\n  size: 7\n  path: f.txt\n  hash: md5\n"
    for r, other in ((both[0], tide), (both[1], dvc)):  # each reads what the other migrated: nothing changed
        assert "up to date" in other("status", cwd=r.path).stdout


def test_issue20_artifacts_get_as_dvc(tmp_path, tide, dvc):
    """A registry made by tide (``tide model register/assign``: GTO's tags; ``artifacts:`` in dvc.yaml) read by
    ``dvc artifacts get`` and ``tide artifacts get``: the same messages, files and exit status."""
    import subprocess

    reg = tmp_path / "reg"
    reg.mkdir()
    (tmp_path / "store").mkdir()
    sh = lambda line: subprocess.run(line, shell=True, cwd=reg, check=True, capture_output=True)  # noqa: E731
    sh("git init -q -b main && mkdir models && echo v1 > models/m.pkl")
    for argv in (["init", "-q"], ["remote", "add", "-q", "-d", "r", "../store"], ["add", "-q", "models/m.pkl"]):
        tide(*argv, cwd=reg)
    (reg / "dvc.yaml").write_text("artifacts:\n  mymodel:\n    path: models/m.pkl\n    type: model\n")
    sh("git add -A && git commit -qm v1")
    tide("push", "-q", cwd=reg)
    tide("model", "register", "mymodel", "--version", "v1.0.0", cwd=reg)
    sh("echo v2 > models/m.pkl")
    tide("add", "-q", "models/m.pkl", cwd=reg)
    sh("git add -A && git commit -qm v2")
    tide("push", "-q", cwd=reg)
    tide("model", "register", "mymodel", "--version", "v1.1.0", cwd=reg)
    tide("model", "assign", "mymodel", "--version", "v1.0.0", "--stage", "prod", cwd=reg)

    def go(run, name):
        d = tmp_path / name
        (d / "sub").mkdir(parents=True)
        steps = []
        for argv in ([], ["--rev", "v1.0.0", "-f"], ["--stage", "prod", "-o", "sub"], [], ["--rev", "v9"]):
            res = run("artifacts", "get", "../reg", "mymodel", *argv, cwd=d, check=False)
            got = sorted((os.path.relpath(os.path.join(p, f), d), os.path.join(p, f)) for p, _, fs in os.walk(d)
                         for f in fs)
            got = [(rel, _read_abs(path)) for rel, path in got]
            steps.append((res.returncode, res.stdout, got, "Unable to find artifact 'mymodel @ v9'" in res.stderr))
        return steps

    want, got = go(dvc, "dvc"), go(tide, "tide")
    assert got == want
    urls = [run("artifacts", "get", str(reg), "mymodel", "--stage", "prod", "--show-url").stdout for run in (dvc, tide)]
    assert urls[0] == urls[1] and "/store/files/md5/" in urls[0]
    # dvc get --show-url: the URL of a path's data on the source's remote (-o ignored), errors alike
    seen = {}
    for argv in (["models/m.pkl", "-o", "x"], ["models/m.pkl", "--rev", "v1.0.0"], ["nope.txt"]):
        res = [run("get", str(reg), *argv, "--show-url", cwd=tmp_path, check=False) for run in (dvc, tide)]
        seen[argv[-1]] = [(r.returncode == 0, r.stdout) for r in res]
        assert seen[argv[-1]][0] == seen[argv[-1]][1], seen
        assert not (tmp_path / "x").exists() and not (tmp_path / "m.pkl").exists()
    assert "/store/files/md5/" in seen["x"][0][1] and seen["x"][0][1] != seen["v1.0.0"][0][1]
    assert seen["nope.txt"][0] == (False, "")
    assert want[0][:2] == (0, "Downloaded 1 file(s) to 'm.pkl'\n") and want[3][0] == 1 and want[4][3]


def test_issue20_completion_scripts_complete_commands_and_options(tide, tmp_path):
    """``tide completion``: the bash script, sourced, completes commands, subcommands and options; zsh's
    loads the same through bashcompinit."""
    import subprocess

    script = tmp_path / "tide.bash"
    script.write_text(tide("completion", "-s", "bash").stdout)
    probe = "; ".join(f'read -ra COMP_WORDS <<< "{w}"; COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); _tide; '
                      f'echo "${{COMPREPLY[*]}}"' for w in ("tide artif", "tide add --to", "tide cache m",
                                                            "tide cache migrate --dvc", "tide gc -p", "tide queue _"))
    out = subprocess.run(["bash", "-c", f"source {script}; {probe}"], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["artifacts", "--to-remote", "migrate", "--dvc-files", "-p", ""]
    zsh = tide("completion", "--shell", "zsh").stdout
    assert zsh.startswith("#compdef tide\n") and "bashcompinit" in zsh and "complete -o filenames -F _tide tide" in zsh
    import shutil

    if shutil.which("zsh"):  # where zsh is installed: the words picked as bashcompinit passes them (arrays from 1;
        # zsh's compgen does not filter by the typed prefix, zsh's matcher does that later)
        (tmp_path / "tide.zsh").write_text(zsh)
        run = ("autoload -U compinit && compinit -u; source {}; words=(tide cache migrate --dvc); CURRENT=4; "
               'COMP_WORDS=("${{words[@]}}"); COMP_CWORD=3; _tide; print -r -- "${{COMPREPLY[*]}}"')
        out = subprocess.run(["zsh", "-fc", run.format(tmp_path / "tide.zsh")], capture_output=True, text=True)
        assert out.stdout.split() == ["--dry", "--dvc-files", "--help", "--log", "--quiet", "--verbose", "-h", "-q",
                                      "-v"], out
    assert tide("completion", "-s", "fish", check=False).returncode != 0
