"""What a test must not inherit from the shell that runs it: one list, used by tests/conftest.py (every
test), crashlib.isolated_env (crash trials, ``make torture``) and the canary plugin.

Credential variables are the ones tide's runner scrubs from a job's environment
(``tide.runners.watchdog.scrub_env``: AWS_*, GOOGLE_*, REPO_TOKEN, GDRIVE_CREDENTIALS_DATA, any *_TOKEN,
*_SECRET, *_PASSWORD, *_API_KEY...), so the two lists cannot drift apart. On top of those, the
variables that change tide's behaviour without being secrets: CI detection (``CI``, ``GITHUB_*``,
``GITLAB_*``...), tide's and dvc's own knobs (``TIDE_*``, ``DVC_*``). ``TIDE_TEST_*`` (paths of the
test tools, test-only hooks) pass.
"""

from __future__ import annotations

from collections.abc import Mapping

OUTSIDE_PREFIXES = (
    "GITHUB_", "GITLAB_", "CI_", "BITBUCKET_", "GITEA_", "FORGEJO_", "AWS_", "AZURE_", "GOOGLE_", "GDRIVE_",
    "CLOUDSDK_", "KUBE", "TIDE_", "DVC_", "CML_",
)
OUTSIDE_NAMES = frozenset({"CI", "REPO_TOKEN", "repo_token", "GH_TOKEN", "HF_TOKEN", "WANDB_API_KEY",
                           "DIGITALOCEAN_TOKEN"})
PASS_PREFIX = "TIDE_TEST_"


def is_credential(name: str) -> bool:
    """Whether tide's runner would scrub ``name`` from a job's environment (the runner's own rule)."""
    from tide.runners.watchdog import scrub_env

    return not scrub_env({name: ""})


def outside_names(env: Mapping[str, str]) -> list[str]:
    """Variables of ``env`` a test must not inherit: credentials of any service, CI markers, tool knobs."""
    return [k for k in env if not k.startswith(PASS_PREFIX)
            and (is_credential(k) or k in OUTSIDE_NAMES or k.startswith(OUTSIDE_PREFIXES))]


def hermetic(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without what :func:`outside_names` lists."""
    drop = set(outside_names(env))
    return {k: v for k, v in env.items() if k not in drop}
