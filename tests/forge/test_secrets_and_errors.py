"""Authentication failures, rate limits, CLI behaviour and secrets across the hosted forges."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from tide.core.errors import ForgeError
from tide.forge.base import Target

from .conftest import HOSTED, TOKEN, git

HOSTED_DRIVERS = list(HOSTED)


def cli(setup, *args, token=TOKEN, check=False):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN") and k not in ("REPO_TOKEN", "repo_token")}
    if token:
        env["TIDE_TOKEN"] = token
    proc = subprocess.run([sys.executable, "-m", "tide", *args], cwd=setup.work, capture_output=True, text=True,
                          env=env, check=False)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def files_under(*roots):
    for root in roots:
        for d, _, names in os.walk(root):
            for n in names:
                p = os.path.join(d, n)
                if os.path.isfile(p):
                    with open(p, "rb") as f:
                        yield p, f.read()


@pytest.mark.parametrize("hosted_setup", HOSTED_DRIVERS, indirect=True)
def test_bad_token_is_one_clear_line(hosted_setup):
    s = hosted_setup
    (s.work / "report.md").write_text("hello\n")
    proc = cli(s, "comment", "create", "report.md", "--target", "issue#901", token="wrong-token-123456")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: ") and "401" in lines[0], proc.stderr
    assert "authentication" in lines[0] and "Traceback" not in proc.stderr
    assert "wrong-token-123456" not in proc.stderr + proc.stdout


@pytest.mark.parametrize("hosted_setup", HOSTED_DRIVERS, indirect=True)
def test_rate_limit_is_retried_after_retry_after(hosted_setup):
    s = hosted_setup
    ctx = s.open()
    ctx.forge.api.sleep = waits = []  # noqa: F841 - replaced below with a recorder
    slept: list[float] = []
    ctx.forge.api.sleep = slept.append
    s.fake.rate_limit_next = 2
    c = ctx.forge.create_comment(Target("issue", "901"), "after the limit")
    assert c.body == "after the limit"
    assert slept == [1.0, 1.0]
    s.fake.rate_limit_next = 10
    with pytest.raises(ForgeError) as exc:
        ctx.forge.list_comments(Target("issue", "901"))
    assert TOKEN not in str(exc.value)


@pytest.mark.parametrize("hosted_setup", ["github", "gitlab"], indirect=True)
def test_cli_pr_and_comment_never_leak_the_token(hosted_setup):
    s = hosted_setup
    (s.work / "model.txt").write_text("weights\n")
    pr = cli(s, "pr", "model.txt", "--md", check=True)
    assert pr.stdout.startswith("[tide pull request #1](") and "opened #1" in pr.stderr
    (s.work / "report.md").write_text("# Report\n")
    first = cli(s, "comment", "update", "report.md", "--target", "pr", check=True)
    second = cli(s, "comment", "update", "report.md", "--target", "pr", check=True)
    assert first.stdout == second.stdout and first.stdout.strip()
    prep = cli(s, "ci", check=True)
    out = "".join(p.stdout + p.stderr for p in (pr, first, second, prep))
    assert TOKEN not in out
    leaked = [p for p, data in files_under(s.work, s.bare) if TOKEN.encode() in data]
    assert leaked == []
    # every request carried the token only in its auth header
    for headers in s.fake.raw_headers:
        assert all(TOKEN not in v for k, v in headers.items() if k not in ("authorization", "private-token"))


@pytest.mark.shows_secret  # the credential helper's answer holds the token: that is its job
def test_ci_prepare_writes_no_token_and_git_can_authenticate(tmp_path):
    from tide.core.config import Env
    from tide.ops.ci import prepare

    from .conftest import finish_repo, make_repo

    work, bare = make_repo(tmp_path)
    finish_repo(work)
    git(work, "remote", "set-url", "origin", "https://git.example/o/r.git")
    (work / "tide.yaml").write_text(yaml.safe_dump({"forge": {"driver": "gitea", "server": "https://git.example"}}))
    env = Env({**os.environ, "REPO_TOKEN": TOKEN})
    from tide.ops.forge import open_forge

    ctx = open_forge(str(work), env=env)
    with pytest.raises(Exception, match="git fetch failed|cannot"):
        prepare(ctx=ctx)  # the fetch cannot reach git.example; the config is written before it
    cfg = (work / ".git" / "config").read_text()
    assert TOKEN not in cfg and "$REPO_TOKEN" in cfg and "user.name" not in cfg.replace("name = tide[bot]", "")
    helper = git(work, "config", "--get", "credential.https://git.example.helper")
    proc = subprocess.run(["sh", "-c", helper[1:] + " get"], input="", capture_output=True, text=True,
                          env={"REPO_TOKEN": TOKEN, "PATH": os.environ["PATH"]})
    assert f"password={TOKEN}" in proc.stdout
    assert not (tmp_path / "home" / ".gitconfig").exists()
