"""CI context, token lookup and driver choice: the only place CI environment variables are read.

Everything takes a :class:`tide.core.config.Env`, so tests pass a plain mapping.

Driver choice, first match wins: ``--driver``; ``forge.driver`` in ``tide.yaml``; the CI
environment (GitHub Actions, GitLab CI, Bitbucket Pipelines, Gitea/Forgejo Actions, which also
gives the server and API URLs, so GitHub Enterprise and self-hosted GitLab need no flag); the git
remote's URL (a local path or ``file://`` means the ``local`` forge).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from tide.core.config import Env
from tide.core.errors import ConfigError, UsageError

DRIVERS = ("github", "gitlab", "bitbucket", "gitea", "local")
# CML's lookup order, then tide's own variable.
TOKEN_VARS = ("REPO_TOKEN", "repo_token", "GITHUB_TOKEN", "GITLAB_TOKEN", "BITBUCKET_TOKEN", "TIDE_TOKEN")


@dataclass(frozen=True)
class CIContext:
    """What the CI service tells about the running job (all fields empty outside CI)."""

    provider: str = ""          # github | gitlab | bitbucket | gitea | ""
    server_url: str = ""        # https://github.com, https://gitlab.example.com/sub
    api_url: str = ""
    repo: str = ""              # owner/name (GitLab: group/sub/name)
    sha: str = ""
    branch: str = ""
    pr: int | None = None
    run_id: str = ""
    workflow: str = ""


@dataclass(frozen=True)
class Token:
    value: str
    source: str                 # the variable or flag it came from (safe to print)

    def __repr__(self) -> str:
        return f"Token(source={self.source!r})"


@dataclass(frozen=True)
class RemoteInfo:
    url: str                    # the URL without credentials
    scheme: str                 # https | http | ssh | file
    host: str = ""
    path: str = ""              # owner/name (no .git), or the local path for file remotes

    @property
    def is_local(self) -> bool:
        return self.scheme == "file"

    @property
    def web_base(self) -> str:
        scheme = "http" if self.scheme == "http" else "https"
        return f"{scheme}://{self.host}"


@dataclass(frozen=True)
class ForgeChoice:
    driver: str
    repo: str                   # owner/name, or the bare repository path for local
    web_base: str = ""          # https://host[/sub]
    api_url: str = ""           # the API base when known (CI env, tide.yaml)


def _int(value: str | None) -> int | None:
    if value and value.strip().isdigit():
        return int(value)
    return None


def _github_event(env: Env) -> dict:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def ci_context(env: Env) -> CIContext:
    g = env.get
    if g("GITHUB_ACTIONS") == "true" or g("GITEA_ACTIONS") == "true" or g("FORGEJO_ACTIONS") == "true":
        provider = "gitea" if (g("GITEA_ACTIONS") == "true" or g("FORGEJO_ACTIONS") == "true") else "github"
        event = _github_event(env)
        pr = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else None
        ref = g("GITHUB_HEAD_REF") or g("GITHUB_REF") or ""
        branch = re.sub(r"^refs/(heads|tags)/", "", ref)
        server = (g("GITHUB_SERVER_URL") or ("https://github.com" if provider == "github" else "")).rstrip("/")
        api = g("GITHUB_API_URL") or ""
        if not api and provider == "github":
            api = "https://api.github.com" if server == "https://github.com" else f"{server}/api/v3"
        if not api and server:
            api = f"{server}/api/v1"
        return CIContext(
            provider=provider, server_url=server, api_url=api.rstrip("/"), repo=g("GITHUB_REPOSITORY") or "",
            sha=(pr or {}).get("head", {}).get("sha") or g("GITHUB_SHA") or "", branch=branch,
            pr=(pr or {}).get("number") or _pr_from_ref(g("GITHUB_REF")),
            run_id=g("GITHUB_RUN_ID") or "", workflow=g("GITHUB_WORKFLOW") or "",
        )
    if g("GITLAB_CI") == "true" or g("CI_PROJECT_URL"):
        server = (g("CI_SERVER_URL") or "").rstrip("/")
        api = g("CI_API_V4_URL") or (f"{server}/api/v4" if server else "")
        return CIContext(
            provider="gitlab", server_url=server, api_url=api.rstrip("/"), repo=g("CI_PROJECT_PATH") or "",
            sha=g("CI_COMMIT_SHA") or "", branch=g("CI_COMMIT_BRANCH") or g("CI_COMMIT_REF_NAME") or "",
            pr=_int(g("CI_MERGE_REQUEST_IID")), run_id=g("CI_JOB_ID") or "", workflow=g("CI_PIPELINE_ID") or "",
        )
    if g("BITBUCKET_REPO_UUID") or g("BITBUCKET_BUILD_NUMBER"):
        repo = g("BITBUCKET_REPO_FULL_NAME") or "/".join(
            x for x in (g("BITBUCKET_WORKSPACE"), g("BITBUCKET_REPO_SLUG")) if x
        )
        return CIContext(
            provider="bitbucket", server_url="https://bitbucket.org", api_url="https://api.bitbucket.org/2.0",
            repo=repo, sha=g("BITBUCKET_COMMIT") or "", branch=g("BITBUCKET_BRANCH") or "",
            pr=_int(g("BITBUCKET_PR_ID")), run_id=g("BITBUCKET_BUILD_NUMBER") or "",
            workflow=g("BITBUCKET_PIPELINE_UUID") or "",
        )
    return CIContext()


def _pr_from_ref(ref: str | None) -> int | None:
    m = re.match(r"^refs/pull/(\d+)/", ref or "")
    return int(m.group(1)) if m else None


def find_token(env: Env, explicit: str | None = None) -> Token | None:
    from tide.core.redact import remember

    if explicit:
        remember(explicit)  # masked in everything tide prints or writes from now on
        return Token(explicit, "--token")
    for name in TOKEN_VARS:
        value = env.get(name)
        if value:
            remember(value)
            return Token(value, name)
    return None


def parse_remote(url: str) -> RemoteInfo:
    """Normalise a git remote URL: credentials stripped, ``.git`` and trailing ``/`` removed."""
    url = url.strip()
    if not url:
        raise UsageError("empty repository URL")
    if url.startswith("/") or url.startswith("./") or url.startswith("../") or url.startswith("file://"):
        path = url[len("file://"):] if url.startswith("file://") else url
        return RemoteInfo(url=url, scheme="file", path=path)
    m = re.match(r"^(?:[^@/]+@)?([^:/]+):(?!//)(.+)$", url)  # scp-like: git@host:owner/repo.git
    if m and "://" not in url:
        return RemoteInfo(url=f"ssh://{m.group(1)}/{_clean(m.group(2))}", scheme="ssh", host=m.group(1),
                          path=_clean(m.group(2)))
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        raise UsageError(f"cannot understand repository URL '{_strip_userinfo(url)}'")
    host = parts.hostname + (f":{parts.port}" if parts.port and parts.scheme in ("http", "https") else "")
    scheme = "ssh" if parts.scheme in ("ssh", "git+ssh") else parts.scheme
    path = _clean(parts.path)
    return RemoteInfo(url=f"{parts.scheme}://{host}/{path}", scheme=scheme, host=host, path=path)


def _clean(path: str) -> str:
    path = path.strip("/")
    return path[:-4] if path.endswith(".git") else path


def _strip_userinfo(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//", url)


def driver_from_host(host: str) -> str | None:
    h = host.split(":")[0].lower()
    if h == "github.com" or h.endswith(".github.com"):
        return "github"
    if h == "gitlab.com":
        return "gitlab"
    if re.match(r"^(.*\.)?bitbucket\.(org|com)$", h):
        return "bitbucket"
    if h in ("codeberg.org", "gitea.com"):
        return "gitea"
    return None


def choose(
    env: Env,
    *,
    driver: str | None = None,
    repo: str | None = None,
    settings: dict | None = None,
    remote_url: str | None = None,
) -> ForgeChoice:
    """Decide which driver talks to which repository (see the module docstring for the order)."""
    settings = settings or {}
    ci = ci_context(env)
    chosen = driver or settings.get("driver")
    if chosen and chosen not in DRIVERS:
        raise UsageError(f"unknown forge driver '{chosen}'; choose one of {', '.join(DRIVERS)}")
    url = repo or settings.get("repo") or settings.get("url")
    api = settings.get("api_url") or ""
    if url:
        info = parse_remote(url) if ("/" in url and ("://" in url or url.startswith("/") or ":" in url)) else None
        if info is None:  # a slug: owner/name
            if chosen == "local":
                raise UsageError("the local forge needs the bare repository's path, not a slug")
            base = settings.get("server") or ci.server_url
            d = chosen or ci.provider
            if not d:
                raise UsageError(f"cannot tell which forge hosts '{url}': pass --driver")
            api = api or (ci.api_url if d == ci.provider else "")
            return ForgeChoice(d, url.strip("/"), base or _default_server(d), api)
    elif ci.provider and (not chosen or chosen == ci.provider):
        return ForgeChoice(chosen or ci.provider, ci.repo, ci.server_url, api or ci.api_url)
    elif remote_url:
        info = parse_remote(remote_url)
    else:
        raise UsageError("no forge repository: set a git remote 'origin', pass --repo, or set forge.repo in tide.yaml")
    if info.is_local:
        if chosen not in (None, "local"):
            raise UsageError(f"the remote '{info.url}' is a local path: only the 'local' forge can serve it")
        return ForgeChoice("local", info.path)
    d = chosen or driver_from_host(info.host) or (ci.provider if ci.provider else None)
    if not d:
        raise UsageError(
            f"cannot tell which forge hosts '{info.url}': pass --driver (github|gitlab|bitbucket|gitea)"
            " or set forge.driver in tide.yaml"
        )
    web = info.web_base
    path = info.path
    if d == ci.provider and ci.server_url and ci.repo and path.endswith(ci.repo):
        web = ci.server_url  # a GitLab installed under a sub-path: CI knows the prefix
        path = ci.repo
        api = api or ci.api_url
    return ForgeChoice(d, path, settings.get("server") or web, api)


def _default_server(driver: str) -> str:
    return {"github": "https://github.com", "gitlab": "https://gitlab.com", "bitbucket": "https://bitbucket.org"}.get(
        driver, ""
    )


def check_settings(settings: object) -> dict:
    """Validate the ``forge:`` section of tide.yaml."""
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise ConfigError("tide.yaml: 'forge' must be a mapping (driver, repo, server, api_url)")
    known = {"driver", "repo", "url", "server", "api_url", "verify_ssl", "watermark_title"}
    unknown = set(settings) - known
    if unknown:
        raise ConfigError(f"tide.yaml: unknown option forge.{sorted(unknown)[0]} (known: {', '.join(sorted(known))})")
    return dict(settings)


def project_id(path: str) -> str:
    return quote(path, safe="")
