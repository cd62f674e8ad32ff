"""Fixtures for the forge suite: a working clone, its bare remote, and each forge (fake or local)."""

from __future__ import annotations

import importlib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fakes.forge.server import FakeForge, Served
from tests.reliability.canaries import user_value
from tide.core.config import Env

# the fakes' token, as a user would configure it: a canary, so the canary run
# (tests/reliability/canary_plugin.py) fails any forge test whose commands print it
TOKEN = user_value("FORGE_TOKEN")

# driver -> (fake module, class, API prefix, repo slug, web server)
HOSTED = {
    "github": ("github", "FakeGitHub", "/api/v3", "octo/demo", "https://github.example"),
    "gitlab": ("gitlab", "FakeGitLab", "/gitlab/api/v4", "group/sub/demo", "https://gitlab.example/gitlab"),
    "bitbucket": ("bitbucket", "FakeBitbucket", "/2.0", "work/demo", "https://bitbucket.example"),
    "gitea": ("gitea", "FakeGitea", "/api/v1", "org/demo", "https://gitea.example"),
}
DRIVERS = ["local", *HOSTED]


def git(cwd, *args, env=None):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout.strip()


@dataclass
class ForgeSetup:
    driver: str
    work: Path                       # the user's clone
    bare: Path                       # its origin
    fake: FakeForge | None = None
    settings: dict = field(default_factory=dict)

    @property
    def env(self) -> Env:
        import os

        values = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITLAB_CI", "CI_PROJECT_URL",
                                                                   "BITBUCKET_BUILD_NUMBER", "GITEA_ACTIONS")}
        if self.fake is not None:
            values["TIDE_TOKEN"] = TOKEN
        return Env(values)

    def options(self) -> dict:
        return {"path": str(self.work), "env": self.env}

    def open(self):
        from tide.ops.forge import open_forge

        return open_forge(str(self.work), env=self.env)


def make_repo(tmp_path: Path) -> tuple[Path, Path]:
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "README.md").write_text("demo\n")
    git(work, "remote", "add", "origin", str(bare))
    return work, bare


def finish_repo(work: Path) -> None:
    git(work, "add", "-A")
    git(work, "commit", "-qm", "initial")
    git(work, "push", "-q", "origin", "main")


@pytest.fixture(params=DRIVERS)
def forge_setup(request, tmp_path):
    yield from _setup(request.param, tmp_path)


def _setup(driver: str, tmp_path: Path):
    work, bare = make_repo(tmp_path)
    if driver == "local":
        finish_repo(work)
        yield ForgeSetup("local", work, bare)
        return
    module, cls, prefix, slug, server = HOSTED[driver]
    fake = getattr(importlib.import_module(f"tests.fakes.forge.{module}"), cls)(TOKEN, str(bare))
    served = Served(fake, prefix)
    settings = {"driver": driver, "repo": slug, "server": server, "api_url": fake.base_url}
    if driver == "gitlab":  # a self-hosted GitLab under a sub-path: the API base is found by probing
        settings = {"driver": "gitlab", "repo": f"{served.root}/gitlab/{slug}"}
    import yaml

    (work / "tide.yaml").write_text(yaml.safe_dump({"forge": settings}))
    finish_repo(work)
    try:
        yield ForgeSetup(driver, work, bare, fake, settings)
    finally:
        served.close()


@pytest.fixture
def hosted_setup(request, tmp_path):
    yield from _setup(request.param, tmp_path)


@pytest.fixture
def local_setup(tmp_path):
    yield from _setup("local", tmp_path)
