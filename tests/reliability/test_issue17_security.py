"""Issue 17, security findings 7, 10, 11, 13 and 14: what leaves the machine in a report, values
passed to external programs, what the demo deletes, corrupt remote objects, import-db side effects."""

from __future__ import annotations

import os

import pytest

from tide.core.errors import UsageError

# --- finding 11: tide demo deletes only what it made ---------------------------------------------


def test_issue17_f11_demo_refuses_dot_and_foreign_dirs(tmp_path, tide, monkeypatch):
    (tmp_path / "precious.txt").write_text("keep me\n")
    res = tide("demo", "--dir", ".", "--days", "1", cwd=tmp_path, check=False)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me\n"

    other = tmp_path / "other"
    other.mkdir()
    (other / "data.csv").write_text("1,2\n")
    res = tide("demo", "--dir", other, "--days", "1", cwd=tmp_path, check=False)
    assert res.returncode != 0 and "not made by 'tide demo'" in res.stderr
    assert (other / "data.csv").read_text() == "1,2\n"


def test_issue17_f11_demo_claims_only_its_own_dirs(tmp_path, monkeypatch):
    from tide.ops.demo import MARKER, claim_dir

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    for bad in (".", str(tmp_path), "/", str(tmp_path / "home"), "..", os.path.dirname(str(tmp_path))):
        with pytest.raises(UsageError):
            claim_dir(bad)
    fresh = claim_dir("fresh")                      # created: marked
    assert os.path.isfile(os.path.join(fresh, MARKER))
    (tmp_path / "fresh" / "old").mkdir()
    (tmp_path / "fresh" / "old" / "f").write_text("x")
    assert claim_dir("fresh") == fresh and os.listdir(fresh) == [MARKER]  # an earlier demo's dir: emptied
    (tmp_path / "empty").mkdir()
    claim_dir("empty")                              # empty: taken and marked
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "x").write_text("x")
    os.symlink(tmp_path / "fresh" / MARKER, tmp_path / "linked" / MARKER)  # a marker must be a real file
    with pytest.raises(UsageError, match="not made by"):
        claim_dir("linked")
    assert (tmp_path / "linked" / "x").exists()
    os.symlink(tmp_path / "fresh", tmp_path / "alias")
    with pytest.raises(UsageError, match="not a directory"):
        claim_dir("alias")


# --- finding 14: import-db creates nothing -------------------------------------------------------


@pytest.mark.parametrize("conn", ["sqlite:///nope.db", "sqlite:///sub/nope.db", "sqlite:///file:nope.db?uri=true"])
def test_issue17_f14_import_db_missing_sqlite_creates_nothing(repo_dir, tide, conn):
    before = sorted(p.name for p in repo_dir.rglob("*") if ".git" not in p.parts and ".dvc" not in p.parts)
    res = tide("import-db", "--table", "t", "--conn", conn, "-o", "out.csv", cwd=repo_dir, check=False)
    assert res.returncode != 0 and res.stderr.startswith("ERROR: ") and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    after = sorted(p.name for p in repo_dir.rglob("*") if ".git" not in p.parts and ".dvc" not in p.parts)
    assert after == before


def test_issue17_f14_import_db_reads_sqlite_read_only(repo_dir, tide):
    import sqlite3

    db = repo_dir / "shop.db"
    c = sqlite3.connect(db)
    c.execute("create table t (a integer)")
    c.execute("insert into t values (1)")
    c.commit()
    c.close()
    res = tide("import-db", "--sql", "delete from t returning a", "--conn", f"sqlite:///{db}", "-o", "o.csv",
               cwd=repo_dir, check=False)
    assert res.returncode != 0 and "readonly" in res.stderr
    c = sqlite3.connect(db)
    assert c.execute("select count(*) from t").fetchone() == (1,)
    c.close()


# --- finding 13: corrupt remote objects: which, where, and a repair that works -------------------


def test_issue17_f13_pull_names_corrupt_objects_and_the_advice_repairs(repo_dir, tide, tmp_path):
    import shutil

    from tests.conftest import git

    remote = tmp_path / "store"
    tide("remote", "add", "-d", "store", remote, cwd=repo_dir)
    (repo_dir / "d").mkdir()
    (repo_dir / "d" / "a.txt").write_text("precious\n")
    (repo_dir / "b.txt").write_text("other\n")
    tide("add", "d", "b.txt", cwd=repo_dir)
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "data")
    tide("push", cwd=repo_dir)
    import hashlib

    oid = hashlib.md5(b"precious\n").hexdigest()
    obj = remote / "files" / "md5" / oid[:2] / oid[2:]
    os.chmod(obj, 0o644)
    obj.write_text("tampered\n")

    cache = repo_dir / ".dvc" / "cache"
    shutil.move(cache, tmp_path / "good-cache")
    shutil.rmtree(repo_dir / "d")
    res = tide("pull", cwd=repo_dir, check=False)
    err = res.stderr.strip()
    assert res.returncode != 0 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "again to resume" not in err
    assert "d/a.txt" in err and oid in err and f"files/md5/{oid[:2]}/{oid[2:]}" in err
    assert "remote 'store'" in err and str(remote) in err
    assert "TIDE_REMOTE_INDEX=0 tide push -r store" in err
    manifest = err.split("the manifests of the directories holding them (")[1].split(")")[0]
    assert manifest.startswith("files/md5/") and manifest.endswith(".dir")
    assert not (repo_dir / ".dvc" / "cache" / "files" / "md5" / oid[:2] / oid[2:]).exists()

    # the advice: delete the bad copy on the remote, push from a cache that has a good one
    obj.unlink()
    (remote / manifest).unlink()
    shutil.rmtree(repo_dir / ".dvc" / "cache")
    shutil.move(tmp_path / "good-cache", cache)
    tide("push", "-r", "store", cwd=repo_dir, env={**os.environ, "TIDE_REMOTE_INDEX": "0"})
    shutil.rmtree(cache)
    tide("pull", cwd=repo_dir)
    assert (repo_dir / "d" / "a.txt").read_text() == "precious\n"


# --- finding 10: values passed to external programs ----------------------------------------------

HOSTILE_HOSTS = ["ssh://-oProxyCommand=sh", "ssh://-oProxyCommand=sh:2222", "ssh://-lroot@host",
                 "ssh://bob@host\x07name", "ssh://host:99999", "ssh://bob@-host"]


def _fake_ssh(tmp_path):
    """An ``ssh`` first on PATH that records that it ran: nothing may reach it."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "ssh-ran"
    (bindir / "ssh").write_text(f"#!/bin/sh\necho \"$@\" >> {log}\nexit 255\n")
    (bindir / "ssh").chmod(0o755)
    return {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}, log


@pytest.mark.parametrize("host", ["ssh://-oProxyCommand=sh", "ssh://-lroot@host"])
def test_issue17_f10_run_on_hostile_host_is_refused(repo_dir, tide, tmp_path, host):
    env, log = _fake_ssh(tmp_path)
    res = tide("run", "--on", host, "--", "true", cwd=repo_dir, env=env, check=False)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "not" in res.stderr, res.stderr
    assert not log.exists(), log.read_text()


def test_issue17_f10_hostile_host_in_tide_yaml_profile_is_refused(repo_dir, tide, tmp_path):
    env, log = _fake_ssh(tmp_path)
    (repo_dir / "tide.yaml").write_text("runners:\n  gpu:\n    on: ssh://-oProxyCommand=sh\n")
    res = tide("run", "--on", "gpu", "--", "true", cwd=repo_dir, env=env, check=False)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert "-oProxyCommand=sh" in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert not log.exists()
    res = tide("runner", "launch", "--cloud", "ssh", "--host", "-oProxyCommand=sh", cwd=repo_dir, env=env,
               check=False)
    assert res.returncode != 0 and "Traceback" not in res.stderr and not log.exists(), res.stderr


@pytest.mark.parametrize("host", HOSTILE_HOSTS)
def test_issue17_f10_ssh_target_refuses_options_and_junk(host):
    from tide.runners.transport import SSHTarget

    with pytest.raises(UsageError):
        SSHTarget.parse(host)


def test_issue17_f10_every_ssh_target_is_checked_and_ssh_gets_double_dash():
    from tide.runners.transport import SSHShell, SSHTarget

    for bad in ("-oProxyCommand=sh", "a b", "host\n", ""):
        with pytest.raises(UsageError):
            SSHTarget(bad)  # as a cloud API's address would build it
    with pytest.raises(UsageError):
        SSHTarget("host", "-oX=y")
    for good in ("bob@example.com:2222", "ssh://10.0.0.7", "[::1]:22", "ubuntu@ip-10-0-0-1.ec2.internal"):
        t = SSHTarget.parse(good)
        argv = SSHShell(t).argv("true")
        assert argv[-3:] == ["--", t.host, "true"]
        assert all(argv[i].startswith("-") or argv[i - 1].startswith("-") for i in range(1, len(argv) - 3))


def test_issue17_f10_git_never_gets_a_value_as_an_option(tmp_path):
    import subprocess

    from tide.core.git import Git

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    marker = tmp_path / "ran"
    g = Git(str(tmp_path))
    for args in (("ls-remote", f"--upload-pack=touch {marker}", "x"), ("fetch", "-q", f"--upload-pack=touch {marker}"),
                 ("push", "-q", f"--receive-pack=touch {marker}", "main"), ("rev-parse", "--verify", "-x^{commit}"),
                 ("config", "--local", "user.name", "--file=/etc/x")):
        with pytest.raises(UsageError, match="starts with '-'"):
            g.run(*args)
    with pytest.raises(UsageError):
        g.resolve("--output=/tmp/x")
    assert not marker.exists()
    g.run("commit", "-q", "-m", "-a message may start with a dash", check=False)  # the value of -m
    (tmp_path / "-file-named-like-an-option").write_text("x")
    g.run("add", "-A", "--", "-file-named-like-an-option")  # paths after '--' are paths


def _calls(node, names):
    import ast

    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            f = n.func
            dotted = ""
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                dotted = f"{f.value.id}.{f.attr}"
            elif isinstance(f, ast.Name):
                dotted = f.id
            if dotted in names:
                yield n, dotted


# Every place tide starts another program, and why what it passes cannot be read as an option.
SUBPROCESS_CALLS = {
    ("core/git.py", "Git._spawn"): "git: Git.run, its only caller, refuses any value starting with '-' "
                                   "(core.argv.git_args, every git command)",
    ("core/git.py", "find_root"): "git -C PATH rev-parse: the path is the value of -C",
    ("ui/history.py", "Blobs._start"): "git -C ROOT cat-file --batch: fixed arguments (git_args); ids go to stdin",
    ("runners/transport.py", "LocalShell.run"): "bash -c SCRIPT: the script is the value of -c",
    ("runners/transport.py", "LocalShell.popen"): "bash -c SCRIPT",
    ("runners/transport.py", "SSHShell.run"): "ssh via SSHShell.argv: checked SSHTarget, '--' before the host",
    ("runners/transport.py", "SSHShell.popen"): "ssh via SSHShell.argv",
    ("runners/watchdog.py", "Watchdog.start_child"): "the job's command on the runner, as a list",
    ("runners/watchdog.py", "Watchdog.shutdown"): "bash -c of the machine's poweroff command",
    ("runners/aws.py", "AwsProvisioner._import_key"): "ssh-keygen -y -f PATH: the path is the value of -f",
    ("runners/azure.py", "public_key"): "ssh-keygen: fixed arguments, paths as values of -f",
    ("ops/schedule.py", "_run_once"): "tide's own command line (a list, no shell)",
    ("ops/schedule.py", "install_crontab"): "crontab -l / crontab -: fixed arguments",
    ("ops/schedule.py", "enable_systemd"): "systemctl --user enable --now UNIT: tide's own unit file name",
    ("ops/demo.py", "tide_cli"): "python -m tide with the demo's fixed arguments",
    ("ops/exp_queue.py", "start"): "python -m tide queue _worker: fixed arguments",
    ("ops/exp_queue.py", "run_all"): "python -m tide queue _worker: fixed arguments",
    ("ops/exp_queue.py", "work"): "python -m tide queue _exec ID: the id is tide's own hex entry id",
    ("ops/deploy.py", "_command"): "the user's deploy.command from tide.yaml (a shell command by design)",
    ("ops/retrain.py", "_shell"): "the user's retrain command (a shell command by design)",
    ("pipeline/execute.py", "run_commands"): "a dvc.yaml stage's cmd (a shell command by design, as in dvc)",
}


def _enclosing(tree):
    import ast

    out = {}

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                for n in ast.walk(child):
                    out.setdefault(id(n), name)
                walk(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                walk(child, f"{prefix}{child.name}.")
            else:
                walk(child, prefix)

    walk(tree, "")
    return out


def test_issue17_f10_every_subprocess_call_is_a_known_checked_one():
    """Close the class: a new call that starts a program fails here until it is added above, with the
    reason its arguments cannot be read as options."""
    import ast
    from pathlib import Path

    import tide

    src = Path(tide.__file__).parent
    spawners = {"subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_call",
                "subprocess.check_output", "os.system", "os.popen", "os.execv", "os.execvp", "os.execve",
                "os.execvpe", "os.spawnv", "os.spawnvp", "os.posix_spawn", "os.posix_spawnp",
                "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell", "pty.spawn"}
    found = set()
    for path in sorted(src.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = _enclosing(tree)
        rel = path.relative_to(src).as_posix()
        for call, _ in _calls(tree, spawners):
            found.add((rel, where.get(id(call), "<module>")))
    assert found - set(SUBPROCESS_CALLS) == set(), "new places start programs: check their arguments, list them"
    assert set(SUBPROCESS_CALLS) - found == set(), "listed places that no longer start programs: drop them"


GIT_COMMANDS = {"add", "am", "apply", "archive", "branch", "cat-file", "check-ignore", "check-ref-format", "checkout",
                "cherry-pick", "clone", "commit", "commit-tree", "config", "describe", "diff", "fetch", "for-each-ref",
                "gc", "hash-object", "init", "log", "ls-files", "ls-remote", "ls-tree", "merge", "merge-base",
                "merge-tree", "mktree", "notes", "pull", "push", "read-tree", "rebase", "remote", "reset", "rev-list",
                "rev-parse", "show", "show-ref", "stash", "status", "symbolic-ref", "tag", "update-ref", "var",
                "worktree", "write-tree"}


def test_issue17_f10_git_options_tide_uses_are_known():
    """Every option tide's code passes to git (in a call or an argument list whose first item is a git
    command) is in core.argv.GIT_OPTIONS; else Git.run would refuse it at run time."""
    import ast
    from pathlib import Path

    import tide
    from tide.core.argv import GIT_OPTION_PREFIXES, GIT_OPTIONS

    def literal(a):
        if isinstance(a, ast.Constant) and isinstance(a.value, str):
            return a.value
        if isinstance(a, ast.JoinedStr) and a.values and isinstance(a.values[0], ast.Constant):
            return a.values[0].value
        return None

    src = Path(tide.__file__).parent
    used = set()
    for path in sorted(src.rglob("*.py")):
        for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(n, (ast.List, ast.Tuple)):
                items = n.elts
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("run", "out"):
                items = n.args
            else:
                continue
            if items and literal(items[0]) in GIT_COMMANDS:
                used.update(v for v in map(literal, items[1:]) if v and v.startswith("-") and v not in ("--", "-"))
    unknown = {u for u in used if u not in GIT_OPTIONS and not u.startswith(GIT_OPTION_PREFIXES)}
    assert not unknown, sorted(unknown)
    assert {"-q", "-m", "--verify"} <= used  # the scan sees tide's git calls


# --- finding 7: nothing outside the repository leaves through a report; values are escaped -------

HOSTILE_VALUES = ["![x](/etc/hostname)", "<img src=x onerror=alert(1)>", "[d](../../../../etc/hostname)",
                  "a | b\n| c", "`x` ``y", "<script>alert(1)</script>", "&lt;img&gt;", "[r]: /etc/hostname",
                  "**bold** _it_ ~~s~~ $x$", "javascript:alert(1)", "\\![y](z.png)"]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_issue17_f07_escaped_values_render_as_text(value, tmp_path):
    from markdown_it import MarkdownIt

    from tide.core.markup import md_code, md_text
    from tide.forge.report import find_local_files
    from tide.ops.metrics import table

    (tmp_path / "z.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    for rendered in (md_text(value), md_code(value), table(["Path", value], [[value, value]], markdown=True)):
        html = md.render(rendered)
        assert "<img" not in html and "<a " not in html and "<script" not in html and "<em>" not in html, html
        assert find_local_files(rendered, str(tmp_path), str(tmp_path)) == []
    cells = md.render(table(["Path", "Param"], [[value, "v"]], markdown=True))
    assert cells.count("<td>") == 2, cells  # a '|' or a line break in a value never adds a cell or a row


def test_issue17_f07_report_escapes_params_metric_names_and_title(repo_dir, tide):
    import json

    from tests.conftest import git

    (repo_dir / "dvc.yaml").write_text("stages:\n  s:\n    cmd: echo\n    params: [lr, note]\n"
                                       "    metrics: [{m.json: {cache: false}}]\n")
    (repo_dir / "params.yaml").write_text("lr: 1\nnote: plain\n")
    (repo_dir / "m.json").write_text(json.dumps({"acc": 0.5}))
    git(repo_dir, "add", "-A")
    git(repo_dir, "commit", "-qm", "base")
    (repo_dir / "params.yaml").write_text('lr: 2\nnote: "![x](/etc/hostname)"\n')
    (repo_dir / "m.json").write_text(json.dumps({"acc": 0.6, "<img src=x onerror=alert(1)>": 1}))
    tide("report", "--no-plots", "--title", "[t](/etc/passwd)", cwd=repo_dir)
    text = (repo_dir / "report.md").read_text()
    import re

    assert not re.search(r"(?<!\\)[\[<]", text), text  # every '[' and '<' of a value is escaped
    assert "!\\[x\\](/etc/hostname)" in text and "\\<img src=x onerror=alert(1)\\>" in text
    assert text.startswith("## \\[t\\](/etc/passwd)\n")


@pytest.fixture(params=["local", "gitlab"])
def forge_s(request, tmp_path):
    from tests.forge.conftest import _setup

    yield from _setup(request.param, tmp_path)


def _uploaded(s) -> list[bytes]:
    if s.fake is not None:
        return list(s.fake.uploads.values())
    assets = s.open().forge.root / "assets"
    return [p.read_bytes() for p in assets.rglob("*") if p.is_file()] if assets.exists() else []


def test_issue17_f07_comment_never_uploads_files_outside_the_repository(forge_s, tmp_path):
    from tests.forge.test_conformance import open_pr, png_bytes
    from tide.forge.base import Target
    from tide.ops.comment import create_comment

    s = forge_s
    pr = open_pr(s)
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("TOPSECRET\n")
    (s.work / "plots").mkdir()
    os.symlink(secret, s.work / "plots" / "evil.png")
    (s.work / "plots" / "ok.png").write_bytes(png_bytes())
    depth = "../" * len(s.work.parts)
    hostile = [f"![x](../{secret.name})", f"![x]({depth}{str(secret)[1:]})", f"[d]({secret})",
               "![s](plots/evil.png)", f"see [r]\n\n[r]: ../{secret.name}\n", f"[d](<{secret}>)",
               f"![x](../{secret.name}?raw=1)"]
    for body in hostile:
        (s.work / "report.md").write_text(f"# report\n\n![fine](plots/ok.png)\n\n{body}\n")
        with pytest.raises(UsageError, match="outside the repository"):
            create_comment(s.work / "report.md", target=f"pr#{pr.number}", **s.options())
    assert all(b"TOPSECRET" not in b for b in _uploaded(s)) and _uploaded(s) == []
    assert s.open().forge.list_comments(Target("pr", str(pr.number))) == []
    # the same report without the hostile line goes, its image inside the repository uploaded
    (s.work / "report.md").write_text("# report\n\n![fine](plots/ok.png)\n\n[home](/)\n")
    create_comment(s.work / "report.md", target=f"pr#{pr.number}", **s.options())
    assert _uploaded(s) == [png_bytes()]
