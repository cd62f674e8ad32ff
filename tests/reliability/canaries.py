"""Secrets canaries: recognizable fake credentials, and a scanner that finds them where they must not be.

``canary_env(base)`` gives a value to every credential variable tide or its libraries read (tokens,
cloud keys, service-account JSON written to a file under ``base``). ``scan_tree`` and ``scan_text``
report where a canary shows up. Used by test_secrets.py and by canary_plugin.py, which runs the
whole test suite with canaries set (``make torture``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

PREFIX = "tidecanary"
USER_PREFIX = "tideuserpw"  # secrets a test writes into config files on purpose (not in the environment)
SA_FILE = "canary-service-account.json"
TOKEN_VARS = (
    "GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN", "BITBUCKET_TOKEN", "BITBUCKET_APP_PASSWORD",
    "GITEA_TOKEN", "FORGEJO_TOKEN", "REPO_TOKEN", "CML_TOKEN", "TIDE_TOKEN", "TIDE_FORGE_TOKEN",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_STORAGE_KEY", "AZURE_CLIENT_SECRET", "AZURE_ACCESS_TOKEN",
    "GOOGLE_OAUTH_ACCESS_TOKEN", "CLOUDSDK_AUTH_ACCESS_TOKEN", "DIGITALOCEAN_TOKEN", "TIDE_SSH_PRIVATE_KEY",
    "HF_TOKEN", "WANDB_API_KEY",
)


def value(name: str) -> str:
    return f"{PREFIX}{name.lower().replace('_', '')}x9"


def user_value(name: str) -> str:
    return f"{USER_PREFIX}{name.lower().replace('_', '')}x9"


def canary_env(base: str) -> dict[str, str]:
    env = {name: value(name) for name in TOKEN_VARS}
    env["AWS_ACCESS_KEY_ID"] = "AKIA" + value("AWS_ACCESS_KEY_ID").upper()
    env["AZURE_STORAGE_CONNECTION_STRING"] = (
        f"DefaultEndpointsProtocol=https;AccountName=x;AccountKey={value('AZURE_CONN')};EndpointSuffix=core")
    sa = {"type": "service_account", "project_id": "p", "private_key_id": value("SA_KEY_ID"),
          "private_key": f"-----BEGIN PRIVATE KEY-----\n{value('SA_PRIVATE_KEY')}\n-----END PRIVATE KEY-----\n",
          "client_email": "canary@p.iam.gserviceaccount.com", "token_uri": "http://127.0.0.1:9/token"}
    path = os.path.join(base, SA_FILE)
    os.makedirs(base, exist_ok=True)
    with open(path, "w") as f:
        json.dump(sa, f)
    env["GOOGLE_APPLICATION_CREDENTIALS"] = path
    env["GOOGLE_APPLICATION_CREDENTIALS_DATA"] = json.dumps(sa)
    env["GDRIVE_CREDENTIALS_DATA"] = json.dumps(dict(sa, private_key_id=value("GDRIVE")))
    return env


def scan_text(text: str | bytes, prefixes: tuple[str, ...] = (PREFIX,)) -> bool:
    """Whether ``text`` holds a canary (case-insensitive: every canary starts with a prefix)."""
    low = text.lower()
    if isinstance(low, bytes):
        return any(p.encode() in low for p in prefixes)
    return any(p in low for p in prefixes)


def scan_tree(top: str | Path, skip: tuple[str, ...] = (), max_bytes: int = 32 << 20,
              prefixes: tuple[str, ...] = (PREFIX,)) -> list[str]:
    """Files under ``top`` holding a canary (not following symlinks; ``skip``: paths to ignore; the
    canary service-account files themselves are skipped)."""
    found = []
    skip_abs = {os.path.abspath(s) for s in skip}
    for d, _, files in os.walk(top):
        for f in files:
            p = os.path.join(d, f)
            if os.path.abspath(p) in skip_abs or os.path.islink(p) or f == SA_FILE:
                continue
            try:
                if os.path.getsize(p) > max_bytes:
                    continue
                with open(p, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            if scan_text(data, prefixes) or scan_text(f, prefixes):
                found.append(p)
    return found
