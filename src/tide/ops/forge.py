"""Open the forge of a repository: the composition point of settings, CI context, token and driver.

Also the git plumbing that PR/comment/ci operations share (remote URL, token-authenticated git
environment). Tokens reach git through environment variables of the git process only
(``GIT_CONFIG_COUNT``/``KEY``/``VALUE``), never through argv or a file.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field

from tide.core.config import Env
from tide.core.errors import ConfigError, GitError
from tide.core.git import Git, find_root
from tide.forge.base import Forge
from tide.forge.detect import CIContext, ForgeChoice, Token, check_settings, choose, ci_context, find_token

SETTINGS_FILE = "tide.yaml"


def load_settings(root: str) -> dict:
    """The ``forge:`` section of ``tide.yaml`` (empty when absent)."""
    path = os.path.join(root, SETTINGS_FILE)
    if not os.path.exists(path):
        return {}
    from tide.core.yamlio import load_file

    data = load_file(path) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping")
    return check_settings(data.get("forge"))


def remote_url(git: Git, remote: str) -> str | None:
    proc = git.run("remote", "get-url", remote, check=False)
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


@dataclass(frozen=True)
class ForgeContext:
    """An open forge plus what the caller needs around it."""

    forge: Forge
    choice: ForgeChoice
    ci: CIContext
    root: str
    remote: str = "origin"
    token: Token | None = field(default=None, repr=False)
    env: Env = field(default_factory=Env, repr=False)

    @property
    def git(self) -> Git:
        return Git(self.root)

    def head_sha(self) -> str:
        return self.ci.sha or self.git.out("rev-parse", "HEAD").strip()

    def branch(self) -> str:
        if self.ci.branch:
            return self.ci.branch
        b = self.git.out("branch", "--show-current").strip()
        if not b:
            raise GitError("HEAD is detached and the CI environment names no branch: pass --target-branch")
        return b

    def git_env(self) -> dict[str, str]:
        """Environment for a git process that pushes/fetches with the forge token (never on disk)."""
        return auth_env(self.forge, self.env)


def auth_env(forge: Forge, env: Env) -> dict[str, str]:
    auth = forge.git_auth()
    out = {"GIT_TERMINAL_PROMPT": "0"}
    if not auth:
        return out
    user, password = auth
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    n = int(env.get("GIT_CONFIG_COUNT") or 0)
    out.update({
        "GIT_CONFIG_COUNT": str(n + 1),
        f"GIT_CONFIG_KEY_{n}": f"http.{forge.web_url.rstrip('/')}/.extraheader",
        f"GIT_CONFIG_VALUE_{n}": f"Authorization: Basic {basic}",
    })
    return out


def open_forge(
    path: str | None = None,
    *,
    driver: str | None = None,
    repo: str | None = None,
    token: str | None = None,
    remote: str = "origin",
    env: Env | None = None,
) -> ForgeContext:
    """Open the forge for the git repository at ``path`` (default: the current directory)."""
    from tide.forge.drivers import open_driver

    env = env or Env()
    start = os.path.abspath(path or os.getcwd())
    root = find_root(start)
    if root is None:
        raise GitError(f"'{start}' is not inside a git repository")
    settings = load_settings(root)
    git = Git(root)
    choice = choose(env, driver=driver, repo=repo, settings=settings, remote_url=remote_url(git, remote))
    tok = find_token(env, token)
    verify = str(settings.get("verify_ssl", "true")).lower() not in ("false", "0", "no")
    forge = open_driver(choice, tok, verify=verify)
    return ForgeContext(forge, choice, ci_context(env), root, remote, tok, env)
