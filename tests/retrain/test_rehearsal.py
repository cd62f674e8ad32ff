"""Proof for issue 18: the UNMODIFIED workflow ``tide ci init`` writes, run as GitHub Actions / GitLab CI
would over simulated days (tests/retrain/rehearsal), against the stateful fake forge, moto's EC2 and the
fake Google Drive, with tide installed from a wheel of this checkout through the generated install line
(``ci.install``). Each day: one PR whose report comment is updated, never duplicated; model and data
on the Drive remote; registry tags on the forge; no EC2 instance left running.

Bounded for ``make test``: the cloud (aws) variants, which run everything the default ones run plus the
runner, go over ``TIDE_REHEARSAL_DAYS`` (default 3) days; the default variants over one day (with its
re-run). ``TIDE_REHEARSAL_FULL=1`` runs every variant over all the days (``make torture``).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import breadth
from tests.retrain.rehearsal.actions import GitHubRun
from tests.retrain.rehearsal.gitlab_ci import GitLabPipeline, rule_matches
from tests.retrain.rehearsal.machines import Image
from tests.retrain.rehearsal.world import GITLAB_TOKEN, PAT, TIDE_YAML, World, git

DAYS = int(os.environ.get("TIDE_REHEARSAL_DAYS", "3"))
FULL = bool(os.environ.get("TIDE_REHEARSAL_FULL"))
SHOW_LOG = bool(os.environ.get("TIDE_REHEARSAL_LOG"))   # read at import: tests start without TIDE_* knobs
AWS = {"AWS_ACCESS_KEY_ID": "AKIAREHEARSAL0000001", "AWS_SECRET_ACCESS_KEY": "rehearsal-aws-secret-000000001"}


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    return Image(tmp_path_factory.mktemp("image"))


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    from tests.fakes.servers import free_port, wait_port

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
    from tests.fakes.gdrive import FakeDrive

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
    return {"PERSONAL_ACCESS_TOKEN": PAT, "GDRIVE_CREDENTIALS_DATA": world.gdrive_key,
            **AWS}


def _running(world: World) -> list:
    return world.cloud.instances(("pending", "running", "stopping", "stopped"))


def _drive_files(world: World) -> list[str]:
    return [p for p in world.drive.paths() if "/files/md5/" in p and world.folder[:6] in p]


def _check_day(world: World, day: int, res, secrets: dict[str, str]) -> None:
    if SHOW_LOG:
        print(res.log())
    assert res.conclusion == "success", res.log()
    for value in [*secrets.values(), *res.tokens]:  # nothing printed a secret (GitHub masks; tide must not print)
        assert value not in res.log(), "a secret appears in the job log"
    assert getattr(world.fake, "denied", []) == [], "a call beyond the job's permissions (GitHub answers 403)"
    world.cloud.wait_down()
    assert _running(world) == [], "an EC2 instance is left after the run"


@pytest.mark.parametrize("mode", breadth(["default", "aws"]))
def test_issue18_rehearsal_github_three_days(make_world, mode):
    world = make_world("github")
    ws = world.make_project(["--cloud", "aws"] if mode == "aws" else [])
    wf = ws / ".github" / "workflows" / "tide-retrain.yml"
    assert "tide_ml-" in wf.read_text() and ".whl[" in wf.read_text()   # installs through ci.install
    secrets = github_secrets(world)
    runs = 0
    days = DAYS if mode == "aws" or FULL else 1
    for day in range(1, days + 1):
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
        _check_stored(world, "pulls", day)
        assert world.merge_open_prs() == [day]
    tags = git(world.bare, "tag", "-l").split()
    assert {f"tiny@v0.0.{d}" for d in range(1, days + 1)} <= set(tags), tags
    assert any(t.startswith("tiny#prod#") for t in tags), tags
    assert len(_drive_files(world)) >= 2 * days    # each day's data and model pushed to the Drive remote
    assert _running(world) == []
    if mode == "aws":
        _ran_on_runners(world, runs, "Running job: train-model")


def _ran_on_runners(world: World, runs: int, took_job: str) -> None:
    """Each run launched one machine, whose agent took the training job and whose watchdog then ended it."""
    import json

    assert len(world.cloud.booted) == runs
    for m in world.cloud.booted.values():
        home = m.root / "opt" / "tide-runner"
        assert took_job in (home / "agent.log").read_text()
        events = [json.loads(line) for line in (home / "events.jsonl").read_text().splitlines()]
        assert [e["status"] for e in events] == ["ready", "job_started", "job_ended", "terminated"]
        assert events[-1]["reason"] == "single"


def _report_notes(world: World, mr: int) -> list[dict]:
    return [n["json"] for n in world.fake.notes.values()
            if n["target"] == ("merge_requests", str(mr)) and "tide retrain" in n["json"]["body"]]


def _check_stored(world: World, kind: str, number: int) -> None:
    """The model and the data the PR's dvc.lock names are on the Drive remote (DVC 3 layout)."""
    import yaml

    branch = world.fake.pulls[number]["head"] if kind == "pulls" else world.fake.mrs[number]["source"]
    lock = yaml.safe_load(git(world.bare, "show", f"refs/heads/{branch}:dvc.lock"))
    outs = {o["path"]: o["md5"] for st in lock["stages"].values() for o in st.get("outs", [])}
    stored = set(_drive_files(world))
    for path in ("data", "model/model.bin"):
        md5 = outs[path]
        assert any(p.endswith(f"files/md5/{md5[:2]}/{md5[2:]}") for p in stored), (path, md5, sorted(stored))


def _report_comments(world: World, pr: int) -> list[dict]:
    return [c["json"] for c in world.fake.comments.values()
            if c["target"] == ("issue", str(pr)) and "tide retrain" in c["json"]["body"]]


@pytest.mark.parametrize("mode", breadth(["default", "aws"]))
def test_issue18_rehearsal_gitlab_three_days(make_world, mode):
    world = make_world("gitlab")
    # tide from the wheel through --install this time (the GitHub rehearsal uses ci.install in tide.yaml)
    tide_yaml = TIDE_YAML.split("ci:")[0]
    ws = world.make_project((["--cloud", "aws"] if mode == "aws" else []) + ["--install", str(world.image.wheel)],
                            tide_yaml)
    pipeline = ws / ".gitlab-ci.yml"
    assert ".whl[" in pipeline.read_text()
    variables = {"REPO_TOKEN": GITLAB_TOKEN, "GDRIVE_CREDENTIALS_DATA": world.gdrive_key, **AWS}
    schedule_vars = {"TIDE_SCHEDULED": "1"}
    pipelines = 0
    days = DAYS if mode == "aws" or FULL else 1
    for day in range(1, days + 1):
        world.day = day
        pipelines += 1
        res = GitLabPipeline(world, pipeline, "schedule", variables, schedule_vars, pipeline_id=pipelines).run()
        _check_day(world, day, res, variables)
        if day == 1:   # "Run pipeline" by hand the same day: the same merge request, its one note updated
            first = _report_notes(world, 1)
            pipelines += 1
            res = GitLabPipeline(world, pipeline, "web", variables, pipeline_id=pipelines).run()
            _check_day(world, day, res, variables)
            again = _report_notes(world, 1)
            assert len(again) == 1 and again[0]["id"] == first[0]["id"]
        assert sorted(world.fake.mrs) == list(range(1, day + 1)), "one merge request per day"
        assert len(_report_notes(world, day)) == 1
        _check_stored(world, "merge_requests", day)
        assert world.merge_open_prs() == [day]
    assert GitLabPipeline(world, pipeline, "push", variables).run().conclusion == "failure"  # only schedules/web
    tags = git(world.bare, "tag", "-l").split()
    assert {f"tiny@v0.0.{d}" for d in range(1, days + 1)} <= set(tags), tags
    assert len(_drive_files(world)) >= 2 * days
    assert _running(world) == []
    if mode == "aws":
        _ran_on_runners(world, pipelines, '"msg": "received"')


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


# --- the executor itself: it runs what GitHub runs, and it fails where GitHub (or the job) would -------
def _bare_world(make_world, provider: str) -> World:
    world = make_world(provider)
    ws = world.top / "team"
    ws.mkdir()
    git(ws, "init", "-q", "-b", "main")
    (ws / "README").write_text("hello\n")
    git(ws, "add", "README")
    git(ws, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    git(ws, "push", "-q", str(world.bare), "main")
    world.queue_timeout = 1.0
    return world


GOOD = """\
name: mechanics
on:
  schedule: [{cron: '0 8 * * *'}]
  workflow_dispatch:
env: {TOP: top-level}
jobs:
  first:
    runs-on: ubuntu-latest
    outputs: {greeting: '${{ steps.say.outputs.greeting }}'}
    steps:
    - uses: actions/checkout@v4
    - id: say
      run: |
        test "$(cat README)" = hello && test "$GITHUB_EVENT_NAME" = schedule && test -n "$RUNNER_TEMP"
        python3 -c "import json,os; e=json.load(open(os.environ['GITHUB_EVENT_PATH'])); assert e['schedule']"
        echo "greeting=hi from $GITHUB_JOB" >> "$GITHUB_OUTPUT"
        echo "FROM_ENV=kept" >> "$GITHUB_ENV"
        mkdir -p "$RUNNER_TEMP/tools" && printf '#!/bin/sh\\necho tool\\n' > "$RUNNER_TEMP/tools/mytool"
        chmod +x "$RUNNER_TEMP/tools/mytool" && echo "$RUNNER_TEMP/tools" >> "$GITHUB_PATH"
    - run: test "$FROM_ENV" = kept && test "$(mytool)" = tool && test "$SECRET" = s3cr3t && test "$TOP" = top-level
      env: {SECRET: '${{ secrets.MY_SECRET }}'}
    - if: failure()
      run: echo never
  second:
    needs: first
    if: github.event_name == 'schedule'
    runs-on: ubuntu-latest
    steps:
    - run: test "$G" = "hi from first"
      env: {G: '${{ needs.first.outputs.greeting }}'}
"""


def test_issue18_rehearsal_executor_runs_what_github_runs(make_world):
    world = _bare_world(make_world, "github")
    path = world.top / "wf.yml"
    path.write_text(GOOD)
    res = GitHubRun(world, path, "schedule", {"MY_SECRET": "s3cr3t"}).run()
    assert res.conclusion == "success", res.log()
    assert res.jobs == {"first": "success", "second": "success"}
    assert [s.outcome for s in res.steps] == ["success", "success", "success", "skipped", "success"]
    res = GitHubRun(world, path, "workflow_dispatch", {"MY_SECRET": "s3cr3t"}).run()
    assert res.jobs == {"first": "failure", "second": "skipped"}, res.log()   # another payload: the test fails


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("secrets.MY_SECRET", "secret.MY_SECRET", "unknown context 'secret'"),                  # a bad expression
    ("secrets.MY_SECRET", "secrets.NOT_CREATED", "'secrets.NOT_CREATED' does not exist"),    # a missing secret
    ("steps.say.outputs.greeting", "steps.say.outputs.nothing", "'steps.say.outputs.nothing' does not exist"),
    ("- uses: actions/checkout@v4", "- uses: actions/cache@v4", "'actions/cache@v4' is not rehearsed"),
    ("runs-on: ubuntu-latest\n    outputs", "runs-on: [self-hosted, gpu]\n    outputs", "no online runner"),
    ("test \"$(cat README)\" = hello", "exit 1", None),                                      # a step fails
])
def test_issue18_rehearsal_executor_fails_a_broken_workflow(make_world, old, new, expected):
    world = _bare_world(make_world, "github")
    path = world.top / "wf.yml"
    assert old in GOOD
    path.write_text(GOOD.replace(old, new, 1))
    res = GitHubRun(world, path, "schedule", {"MY_SECRET": "s3cr3t"}).run()
    assert res.conclusion == "failure"
    if expected:
        assert expected in res.error, res.log()
    else:
        assert res.jobs == {"first": "failure", "second": "skipped"} and res.error == ""
        assert [s.outcome for s in res.steps] == ["success", "failure", "skipped", "success"]


GITLAB_GOOD = """\
stages: [build, test]
variables: {TOP: top-level}
build:
  stage: build
  image: python:PY
  rules:
  - if: '$CI_PIPELINE_SOURCE == "schedule" && $NIGHTLY == "1"'
  script:
  - test "$(cat README)" = hello && test "$TOP" = top-level && test "$MY_SECRET" = s3cr3t
  - test -z "$(git branch --show-current)" && test "$(git rev-parse HEAD)" = "$CI_COMMIT_SHA"
  - python -c "import sys; assert sys.prefix != sys.base_prefix"
test:
  stage: test
  rules:
  - if: '$CI_PIPELINE_SOURCE == "schedule"'
  script:
  - echo second
"""


def test_issue18_rehearsal_gitlab_executor_runs_and_fails(make_world, image):
    world = _bare_world(make_world, "gitlab")
    path = world.top / "ci.yml"
    good = GITLAB_GOOD.replace("PY", image.version)
    path.write_text(good)
    ok = GitLabPipeline(world, path, "schedule", {"MY_SECRET": "s3cr3t"}, {"NIGHTLY": "1"}).run()
    assert ok.conclusion == "success" and ok.jobs == {"build": "success", "test": "success"}, ok.log()
    # the schedule's variables decide: without NIGHTLY the build job is not in the pipeline
    res = GitLabPipeline(world, path, "schedule", {"MY_SECRET": "s3cr3t"}).run()
    assert res.jobs == {"build": "skipped", "test": "success"}
    # a failing line fails the job and the later stage does not run
    path.write_text(good.replace('test "$TOP" = top-level', "exit 1"))
    res = GitLabPipeline(world, path, "schedule", {"MY_SECRET": "s3cr3t"}, {"NIGHTLY": "1"}).run()
    assert res.conclusion == "failure" and res.jobs == {"build": "failed", "test": "skipped"}
    for bad, expected in (('$CI_PIPELINE_SOURCE = "schedule"', "cannot read"),         # a bad rule
                          ("image: python:" + image.version, "image: python:2.7"),     # an image we do not have
                          ("stage: test\n", "stage: test\n  tags: [gpu]\n")):          # a runner nobody launched
        text = good.replace('$CI_PIPELINE_SOURCE == "schedule" && $NIGHTLY == "1"', bad) if bad.startswith("$") \
            else good.replace(bad, expected)
        path.write_text(text)
        res = GitLabPipeline(world, path, "schedule", {"MY_SECRET": "s3cr3t"}, {"NIGHTLY": "1"}).run()
        assert res.conclusion == "failure" and res.error, res.log()
    assert rule_matches('$A == "x" || ($B =~ /^y+$/ && $C != null)', {"B": "yy", "C": "1"})


PERMS = """\
on: {workflow_dispatch: null}
permissions: {contents: read}
jobs:
  a:
    runs-on: ubuntu-latest
    PERMS
    steps:
    - run: |
        python3 - <<'PY'
        import json, os, urllib.error, urllib.request
        req = urllib.request.Request(os.environ["GITHUB_API_URL"] + "/repos/" + os.environ["GITHUB_REPOSITORY"]
                                     + "/pulls", method="POST", data=json.dumps({"title": "t"}).encode(),
                                     headers={"Authorization": "Bearer " + os.environ["TOKEN"]})
        try:
            urllib.request.urlopen(req)
        except urllib.error.HTTPError as e:
            raise SystemExit(e.code if e.code == 403 else 0)
        PY
      env: {TOKEN: '${{ secrets.GITHUB_TOKEN }}'}
"""


def test_issue18_rehearsal_github_token_has_the_jobs_permissions(make_world):
    """Each job's GITHUB_TOKEN carries its ``permissions``: the fake refuses (403) what they do not grant,
    so a generated workflow with too narrow a block fails the rehearsal."""
    world = _bare_world(make_world, "github")
    path = world.top / "wf.yml"
    path.write_text(PERMS.replace("PERMS", "permissions: {contents: read}"))
    res = GitHubRun(world, path, "workflow_dispatch", {}).run()
    assert res.jobs == {"a": "failure"} and world.fake.denied == [("POST", "/repos/octo/demo/pulls",
                                                                   "pull-requests: write")]
    path.write_text(PERMS.replace("PERMS", "permissions: {contents: read, pull-requests: write}"))
    world.fake.denied.clear()
    res = GitHubRun(world, path, "workflow_dispatch", {}).run()
    assert res.jobs == {"a": "success"} and world.fake.denied == [], res.log()


def test_issue18_rehearsal_fails_the_workflow_issue18_describes(make_world):
    """The generated workflow with the bug issue 18 reported (the Drive credentials not passed to the job)
    fails the rehearsal at the push, with nothing proposed: the rehearsal tells a working workflow apart."""
    world = make_world("github")
    ws = world.make_project([])
    wf = ws / ".github" / "workflows" / "tide-retrain.yml"
    text = wf.read_text()
    line = "        GDRIVE_CREDENTIALS_DATA: ${{ secrets.GDRIVE_CREDENTIALS_DATA }}\n"
    assert line in text
    wf.write_text(text.replace(line, ""))
    world.day = 1
    res = GitHubRun(world, wf, "schedule", github_secrets(world)).run()
    assert res.conclusion == "failure" and res.jobs == {"train-model": "failure"}
    assert "step 'push' failed" in res.log() and world.fake.pulls == {}
