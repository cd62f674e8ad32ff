"""The driver registry: forge name -> class, imported only when used."""

from __future__ import annotations

import importlib

from tide.core.errors import ForgeError, TideError, UsageError
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
    return Guarded(klass(repo=choice.repo, web_base=choice.web_base, api_url=choice.api_url, token=token.value,
                         verify=verify), choice.driver)


_SHAPE_ERRORS = (KeyError, TypeError, IndexError, AttributeError, ValueError, RecursionError)


class Guarded:
    """A driver whose methods turn an API answer of unexpected shape (a missing key, null where an
    object was due, a list for a mapping) into one ForgeError line instead of a traceback (found by
    fuzzing forge responses). Everything else is the driver's own."""

    def __init__(self, inner: Forge, name: str) -> None:
        self._inner = inner
        self._name = name

    def __getattr__(self, attr: str):  # noqa: ANN204
        value = getattr(self._inner, attr)
        if attr.startswith("_") or not callable(value):
            return value
        name = self._name

        def call(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            try:
                return value(*args, **kwargs)
            except TideError:
                raise
            except _SHAPE_ERRORS as exc:
                raise ForgeError(f"{name}: {attr.replace('_', ' ')}: unexpected answer from the API "
                                 f"({type(exc).__name__}: {str(exc)[:200]})")

        return call
