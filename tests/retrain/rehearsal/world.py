"""The world a rehearsed workflow runs in: the fake GitHub/GitLab (stateful, with the runner services
their agents talk to), moto's EC2, the fake Google Drive, the machines, and a small project whose
data grows every simulated day.

What is *not* the workflow's: the world's clock (``TIDE_DAY``, which the project's ``get_data.py``
reads as the example's does), where the services are (``AWS_ENDPOINT_URL``, ``TIDE_GDRIVE_API_URL``,
``GITHUB_API_URL``/``CI_API_V4_URL`` set by the CI service itself) and that the machines are offline
(``PIP_NO_INDEX``): set on every machine as an image or the network would, never in the workflow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes.forge.github import FakeGitHub
from tests.fakes.forge.gitlab import FakeGitLab
from tests.fakes.forge.server import Reply, Served
from tests.retrain.rehearsal.machines import Cloud, Image, Machine, RehearsalError

PAT = "ghp_rehearsalPersonalAccessToken0001"        # the repository admin's token (registers runners)
GITLAB_TOKEN = "glpat-rehearsalProjectToken03"


# what a GITHUB_TOKEN needs for each call tide makes: (method, path pattern) -> (scope, level)
SCOPES = (("*", r"/actions/runners", "administration", "write"),      # never granted to GITHUB_TOKEN
          ("GET", r"/pulls|/commits/\w+/pulls", "pull-requests", "read"),
          ("*", r"/pulls|graphql", "pull-requests", "write"),
          ("GET", r"/issues/", "pull-requests", "read"),
          ("*", r"/issues/", "pull-requests", "write"),               # comments on a pull request
          ("*", r"/check-runs", "checks", "write"),
          ("GET", r".", "contents", "read"),
          ("*", r".", "contents", "write"))


class RehearsalGitHub(FakeGitHub):
    """FakeGitHub plus what GitHub's own services do: each job's GITHUB_TOKEN carries that job's
    ``permissions`` (a call beyond them answers 403 "Resource not accessible by integration", and no
    GITHUB_TOKEN administers runners); the runner's ``config.sh`` registers with a minted registration
    token (``/actions/runner-registration``)."""

    def setup(self) -> None:
        super().setup()
        self.job_tokens: dict[str, dict[str, str]] = {}
        self.denied: list[tuple[str, str, str]] = []
        self.minted: set[str] = set()
        self.agent_dirs: dict[str, str] = {}
        self.route("POST", r"/actions/runner-registration", self.register_agent)

    def authorized(self, headers: dict) -> bool:
        auth = headers.get("authorization", "")
        if auth.startswith("RemoteAuth "):
            return auth.split(" ", 1)[1] in self.minted
        return auth in {f"{kind} {t}" for kind in ("Bearer", "token") for t in (PAT, *self.job_tokens)}

    def job_token(self, permissions: dict[str, str]) -> str:
        token = f"ghs_job{len(self.job_tokens):04d}rehearsal{os.getpid()}"
        self.job_tokens[token] = dict(permissions)
        return token

    def handle(self, method, path, query, headers, body):
        import re

        token = headers.get("authorization", "").split(" ", 1)[-1]
        perms = self.job_tokens.get(token)
        if perms is not None and path != "/actions/runner-registration":
            for m, pattern, scope, level in SCOPES:
                if m in ("*", method) and re.search(pattern, path):
                    have = perms.get(scope, "none")
                    if scope == "administration" or not (have == "write" or have == level):
                        self.denied.append((method, path, f"{scope}: {level}"))
                        return Reply(403, {"message": "Resource not accessible by integration",
                                           "documentation_url": "https://docs.github.com/rest"})
                    break
        return super().handle(method, path, query, headers, body)

    def registration_token(self, m, q, d):
        reply = super().registration_token(m, q, d)
        self.minted.add(reply.body["token"])
        return reply

    def register_agent(self, m, q, d):
        if d.get("url") != f"{self.server}/{self.repo}":
            return Reply(404, {"message": f"runner url {d.get('url')} is not this repository"})
        self.minted.discard(d["token"])       # a registration token registers one runner
        rid = self.add_runner(d["name"], ["self-hosted", "Linux", "X64", *d["labels"]])
        self.runners[rid]["ephemeral"] = d["ephemeral"]
        self.agent_dirs[d["name"]] = d["agent_dir"]
        return Reply(201, {"id": rid, "name": d["name"]})


class RehearsalGitLab(FakeGitLab):
    """FakeGitLab plus the runner's ``/runners/verify`` (a runner is online once its agent verified)."""

    def setup(self) -> None:
        super().setup()
        self.project = "octo/demo"
        self.route("POST", r"/runners/verify", self.verify)

    def verify(self, m, q, d):
        for r in self.runners.values():
            if f"glrt-{r['id']:020d}" == d.get("token"):
                r.update(status="online", agent_dir=d["agent_dir"])
                return Reply(200, {"id": r["id"], "token": d["token"]})
        return Reply(403, {"message": "403 Forbidden"})

    def authorized(self, headers: dict) -> bool:  # runners/verify authenticates with the runner token
        return True if headers.get("private-token") is None and self._verifying else super().authorized(headers)

    _verifying = False

    def handle(self, method, path, query, headers, body):
        self._verifying = path == "/runners/verify"
        return super().handle(method, path, query, headers, body)


# --- the project --------------------------------------------------------------------------------------
GET_DATA = """\
import os
day = int(os.environ.get("TIDE_DAY", "0"))          # the world's clock (as the example's get_data.py)
os.makedirs("data", exist_ok=True)
with open("data/rows.csv", "w") as f:
    f.write("".join(f"{i},{i % 2}\\n" for i in range(200 + 100 * day)))
"""

TRAIN = """\
import json, os
n = sum(1 for _ in open("data/rows.csv"))
wrong = 2 + n // 100                                 # more data, fewer mistakes
os.makedirs("model", exist_ok=True)
open("model/model.bin", "w").write(f"model trained on {n} rows")
rows, correct = ["row,label,prediction"], 0
for i in range(300):
    y = i % 2
    p = 1 - y if i % wrong == 0 else y
    correct += p == y
    rows.append(f"{i},{y},{p}")
open("model/preds.csv", "w").write("\\n".join(rows) + "\\n")
json.dump({"accuracy": round(correct / 300, 4), "rows": n}, open("model/metrics.json", "w"))
"""

DVC_YAML = """\
stages:
  get_data:
    cmd: python get_data.py
    deps:
    - get_data.py
    outs:
    - data
    always_changed: true
  train:
    cmd: python train.py
    deps:
    - data
    - train.py
    outs:
    - model/model.bin
    - model/preds.csv:
        cache: false
    metrics:
    - model/metrics.json:
        cache: false
"""

TIDE_YAML = """\
registry:
  model: tiny
  path: model/model.bin
gate:
  metrics: model/metrics.json
  primary: {metric: accuracy, direction: higher, min_improvement: 0.0}
  predictions: model/preds.csv
  bootstrap: {samples: 200, seed: 0}
deploy:
  copy_to: deployed
retrain:
  base: main
  pr_files: [dvc.lock, model/metrics.json, model/preds.csv, model/.gitignore]
schedule:
  cron: '30 6 * * *'
ci:
  install: WHEEL
"""


def git(cwd, *args, env=None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RehearsalError(f"git {' '.join(args)}: {proc.stderr}")
    return proc.stdout


class World:
    queue_timeout = 30.0

    def __init__(self, top: Path, provider: str, image: Image, drive, moto: str, gdrive_key: str) -> None:
        self.top = top
        self.provider = provider
        self.image = image
        self.drive = drive
        self.bare = top / "origin.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.bare)], check=True)
        if provider == "github":
            self.fake = RehearsalGitHub(PAT, str(self.bare))
            self.served = Served(self.fake, "/api/v3")
            self.server_url = self.served.root
            self.fake.server = self.server_url
            gh_api, gl_api = self.fake.base_url, ""
        else:
            self.fake = RehearsalGitLab(GITLAB_TOKEN, str(self.bare))
            self.served = Served(self.fake, "/api/v4")
            self.server_url = self.served.root
            gh_api, gl_api = "", self.fake.base_url
        self.day = 0
        self.machines = 0
        self.world_env = {"AWS_ENDPOINT_URL": moto, "AWS_EC2_METADATA_DISABLED": "true",
                          "TIDE_GDRIVE_API_URL": drive.base, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        self.cloud = Cloud(moto, image, top / "ec2", self.world_env, gh_api, gl_api)
        from tide.runners.catalog import IMAGES

        self.cloud.publish_image(IMAGES["aws"].replace("*", "20240101"), ("us-west-1",))
        self.folder = drive.new_folder()
        self.gdrive_key = gdrive_key

    # --- the machines --------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        return dict(self.world_env, TIDE_DAY=str(self.day))

    def hosted_machine(self) -> Machine:
        self.machines += 1
        return Machine(self.image, self.top / "hosted" / f"m{self.machines}", self._env())

    def after_job(self) -> None:
        self.cloud.world_env = self._env()
        self.cloud.boot()

    def runner_machine(self, name: str) -> Machine:
        agent = self.fake.agent_dirs[name]
        for m in self.cloud.booted.values():
            if agent.startswith(str(m.root)):
                m.agent_dir = agent  # type: ignore[attr-defined]
                return m
        raise RehearsalError(f"runner {name} is on no machine the cloud booted")

    def hand_job(self, runner: str, job: dict) -> None:
        agent = Path(self.fake.agent_dirs[runner])
        _write(agent / "job.json", json.dumps(job))
        _wait(lambda: "Running job" in _read(agent.parent / "agent.log"), f"runner {runner} took no job")

    def job_done(self, runner: str, result: str, r: dict) -> None:
        _write(Path(self.fake.agent_dirs[runner]) / "job.done", result)
        r["busy"] = False
        if r.get("ephemeral"):   # GitHub removes an ephemeral runner after its job
            self.fake.runners.pop(r["id"], None)

    def gitlab_runner_machine(self, r: dict) -> Machine:
        for m in self.cloud.booted.values():
            if r["agent_dir"].startswith(str(m.root)):
                m.agent_dir = r["agent_dir"]  # type: ignore[attr-defined]
                return m
        raise RehearsalError(f"runner {r['id']} is on no machine the cloud booted")

    def polling(self, r: dict) -> bool:
        """Whether that runner's agent is asking for a job now (a runner whose agent ended takes none)."""
        return bool(r.get("agent_dir")) and (Path(r["agent_dir"]) / "polling").exists()

    def hand_gitlab_job(self, r: dict, job: dict) -> None:
        home = Path(r["agent_dir"])
        _write(home / "job.json", json.dumps(job))
        _wait(lambda: f'"job": {job["id"]}, "msg": "received"' in _read(home / "agent.log"),
              f"runner {r['id']} took no job")

    def gitlab_job_done(self, r: dict, result: str) -> None:
        _write(Path(r["agent_dir"]) / "job.done", result)

    def close(self) -> None:
        self.cloud.shutdown()
        self.served.close()

    # --- the project and the people around it -----------------------------------------------------
    def make_project(self, ci_args: list[str], tide_yaml: str = TIDE_YAML) -> Path:
        """The team's repository: the project, its Drive remote and the workflow ``tide ci init`` wrote,
        pushed to the forge. Returns the working copy."""
        ws = self.top / "team"
        ws.mkdir()
        env = _team_env()
        git(ws, "init", "-q", "-b", "main", env=env)
        git(ws, "remote", "add", "origin", str(self.bare), env=env)   # the team's clone of the forge
        tide(ws, "init")
        (ws / "get_data.py").write_text(GET_DATA)
        (ws / "train.py").write_text(TRAIN)
        (ws / "dvc.yaml").write_text(DVC_YAML)
        (ws / "requirements.txt").write_text("pyyaml\n")
        (ws / "tide.yaml").write_text(tide_yaml.replace("WHEEL", str(self.image.wheel)))
        (ws / ".gitignore").write_text("/deployed\n/promotions\n")
        tide(ws, "remote", "add", "-d", "drive", f"gdrive://{self.folder}/tide")
        tide(ws, "remote", "modify", "drive", "gdrive_use_service_account", "true")
        git(ws, "add", "-A", env=env)  # ci init refuses a project tide retrain could not run (no commit yet)
        git(ws, "commit", "-q", "-m", "project", env=env)
        git(ws, "push", "-q", "-u", "origin", "main", env=env)
        out = tide(ws, "ci", "init", self.provider, *ci_args)
        git(ws, "add", "-A", env=env)
        git(ws, "commit", "-q", "-m", "its retraining workflow", env=env)
        git(ws, "push", "-q", "origin", "main", env=env)
        self.ci_init_output = out
        return ws

    def merge_open_prs(self) -> list[int]:
        """The reviewer merges what the day's run proposed (so the next day starts from it)."""
        import httpx

        merged = []
        if self.provider == "github":
            for n, p in sorted(self.fake.pulls.items()):
                if p["state"] == "open":
                    r = httpx.put(f"{self.fake.base_url}/repos/{self.fake.repo}/pulls/{n}/merge",
                                  headers={"Authorization": f"Bearer {PAT}"}, json={"merge_method": "merge"})
                    assert r.status_code == 200, r.text
                    merged.append(n)
        else:
            for n, mr in sorted(self.fake.mrs.items()):
                if mr["state"] == "opened":
                    r = httpx.put(f"{self.fake.base_url}/projects/{self.fake.project_num}/merge_requests/{n}/merge",
                                  headers={"PRIVATE-TOKEN": GITLAB_TOKEN})
                    assert r.status_code == 200, r.text
                    merged.append(n)
        return merged


def _team_env() -> dict[str, str]:
    return dict(os.environ, GIT_AUTHOR_NAME="team", GIT_AUTHOR_EMAIL="team@example.com",
                GIT_COMMITTER_NAME="team", GIT_COMMITTER_EMAIL="team@example.com")


def tide(cwd: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "tide", *args], cwd=cwd, capture_output=True, text=True,
                          env=_team_env())
    if proc.returncode != 0:
        raise RehearsalError(f"tide {' '.join(args)}: {proc.stdout}{proc.stderr}")
    return proc.stdout


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _wait(cond, what: str, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise RehearsalError(what)
        time.sleep(0.05)
