"""Secrets canaries: recognizable fake credentials, and a scanner that finds them where they must not be.

``canary_env(base)`` gives a value to every credential variable tide or its libraries read (tokens,
cloud keys, service-account JSON and kubeconfig written to files under ``base``). ``scan_tree`` and
``scan_text`` report where a canary shows up. Used by test_secrets.py and by canary_plugin.py, which
runs the whole test suite with canaries set (``make torture``).

Every canary starts with ``PREFIX``; the part after it tells where the canary came from:

* ``tidecanary<name>x9``: a test gave tide this credential in its environment on purpose (test_secrets.py);
* ``tidecanaryouter...``: the shell that runs pytest exported it (canary_plugin.py sets every credential
  variable so, like a developer's real tokens); tests/conftest.py removes those before every test, so
  one in a test's subprocess means the suite is not hermetic;
* ``tidecanaryplant...``: canary_plugin.py plants it in every test's environment under names no tide
  code reads (``ACME_API_KEY``...): tide must never print or write it, and the runner must scrub it;
* ``tideuserpw...``: a secret a test gives tide the way a user does (config.local, a flag, the token of
  a fake forge): it may sit in the file the test wrote, never in an output.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

PREFIX = "tidecanary"
OUTER_PREFIX = PREFIX + "outer"
PLANT_PREFIX = PREFIX + "plant"
USER_PREFIX = "tideuserpw"  # secrets a test writes into config files on purpose (not in the environment)
SA_FILE = "canary-service-account.json"
KUBE_FILE = "canary-kubeconfig.yaml"
TOKEN_VARS = (
    "GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN", "BITBUCKET_TOKEN", "BITBUCKET_APP_PASSWORD",
    "GITEA_TOKEN", "FORGEJO_TOKEN", "REPO_TOKEN", "CML_TOKEN", "TIDE_TOKEN", "TIDE_FORGE_TOKEN",
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_STORAGE_KEY", "AZURE_CLIENT_SECRET", "AZURE_ACCESS_TOKEN",
    "GOOGLE_OAUTH_ACCESS_TOKEN", "CLOUDSDK_AUTH_ACCESS_TOKEN", "DIGITALOCEAN_TOKEN", "TIDE_SSH_PRIVATE_KEY",
    "HF_TOKEN", "WANDB_API_KEY", "AWS_SECURITY_TOKEN",
)
# credential-shaped names of a service tide knows nothing about: the runner's word rule must scrub them
PLANTED = ("ACME_API_KEY", "ACME_DB_PASSWORD", "ACME_CLIENT_SECRET", "ACME_AUTH_TOKEN", "ACME_PRIVATE_KEY",
           "ACME_CREDENTIALS")


def value(name: str, prefix: str = PREFIX) -> str:
    return f"{prefix}{name.lower().replace('_', '')}x9"


def user_value(name: str) -> str:
    return f"{USER_PREFIX}{name.lower().replace('_', '')}x9"


def canary_env(base: str, prefix: str = PREFIX) -> dict[str, str]:
    def v(name: str) -> str:
        return value(name, prefix)

    env = {name: v(name) for name in TOKEN_VARS}
    env["AWS_ACCESS_KEY_ID"] = "AKIA" + v("AWS_ACCESS_KEY_ID").upper()
    env["AZURE_STORAGE_CONNECTION_STRING"] = (
        f"DefaultEndpointsProtocol=https;AccountName=x;AccountKey={v('AZURE_CONN')};EndpointSuffix=core")
    env["TIDE_DB_URL"] = f"postgresql://tide:{v('TIDE_DB_URL')}@127.0.0.1:9/canary"
    sa = {"type": "service_account", "project_id": "p", "private_key_id": v("SA_KEY_ID"),
          "private_key": f"-----BEGIN PRIVATE KEY-----\n{v('SA_PRIVATE_KEY')}\n-----END PRIVATE KEY-----\n",
          "client_email": "canary@p.iam.gserviceaccount.com", "token_uri": "http://127.0.0.1:9/token"}
    os.makedirs(base, exist_ok=True)
    path = os.path.join(base, SA_FILE)
    with open(path, "w") as f:
        json.dump(sa, f)
    kube = os.path.join(base, KUBE_FILE)
    with open(kube, "w") as f:
        f.write("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
                "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:9'}}]\n"
                f"users: [{{name: u, user: {{token: {v('KUBE_TOKEN')}}}}}]\n")
    env["KUBECONFIG"] = kube
    env["GOOGLE_APPLICATION_CREDENTIALS"] = path
    env["GOOGLE_APPLICATION_CREDENTIALS_DATA"] = json.dumps(sa)
    env["GDRIVE_CREDENTIALS_DATA"] = json.dumps(dict(sa, private_key_id=v("GDRIVE")))
    return env


def planted_env() -> dict[str, str]:
    """Credentials of an unknown service, for every test's environment (canary_plugin.py)."""
    return {name: value(name, PLANT_PREFIX) for name in PLANTED}


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
            if os.path.abspath(p) in skip_abs or os.path.islink(p) or f in (SA_FILE, KUBE_FILE):
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
