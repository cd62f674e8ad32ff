"""Proof for issue 18: the UNMODIFIED workflow ``tide ci init`` writes, run as GitHub Actions / GitLab CI
would over simulated days (tests/retrain/rehearsal), against the stateful fake forge, moto's EC2 and the
fake Google Drive, with tide installed from a wheel of this checkout through the generated install line
(``ci.install``). Each day: one PR whose report comment is updated, never duplicated; model and data
on the Drive remote; registry tags on the forge; no EC2 instance left running.

``TIDE_REHEARSAL_DAYS`` (default 3) sets the number of days (``make torture`` may run more).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.retrain.rehearsal.actions import GitHubRun
from tests.retrain.rehearsal.gitlab_ci import GitLabPipeline, rule_matches
from tests.retrain.rehearsal.machines import Image, RehearsalError
from tests.retrain.rehearsal.world import GITLAB_TOKEN, PAT, WORKFLOW_TOKEN, World, git

DAYS = int(os.environ.get("TIDE_REHEARSAL_DAYS", "3"))
SHOW_LOG = bool(os.environ.get("TIDE_REHEARSAL_LOG"))   # read at import: tests start without TIDE_* knobs
AWS = {"AWS_ACCESS_KEY_ID": "AKIAREHEARSAL0000001", "AWS_SECRET_ACCESS_KEY": "rehearsal-aws-secret-000000001"}


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    return Image(tmp_path_factory.mktemp("image"))


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    from tests.runners.conftest import free_port, wait_port

    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=open(log, "w"), stderr=subprocess.STDOUT)  # noqa: SIM115
    wait_port(port, 30)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def drive():
    from tests.storage.fake_gdrive import FakeDrive

    d = FakeDrive()
    yield d
    d.stop()


@pytest.fixture
def make_world(tmp_path, image, drive, moto):
    worlds = []

    def make(provider: str) -> World:
        key = drive.service_account_file(str(tmp_path / "sa.json"))
        w = World(tmp_path / f"world-{len(worlds)}", provider, image, drive, moto, open(key).read())  # noqa: SIM115
        worlds.append(w)
        return w

    yield make
    for w in worlds:
        w.close()


def github_secrets(world: World) -> dict[str, str]:
    return {"GITHUB_TOKEN": WORKFLOW_TOKEN, "PERSONAL_ACCESS_TOKEN": PAT, "GDRIVE_CREDENTIALS_DATA": world.gdrive_key,
            **AWS}


def _running(world: World) -> list:
    return world.cloud.instances(("pending", "running", "stopping", "stopped"))


def _drive_files(world: World) -> list[str]:
    return [p for p in world.drive.paths() if "/files/md5/" in p and world.folder[:6] in p]


def _check_day(world: World, day: int, res, secrets: dict[str, str]) -> None:
    if SHOW_LOG:
        print(res.log())
    assert res.conclusion == "success", res.log()
    for value in secrets.values():   # nothing printed a secret (GitHub would mask it; tide must not print it)
        assert value not in res.log(), "a secret appears in the job log"
    world.cloud.wait_down()
    assert _running(world) == [], "an EC2 instance is left after the run"


@pytest.mark.parametrize("mode", ["default", "aws"])
def test_issue18_rehearsal_github_three_days(make_world, mode):
    world = make_world("github")
    ws = world.make_project(["--cloud", "aws"] if mode == "aws" else [])
    wf = ws / ".github" / "workflows" / "tide-retrain.yml"
    assert "tide_ml-" in wf.read_text() and ".whl[" in wf.read_text()   # installs through ci.install
    secrets = github_secrets(world)
    runs = 0
    for day in range(1, DAYS + 1):
        world.day = day
        runs += 1
        res = GitHubRun(world, wf, "schedule", secrets, run_number=runs).run()
        _check_day(world, day, res, secrets)
        if mode == "aws":
            assert res.jobs == {"deploy-runner": "success", "train-model": "success"}
            assert world.fake.runners == {}          # the ephemeral runner took its one job and is gone
        if day == 1:   # run again by hand the same day: the same PR, its one comment updated
            first = _report_comments(world, 1)
            runs += 1
            res = GitHubRun(world, wf, "workflow_dispatch", secrets, run_number=runs).run()
            _check_day(world, day, res, secrets)
            again = _report_comments(world, 1)
            assert len(again) == 1 and again[0]["id"] == first[0]["id"]
        assert sorted(world.fake.pulls) == list(range(1, day + 1)), "one PR per day"
        assert len(_report_comments(world, day)) == 1
        assert world.merge_open_prs() == [day]
    tags = git(world.bare, "tag", "-l").split()
    assert {f"tiny@v0.0.{d}" for d in range(1, DAYS + 1)} <= set(tags), tags
    assert any(t.startswith("tiny#prod#") for t in tags), tags
    assert len(_drive_files(world)) >= 2 * DAYS    # each day's data and model pushed to the Drive remote
    assert _running(world) == []


def _report_comments(world: World, pr: int) -> list[dict]:
    return [c["json"] for c in world.fake.comments.values()
            if c["target"] == ("issue", str(pr)) and "tide retrain" in c["json"]["body"]]


@pytest.mark.parametrize("mode", ["default", "aws"])
def test_issue18_rehearsal_gitlab_three_days(make_world, mode):
    world = make_world("gitlab")
    ws = world.make_project(["--cloud", "aws"] if mode == "aws" else [])
    pipeline = ws / ".gitlab-ci.yml"
    variables = {"REPO_TOKEN": GITLAB_TOKEN, "GDRIVE_CREDENTIALS_DATA": world.gdrive_key, **AWS}
    schedule_vars = {"TIDE_SCHEDULED": "1"}
    for day in range(1, DAYS + 1):
        world.day = day
        res = GitLabPipeline(world, pipeline, "schedule", variables, schedule_vars, pipeline_id=day).run()
        _check_day(world, day, res, variables)
        assert sorted(world.fake.mrs) == list(range(1, day + 1)), "one merge request per day"
        notes = [n for n in world.fake.notes.values() if n["target"] == ("merge_requests", str(day))]
        assert len(notes) == 1 and "tide retrain" in notes[0]["json"]["body"]
        assert world.merge_open_prs() == [day]
    assert GitLabPipeline(world, pipeline, "push", variables).run().conclusion == "failure"  # only schedules/web
    tags = git(world.bare, "tag", "-l").split()
    assert {f"tiny@v0.0.{d}" for d in range(1, DAYS + 1)} <= set(tags), tags
    assert len(_drive_files(world)) >= 2 * DAYS
    assert _running(world) == []


# --- findings of the rehearsal, each with its own fast test --------------------------------------------
def test_issue18_r01_retrain_attaches_gitlabs_detached_checkout_to_the_base_branch(tmp_path):
    """GitLab CI checks out ``CI_COMMIT_SHA`` as a detached HEAD: tide retrain refused ("check out the
    base branch 'main' first") on every scheduled pipeline. It now puts the base branch on that commit
    when the CI service says the commit is the base branch's, and only then."""
    from tide.core.config import Env
    from tide.core.git import Git
    from tide.ops.retrain import _attach_ci_checkout

    ws = tmp_path / "ws"
    ws.mkdir()
    git(ws, "init", "-q", "-b", "main")
    (ws / "f").write_text("x")
    git(ws, "add", "f")
    git(ws, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c")
    sha = git(ws, "rev-parse", "HEAD").strip()
    git(ws, "checkout", "-q", "--detach", sha)
    notes: list[str] = []
    g = Git(str(ws))
    other = Env({"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "feature", "CI_COMMIT_SHA": sha})
    assert _attach_ci_checkout(g, "main", other, notes.append) == ""         # another branch's pipeline
    assert _attach_ci_checkout(g, "main", Env({}), notes.append) == ""       # not in CI: the user's HEAD
    moved = Env({"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_SHA": "0" * 40})
    assert _attach_ci_checkout(g, "main", moved, notes.append) == ""         # HEAD is not the CI commit
    assert git(ws, "branch", "--show-current").strip() == ""
    ci = Env({"GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_SHA": sha})
    assert _attach_ci_checkout(g, "main", ci, notes.append) == "main"
    assert git(ws, "branch", "--show-current").strip() == "main" and len(notes) == 1
