"""The driver registry: forge name -> class, imported only when used."""

from __future__ import annotations

import importlib

from tide.core.errors import UsageError
from tide.forge.base import Forge
from tide.forge.detect import ForgeChoice, Token

REGISTRY = {
    "github": "tide.forge.github:GitHubForge",
    "gitlab": "tide.forge.gitlab:GitLabForge",
    "bitbucket": "tide.forge.bitbucket:BitbucketForge",
    "gitea": "tide.forge.gitea:GiteaForge",
    "local": "tide.forge.local:LocalForge",
}


def open_driver(choice: ForgeChoice, token: Token | None, *, verify: bool = True) -> Forge:
    """Build the driver for ``choice``. Hosted forges need a token; the local forge does not."""
    spec = REGISTRY.get(choice.driver)
    if spec is None:
        raise UsageError(f"unknown forge driver '{choice.driver}'")
    module, cls = spec.split(":")
    klass = getattr(importlib.import_module(module), cls)
    if choice.driver == "local":
        return klass(choice.repo)
    if token is None:
        raise UsageError(
            f"{choice.driver}: no token: set REPO_TOKEN (or GITHUB_TOKEN, GITLAB_TOKEN, BITBUCKET_TOKEN, TIDE_TOKEN)"
            " or pass --token"
        )
    try:
        import httpx  # noqa: F401
    except ImportError:
        raise UsageError(f"{choice.driver}: the forge drivers need httpx: pip install 'tide-ml[forge]'")
    # no wrapper turns a driver's KeyError/TypeError into a ForgeError: drivers read API answers
    # through tide.forge.answer (a malformed answer is a ForgeError naming the field), and a bug shows
    return klass(repo=choice.repo, web_base=choice.web_base, api_url=choice.api_url, token=token.value,
                 verify=verify)

