"""``tide ci init github|gitlab``: write the scheduled retraining workflow (the seed's two jobs, with tide).

Without ``--cloud`` one job on the CI service's own machine runs ``tide retrain``. With ``--cloud``
the first job provisions a single-use runner (``tide runner launch --single``) and the second runs
``tide retrain`` on it, as the seed's CML workflow did. Both trigger daily at 08:00 (``--schedule``)
and on manual dispatch, never on push (merging the retrain PR must not retrain again).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from tide.core import yamlio
from tide.core.errors import PathError, UsageError
from tide.core.fsutil import atomic_write_text

PROVIDERS = {"github": ".github/workflows/tide-retrain.yml", "gitlab": ".gitlab-ci.yml"}
CLOUD_SECRETS = {
    "aws": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    "gcp": ("GOOGLE_APPLICATION_CREDENTIALS_DATA",),
    "azure": ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID"),
    "kubernetes": ("KUBERNETES_CONFIGURATION",),
    "ssh": ("TIDE_SSH_PRIVATE_KEY",),
}


@dataclass(frozen=True)
class WorkflowSpec:
    provider: str
    schedule: str = "0 8 * * *"
    cloud: str | None = None
    cloud_type: str = "m"
    cloud_region: str = "us-west"
    labels: str = "tide-runner"
    install: str = "pip install -r requirements.txt tide"
    timeout_minutes: int = 120


def check_cron(expr: str) -> str:
    fields = expr.split()
    if len(fields) != 5:
        raise UsageError(f"'{expr}' is not a cron schedule: use 5 fields, e.g. '0 8 * * *' (daily at 08:00)")
    try:
        from croniter import croniter
    except ImportError:
        return expr
    if not croniter.is_valid(expr):
        raise UsageError(f"'{expr}' is not a valid cron schedule")
    return expr


def _launch_cmd(s: WorkflowSpec) -> str:
    return (f"tide runner launch --cloud={s.cloud} --cloud-region={s.cloud_region} "
            f"--cloud-type={s.cloud_type} --labels={s.labels} --single")


def github(s: WorkflowSpec) -> dict:
    token = {"REPO_TOKEN": "${{ secrets.PERSONAL_ACCESS_TOKEN }}"} if s.cloud else {
        "REPO_TOKEN": "${{ secrets.GITHUB_TOKEN }}"}

    def setup() -> list[dict]:  # fresh dicts per job: no YAML anchors in the file
        return [
            {"uses": "actions/checkout@v4", "with": {"fetch-depth": 0}},
            {"uses": "actions/setup-python@v5", "with": {"python-version": "3.11"}},
            {"name": "Install", "run": s.install},
        ]

    train = {
        "timeout-minutes": s.timeout_minutes,
        "steps": setup() + [{"name": "Retrain, report, gate, deploy", "env": dict(token), "run": "tide retrain"}],
    }
    jobs: dict = {}
    if s.cloud:
        env = dict(token)
        env.update({k: "${{ secrets." + k + " }}" for k in CLOUD_SECRETS.get(s.cloud, ())})
        jobs["deploy-runner"] = {"runs-on": "ubuntu-latest", "steps": setup() + [
            {"name": "Launch a single-use runner", "env": env, "run": _launch_cmd(s)}]}
        train = {"needs": "deploy-runner", "runs-on": ["self-hosted", s.labels], **train}
    else:
        train = {"runs-on": "ubuntu-latest", **train}
    jobs["train-model"] = train
    return {
        "name": "tide retrain",
        "on": {"workflow_dispatch": None, "schedule": [{"cron": s.schedule}]},
        "permissions": {"contents": "write", "pull-requests": "write"},
        "jobs": jobs,
    }


def gitlab(s: WorkflowSpec) -> dict:
    rules = [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}, {"if": '$CI_PIPELINE_SOURCE == "web"'}]
    doc: dict = {"stages": ["deploy", "train"] if s.cloud else ["train"]}
    if s.cloud:
        doc["deploy-runner"] = {"stage": "deploy", "image": "python:3.11", "rules": list(rules),
                                "before_script": [s.install], "script": [_launch_cmd(s)]}
    train = {"stage": "train", "image": "python:3.11", "rules": [dict(r) for r in rules],
             "timeout": f"{s.timeout_minutes} minutes", "variables": {"GIT_DEPTH": "0"},
             "before_script": [s.install], "script": ["tide retrain"]}
    if s.cloud:
        train["needs"] = ["deploy-runner"]
        train["tags"] = [s.labels]
    doc["train-model"] = train
    return doc


def render(s: WorkflowSpec) -> str:
    head = (f"# Written by 'tide ci init {s.provider}'. Scheduled retraining: {s.schedule} (UTC) and on demand.\n")
    if s.provider == "gitlab":
        head += ("# Create the schedule in CI/CD > Schedules with the same cron; set REPO_TOKEN (api scope)"
                 + (" and the cloud credentials" if s.cloud else "") + " as masked variables.\n")
    body = github(s) if s.provider == "github" else gitlab(s)
    text = yamlio.dumps(body)
    if s.provider == "github":
        text = text.replace("workflow_dispatch: null", "workflow_dispatch:")
    return head + text


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # noqa: ANN201
        raise UsageError(f"tide ci init: {message} (usage: tide ci init github|gitlab [--schedule CRON] "
                         "[--cloud KIND --cloud-type T])")


def parse(argv: list[str]) -> tuple[WorkflowSpec, argparse.Namespace]:
    p = _Parser(prog="tide ci init", description="Write a scheduled retraining workflow.")
    p.add_argument("provider", choices=sorted(PROVIDERS))
    p.add_argument("--schedule", default="0 8 * * *", metavar="CRON", help="cron schedule (default daily 08:00)")
    p.add_argument("--cloud", choices=sorted(CLOUD_SECRETS), help="train on a single-use runner of this kind")
    p.add_argument("--cloud-type", default="m")
    p.add_argument("--cloud-region", default="us-west")
    p.add_argument("--labels", default="tide-runner")
    p.add_argument("--install", default="pip install -r requirements.txt tide", help="install command")
    p.add_argument("-o", "--output", help="file to write (default: the provider's usual path)")
    p.add_argument("-f", "--force", action="store_true", help="overwrite an existing file")
    p.add_argument("--stdout", action="store_true", help="print instead of writing")
    ns = p.parse_args(argv)
    spec = WorkflowSpec(ns.provider, check_cron(ns.schedule), ns.cloud, ns.cloud_type, ns.cloud_region, ns.labels,
                        ns.install)
    return spec, ns


def ci_init(args) -> int:  # noqa: ANN001
    """Entry point used by ``tide ci init`` (cmd_ci.py): ``args.init_args`` holds PROVIDER and options."""
    from tide.core.git import find_root

    argv = list(getattr(args, "init_args", None) or [])
    if not argv and getattr(args, "provider", None):
        argv = [args.provider]
    spec, ns = parse(argv)
    text = render(spec)
    if ns.stdout:
        print(text, end="")
        return 0
    root = find_root(os.getcwd()) or os.getcwd()
    path = os.path.join(root, ns.output or PROVIDERS[spec.provider])
    if os.path.exists(path) and not ns.force:
        raise PathError(f"'{os.path.relpath(path)}' exists; use --force to overwrite it")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    atomic_write_text(path, text)
    if not getattr(args, "quiet", False):
        print(f"Wrote {os.path.relpath(path)}: tide retrain on '{spec.schedule}' and on demand"
              + (f", on a single-use {spec.cloud} runner" if spec.cloud else ""))
    return 0
