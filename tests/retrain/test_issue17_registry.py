"""Issue 17, findings 6, 8 and 9: the registry loop converges with the forge, secrets never leave, and
paths from tide.yaml stay inside the repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import git
from tests.retrain import test_retrain as base
from tests.retrain.test_retrain import comments, retrain

loop = base.loop  # the fixture: a workspace with a local forge and storage

REFUSE_HOOK = """#!/bin/sh
# refuse registry tags whose name matches $PATTERN (a stand-in for a forge's protected-tag rules)
while read old new ref; do
  case "$ref" in
    refs/tags/PATTERN) echo "tag $ref is protected" >&2; exit 1 ;;
  esac
done
exit 0
"""


def refuse_tags(forge: Path, pattern: str | None) -> None:
    """Make the forge (a bare repository) refuse pushes of tags matching ``pattern`` (None: accept)."""
    hook = forge / "hooks" / "pre-receive"
    if pattern is None:
        hook.unlink(missing_ok=True)
        return
    hook.write_text(REFUSE_HOOK.replace("PATTERN", pattern))
    hook.chmod(0o755)


def tags(where: Path) -> list[str]:
    return sorted(git(where, "tag", "-l").split())


def tide_cmd(ws: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tide", *args], cwd=ws, capture_output=True, text=True,
                          check=False)


def result(proc: subprocess.CompletedProcess) -> dict:
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_issue17_f06_refused_version_tag_fails_then_rerun_converges(loop, tmp_path):
    ws, forge = loop, tmp_path / "forge.git"
    refuse_tags(forge, "*@v*")
    failed = retrain(ws, "--day", "2026-05-01", check=False)
    assert failed.returncode != 0, "a refused tag push must make tide retrain fail"
    assert "step 'register' failed" in failed.stderr and "refused the registry tag(s) tiny@v0.0.1" in failed.stderr
    assert tags(forge) == []
    check = tide_cmd(ws, "model", "show", "--check")
    assert check.returncode == 1 and "tag tiny@v0.0.1 is local only" in check.stdout
    refuse_tags(forge, None)
    again = retrain(ws, "--day", "2026-05-01")
    assert "[register] repaired: pushed tiny@v0.0.1 (the forge lacked it)" in again.stderr
    assert result(again)["outcome"] == "promoted"
    assert tags(forge) == tags(ws) == ["tiny#prod#1", "tiny@v0.0.1"]
    assert tide_cmd(ws, "model", "show", "--check").returncode == 0


def test_issue17_f06_refused_assignment_tag_fails_then_fresh_clone_sees_production(loop, tmp_path):
    ws, forge = loop, tmp_path / "forge.git"
    refuse_tags(forge, "*#prod#*")
    failed = retrain(ws, "--day", "2026-05-01", check=False)
    assert failed.returncode != 0 and "step 'gate' failed" in failed.stderr
    assert "tiny#prod#1" in failed.stderr
    assert tags(forge) == ["tiny@v0.0.1"] and "tiny#prod#1" in tags(ws)
    check = tide_cmd(ws, "model", "show", "--check")
    assert check.returncode == 1 and "tag tiny#prod#1 is local only" in check.stdout
    # the bug: a re-run said "already-promoted", exited 0 and never pushed the assignment
    still = retrain(ws, "--day", "2026-05-01", check=False)
    assert still.returncode != 0, "a re-run while the forge still refuses must fail too"
    refuse_tags(forge, None)
    again = retrain(ws, "--day", "2026-05-01")
    assert result(again)["outcome"] == "already-promoted"
    assert "] repaired: pushed tiny#prod#1 (the forge lacked it)" in again.stderr
    assert tags(forge) == tags(ws)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", forge, clone)
    shown = json.loads(tide_cmd(clone, "model", "show", "--json").stdout)
    deployed = json.loads((ws / "deployed" / "deployed.json").read_text())["version"]
    assert shown["tiny"]["stage"] == {"prod": deployed} == {"prod": "v0.0.1"}
    assert len(comments(tmp_path, 1)) == 1


KILL_AT_SECOND_CONVERGE = """
import os, signal, sys
import tide.ops.converge as c
calls = []
real = c.tags
def tags(*a, **k):
    calls.append(1)
    if len(calls) == 2:  # the gate step: the stage is assigned locally, not pushed yet
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*a, **k)
c.tags = tags
from tide.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_issue17_f06_kill_between_promote_and_push_converges(loop, tmp_path):
    ws, forge = loop, tmp_path / "forge.git"
    (ws / "params.yaml").write_text("lr: 0.1\nwrong_every: 4\n")
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    killed = subprocess.run([sys.executable, "-c", KILL_AT_SECOND_CONVERGE, "retrain", "--day", "2026-05-01"],
                            cwd=ws, env=env, capture_output=True, text=True, check=False)
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert "tiny#prod#1" in tags(ws) and tags(forge) == ["tiny@v0.0.1"]
    (ws / "promotions" / "tiny" / "v0.0.1.json").unlink()  # as if killed before the record was written
    assert tide_cmd(ws, "model", "show", "--check").returncode == 1
    again = retrain(ws, "--day", "2026-05-01")
    assert result(again)["outcome"] == "already-promoted"
    assert "] repaired: pushed tiny#prod#1 (the forge lacked it)" in again.stderr
    assert "[gate] repaired: wrote the missing promotion record" in again.stderr
    assert tags(forge) == tags(ws)
    # the deployment is converged too: a lost deployment is redeployed from the production version
    (ws / "deployed" / "deployed.json").unlink()
    check = tide_cmd(ws, "model", "show", "--check")
    assert check.returncode == 1
    assert "the deployment (deployed) holds nothing, but tiny 'prod' is v0.0.1" in check.stdout
    again = retrain(ws, "--day", "2026-05-01")
    assert "[gate] repaired: redeployed tiny v0.0.1 (the deployment held nothing)" in again.stderr
    assert json.loads((ws / "deployed" / "deployed.json").read_text())["version"] == "v0.0.1"
    ok = tide_cmd(ws, "model", "show", "--check")
    assert ok.returncode == 0 and "agree" in ok.stdout


# --- finding 8: secrets never leave through any channel ------------------------------------------
def _leaks(where: Path, canary: str) -> list[str]:
    return [str(p) for p in where.rglob("*") if p.is_file() and not p.is_symlink()
            and canary.encode() in p.read_bytes()]


def test_issue17_f08_copy_to_password_and_env_tokens_never_leave(loop, tmp_path):
    from tests.fakes.http_upload import UploadHttp
    from tests.reliability import canaries

    ws, forge = loop, tmp_path / "forge.git"
    pw = canaries.user_value("DEPLOY_PASSWORD")
    server = UploadHttp(str(tmp_path / "http"))
    try:
        url = server.url("open/deploy").replace("://", f"://deployer:{pw}@")
        (ws / "tide.yaml").write_text(base.TIDE_YAML.replace("copy_to: deployed", f"copy_to: '{url}'")
                                      .replace("RUNNER", ""))
        git(ws, "commit", "-q", "-am", "deploy over http")
        git(ws, "push", "-q", "origin", "main")
        env = canaries.canary_env(str(tmp_path / "creds"))
        out = retrain(ws, "--day", "2026-06-01", **env)
        assert result(out)["outcome"] == "promoted"
        assert (tmp_path / "http" / "open" / "deploy" / "deployed.json").exists()
        # a deploy command that prints a token it was given: the token never reaches record, tag or PR
        (ws / "tide.yaml").write_text(base.TIDE_YAML.replace(
            "copy_to: deployed", f"command: 'echo deployed with $GITHUB_TOKEN at {url}'").replace("RUNNER", ""))
        git(ws, "commit", "-q", "-am", "deploy by command")
        git(ws, "push", "-q", "origin", "main")
        out2 = retrain(ws, "--day", "2026-06-02", wrong=0, **env)
        assert result(out2)["outcome"] == "promoted", out2.stdout
        show = subprocess.run([sys.executable, "-m", "tide", "forge", "show"], cwd=ws, env=dict(os.environ, **env),
                              capture_output=True, text=True, check=True)
    finally:
        server.stop()
    token = env["GITHUB_TOKEN"]
    for text in (out.stdout, out.stderr, out2.stdout, out2.stderr, show.stdout):
        assert pw not in text and token not in text
    assert "deployer:***@" in (ws / "promotions" / "tiny" / "v0.0.1.json").read_text()  # recorded, masked
    messages = git(ws, "for-each-ref", "refs/tags", "--format=%(contents)") + git(ws, "log", "--all", "--format=%B")
    assert "tide-promotion" in messages and "deployed with ***" in messages
    assert pw not in messages and token not in messages
    for canary in (pw, token):  # tide.yaml holds the password: the user wrote it there
        assert not [p for p in _leaks(ws, canary) if not p.endswith("tide.yaml")] and not _leaks(forge, canary)


# --- finding 9: paths from tide.yaml stay inside the repository ------------------------------------
def test_issue17_f09_config_paths_stay_inside_the_repository(loop, tmp_path):
    ws = loop
    outside = tmp_path / "elsewhere"
    (ws / "linked").symlink_to(outside, target_is_directory=True)
    outside.mkdir()
    cases = [("records: promotions", "records: ../../elsewhere", "gate.records: ../../elsewhere"),
             ("records: promotions", "records: linked/x", "gate.records: linked/x"),
             ("records: promotions", f"records: {outside}", f"gate.records: {outside}"),
             ("copy_to: deployed", "copy_to: ../deployed", "deploy.copy_to: ../deployed"),
             ("metrics: model/metrics.json", "metrics: ../m.json", "gate.metrics: ../m.json"),
             ("path: model/model.bin", "path: ../../etc/passwd", "registry.path: ../../etc/passwd")]
    for old, new, shown in cases:
        text = base.TIDE_YAML.replace("RUNNER", "").replace("  bootstrap:", "  records: promotions\n  bootstrap:")
        (ws / "tide.yaml").write_text(text.replace(old, new))
        proc = retrain(ws, "--day", "2026-07-01", check=False)
        assert proc.returncode != 0, new
        value = shown.split(": ")[1]
        if value.startswith("/"):
            why = ("is an absolute path; configuration paths stay inside the repository "
                   "(give a path relative to its root)")
        elif "linked" in value:
            why = "leads outside the repository through a symbolic link; configuration paths stay inside it"
        else:
            why = "leads outside the repository; configuration paths stay inside it"
        # refused before any step with the readiness list (issue 18): the one finding, then the error line
        lines = proc.stderr.strip().splitlines()
        assert f"tide.yaml: '{shown}' {why}" in lines[1], proc.stderr
        assert lines[-1] == "ERROR: not ready for tide retrain: 1 thing to fix, listed above", proc.stderr
    assert not list(outside.iterdir()) and not (tmp_path / "deployed").exists()
    assert not list((tmp_path / "forge.git" / "tide-forge").glob("pulls/*.json"))  # refused before any step


def test_issue17_f08_one_redaction_units(tmp_path, monkeypatch):
    import io

    from tide.core.git import Git
    from tide.core.redact import RedactingStream, redact, remember

    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-abcdefgh-123")
    monkeypatch.setenv("SHORT_TOKEN", "abc")            # too short to be masked everywhere
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/home/me/sa.json")  # a path, not a secret
    text = "x tok-abcdefgh-123 y https://me:hunter22@h/p abc /home/me/sa.json"
    assert redact(text) == "x *** y https://me:***@h/p abc /home/me/sa.json"
    remember("flag-token-9876")
    assert redact("--token flag-token-9876") == "--token ***"
    raw = io.BytesIO()
    out = RedactingStream(io.TextIOWrapper(raw, encoding="utf-8"))
    out.write("copied to http://u:pw123456@h/d\n")
    out.buffer.write(b"job says tok-abcdefgh-123\n")
    out.flush()
    assert raw.getvalue() == b"copied to http://u:***@h/d\njob says ***\n"
    # the git module: tag and commit messages never carry a secret, whatever the caller passes
    repo = Git(str(tmp_path))
    repo.run("init", "-q")
    for k, v in (("user.name", "t"), ("user.email", "t@x")):
        repo.run("config", k, v)
    repo.run("commit", "-q", "--allow-empty", "-m", "deploy to http://u:pw123456@h/d")
    repo.run("tag", "-a", "t1", "-F", "-", "HEAD", input=b"body tok-abcdefgh-123\n")
    assert repo.out("log", "--format=%B").strip() == "deploy to http://u:***@h/d"
    assert "body ***" in repo.out("cat-file", "-p", "t1")


def test_issue17_f09_config_path_helper(tmp_path):
    import pytest

    from tide.core.errors import PathError
    from tide.core.paths import config_path

    root = tmp_path / "repo"
    (root / "sub").mkdir(parents=True)
    (root / "out").symlink_to(tmp_path, target_is_directory=True)
    (root / "in").symlink_to(root / "sub", target_is_directory=True)
    assert config_path(str(root), "sub/x", "k") == str(root / "sub" / "x")
    assert config_path(str(root), "in/x", "k") == str(root / "in" / "x")
    assert config_path(str(root), "a/../b", "k") == str(root / "b")
    for bad in ("../x", "sub/../../x", "out/x", "/etc", "~/x"):
        with pytest.raises(PathError):
            config_path(str(root), bad, "gate.records")


def test_issue17_f06_deploy_cut_short_is_seen_and_redeployed(loop, tmp_path):
    """deployed.json names the production version but the model file is another (a deploy killed between
    its two puts): --check says so and a re-run redeploys; model register --push converges too."""
    ws, forge = loop, tmp_path / "forge.git"
    retrain(ws, "--day", "2026-05-01")
    (ws / "deployed" / "model.bin").write_text("half of another model")
    check = tide_cmd(ws, "model", "show", "--check")
    assert check.returncode == 1 and "a broken deployment (model.bin is not the model of v0.0.1)" in check.stdout
    again = retrain(ws, "--day", "2026-05-01")
    assert "[gate] repaired: redeployed tiny v0.0.1" in again.stderr
    assert (ws / "deployed" / "model.bin").read_text() == "model wrong_every=4"
    git(forge, "tag", "-d", "tiny#prod#1")  # lost on the forge
    reg = tide_cmd(ws, "model", "register", "tiny", "--push")
    assert reg.returncode == 0, reg.stderr
    assert "repaired: pushed tiny#prod#1 (the forge lacked it)" in reg.stdout
    assert tags(forge) == tags(ws) and tide_cmd(ws, "model", "show", "--check").returncode == 0
