"""Secrets: with canary values in every credential variable and in the remote options of config.local,
no canary appears in tide's output, in any file it writes, or in the environment of a runner's job.

(``make torture`` also runs the whole suite under canary_plugin.py.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability import canaries, crashlib


@pytest.fixture
def canary_env(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = crashlib.isolated_env(str(home), {**canaries.canary_env(str(tmp_path / "creds")), **canaries.planted_env()})
    env["TOKENIZERS_PARALLELISM"] = "false"  # not a credential: must reach the job
    return env


def run(args: list[str], cwd: Path, env: dict, outputs: list[str]) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "tide", *args], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=300)
    outputs.append(f"$ tide {' '.join(args)}\n{p.stdout}{p.stderr}")
    return p


BOTH = (canaries.PREFIX, canaries.USER_PREFIX)


def assert_clean(outputs: list[str], *trees: Path, skip: tuple[str, ...] = ()) -> None:
    leaked = [o.splitlines()[0] for o in outputs if canaries.scan_text(o, BOTH)]
    assert not leaked, f"a canary appeared in the output of {leaked}"
    for t in trees:
        files = canaries.scan_tree(t, skip=skip, prefixes=BOTH)
        assert not files, f"a canary was written to {files}"


def test_everyday_commands_leak_nothing(tmp_path, canary_env):
    repo, remote = tmp_path / "repo", tmp_path / "remote"
    repo.mkdir()
    out: list[str] = []
    crashlib.git(repo, "init", "-q", "-b", "main", env=canary_env)
    run(["init"], repo, canary_env, out)
    crashlib.write_state(repo, {}, {"data/a": b"a" * 10, "data/b": b"b" * 2000, "model.bin": b"m" * 100})
    run(["add", "data", "model.bin"], repo, canary_env, out)
    run(["remote", "add", "-d", "store", str(remote)], repo, canary_env, out)
    cmds = [["status"], ["push"], ["status", "-c"], ["fsck"], ["diff"], ["gc", "-w", "-f"], ["checkout"],
            ["fetch"], ["pull"], ["gc", "-c", "-w", "-f"], ["version"], ["push", "-r", "nosuch"], ["add", "missing"]]
    for c in cmds:
        run(c, repo, canary_env, out)
    crashlib.git(repo, "add", "-A", env=canary_env)
    crashlib.git(repo, "commit", "-q", "-m", "x", env=canary_env)
    assert_clean(out, repo, remote, Path(canary_env["HOME"]))


def test_remote_passwords_never_shown_in_errors(tmp_path, canary_env):
    """Credentials the user put in config.local (and in a URL) never appear in error messages."""
    repo = tmp_path / "repo"
    repo.mkdir()
    out: list[str] = []
    crashlib.git(repo, "init", "-q", "-b", "main", env=canary_env)
    run(["init", "-q"], repo, canary_env, out)
    (repo / "x").write_text("x")
    run(["add", "-q", "x"], repo, canary_env, out)
    pw = canaries.user_value("URL_PASSWORD")
    with open(repo / ".dvc" / "config", "a") as f:
        f.write(f'[\'remote "dav"\']\n    url = https://user:{pw}@127.0.0.1:9/dav\n'
                f'[\'remote "wd"\']\n    url = webdav://user:{pw}@127.0.0.1:9/d\n'
                '[\'remote "s3r"\']\n    url = s3://bucket/p\n    endpointurl = http://127.0.0.1:9\n'
                '[\'remote "sshr"\']\n    url = ssh://u@127.0.0.1:9/x\n')
    (repo / ".dvc" / "config.local").write_text(
        f'[\'remote "s3r"\']\n    secret_access_key = {canaries.user_value("S3_SECRET")}\n'
        f'    access_key_id = {canaries.user_value("S3_KEY_ID")}\n'
        f'[\'remote "sshr"\']\n    password = {canaries.user_value("SSH_PASSWORD")}\n')
    env = dict(canary_env, TIDE_REMOTE_RETRIES="1")
    for r, verbs in (("dav", (["push"],)), ("wd", (["status", "-c"],)), ("s3r", (["push"],)), ("sshr", (["push"],))):
        for verb in verbs:
            p = run([*verb, "-r", r], repo, env, out)
            assert "Traceback" not in p.stderr
            assert p.returncode != 0 or verb != ["push"]  # status -c over http cannot tell: see docs
    local = repo / ".dvc" / "config.local"
    assert_clean(out, repo, Path(canary_env["HOME"]), skip=(str(local), str(repo / ".dvc" / "config")))


def test_runner_job_environment_has_no_credentials(tmp_path, canary_env):
    repo = tmp_path / "proj"
    repo.mkdir()
    crashlib.git(repo, "init", "-q", "-b", "main", env=canary_env)
    (repo / "train.sh").write_text("env > job-env.txt\necho done\n")
    crashlib.git(repo, "add", "-A", env=canary_env)
    crashlib.git(repo, "commit", "-q", "-m", "job", env=canary_env)
    out: list[str] = []
    p = run(["run", "--on", "local", "--no-setup", "--no-push", "--keep", "--", "sh", "-c", "env; sh train.sh"],
            repo, canary_env, out)
    assert p.returncode == 0, p.stderr
    assert "TOKENIZERS_PARALLELISM=false" in p.stdout, "the job's output (its environment) was not shown"
    for name in canaries.TOKEN_VARS + canaries.PLANTED + (
            "AWS_ACCESS_KEY_ID", "GOOGLE_APPLICATION_CREDENTIALS", "GDRIVE_CREDENTIALS_DATA",
            "AZURE_STORAGE_CONNECTION_STRING", "KUBECONFIG", "TIDE_DB_URL"):
        assert f"{name}=" not in p.stdout, f"{name} reached the job's environment"
    assert_clean(out, repo, Path(canary_env["HOME"]))


def test_redaction_and_scrubbing_units():
    from tide.core.errors import StorageError
    from tide.runners.watchdog import scrub_env

    assert str(StorageError("remote 'https://me:hunter2@h/x' failed")) == "remote 'https://me:***@h/x' failed"
    env = {"HOME": "/h", "TOKENIZERS_PARALLELISM": "1", "MY_API_KEY": "x", "DB_PASSWORD": "x", "CI_JOB_TOKEN": "x",
           "PATH": "/bin", "GDRIVE_CREDENTIALS_DATA": "x", "SECRET": "x"}
    assert scrub_env(env) == {"HOME": "/h", "TOKENIZERS_PARALLELISM": "1", "PATH": "/bin"}
