"""``tide ci init github|gitlab``: write the scheduled retraining workflow (the seed's two jobs, with tide).

Without a runner one job on the CI service's own machine runs ``tide retrain``. With ``--cloud`` (or
``ci.runner`` in ``tide.yaml``) the first job provisions a single-use runner (``tide runner launch
--single``) and the second runs ``tide retrain`` on it, as the seed's CML workflow did. Both trigger on
``schedule.cron`` (default daily 08:00 UTC) and on manual dispatch, never on push (merging the retrain
PR must not retrain again).

The workflow installs exactly this tide version with the extras the project needs and passes, by name,
the secrets its remotes, forge and runners need (``ci_needs``); nothing is interpolated into a script:
secrets reach ``run:`` through ``env:``.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field

from tide.core.errors import PathError, UsageError
from tide.core.fsutil import atomic_write_text
from tide.ops.ci_needs import Needs, Secret, project_needs, runner_needs

PROVIDERS = {"github": ".github/workflows/tide-retrain.yml", "gitlab": ".gitlab-ci.yml"}
CLOUDS = ("aws", "azure", "gcp", "kubernetes", "ssh")
DIST = "tide-ml"
DEFAULT_LABELS = "tide-runner"
FORGE_READER = "tide.forge.detect"


@dataclass(frozen=True)
class Launch:
    """The single-use runner the first job provisions."""

    kind: str
    type: str = "m"
    region: str = "us-west"
    spot: bool = False
    image: str = ""
    host: str = ""              # ssh: USER@HOST[:PORT]


@dataclass(frozen=True)
class WorkflowSpec:
    provider: str
    schedule: str = "0 8 * * *"
    install: str = f"pip install '{DIST}[forge]'"
    launch: Launch | None = None
    launch_install: str = f"pip install '{DIST}[forge]'"
    labels: str = DEFAULT_LABELS
    python: str = "3.11"
    train: Needs = field(default_factory=Needs)           # secrets and setup of the job that runs tide retrain
    launcher: Needs = field(default_factory=Needs)        # ... of the job that launches the runner
    timeout_minutes: int = 120

    @property
    def cloud(self) -> str | None:
        return self.launch.kind if self.launch else None

    def to_create(self) -> list[Secret]:
        """Every secret and variable the user must create, each once, in the order the jobs use them."""
        seen: dict[str, Secret] = {}
        for s in self.launcher.secrets + self.train.secrets:
            if s.stored_as != "GITHUB_TOKEN":  # GitHub creates that one for each run
                seen.setdefault(s.stored_as, s)
        return list(seen.values())


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


# --- what each job installs -----------------------------------------------------------------------
def requirement(extras: frozenset[str], source: str | None) -> str:
    """tide as one pip requirement: this version, or ``source`` (a version, a URL, a wheel or sdist path)."""
    from tide import __version__

    ex = f"[{','.join(sorted(extras))}]" if extras else ""
    if not source:
        return f"{DIST}{ex}=={__version__}"
    if re.match(r"^[0-9]", source):
        return f"{DIST}{ex}=={source}"
    if re.match(r"^(==|>=|<=|~=|!=|<|>)", source):
        return f"{DIST}{ex}{source}"
    if "://" in source or source.startswith("git+"):
        return f"{DIST}{ex} @ {source}"
    path = source if source.startswith(("/", ".", "~")) else "./" + source
    return path + ex


def install_command(extras: frozenset[str], source: str | None, requirements: bool) -> str:
    """``source`` with a space is a whole install command, used as written."""
    if source and len(source.split()) > 1:
        return source
    parts = ["pip", "install"] + (["-r", "requirements.txt"] if requirements else [])
    return " ".join(parts + [shlex.quote(requirement(extras, source))])


# --- the two jobs ---------------------------------------------------------------------------------
def launch_command(s: WorkflowSpec) -> str:
    assert s.launch is not None
    t = s.launch
    args = [f"--cloud={t.kind}"]
    if t.kind == "ssh":
        args += [f"--host={shlex.quote(t.host)}", '--cloud-ssh-private="$ssh_key"']
    elif t.kind != "kubernetes":
        args += [f"--cloud-region={shlex.quote(t.region)}", f"--cloud-type={shlex.quote(t.type)}"]
    if t.spot:
        args.append("--cloud-spot")
    if t.image:
        args.append(f"--cloud-image={shlex.quote(t.image)}")
    return " ".join(["tide runner launch", *args, f"--labels={shlex.quote(s.labels)}", "--single"])


def _script(setup: tuple[str, ...], command: str) -> str:
    return "\n".join([*setup, command]) + "\n" if setup else command


def _github_env(needs: Needs) -> dict[str, str]:
    """Plain settings are repository secrets too: the ``vars`` context is newer than some linters."""
    return {s.name: "${{ secrets." + s.stored_as + " }}" for s in needs.secrets}


def github(s: WorkflowSpec) -> dict:
    def setup(install: str, depth: int | None) -> list[dict]:  # fresh dicts per job: no YAML anchors in the file
        checkout: dict = {"uses": "actions/checkout@v4"}
        if depth is not None:
            checkout["with"] = {"fetch-depth": depth}
        return [checkout, {"uses": "actions/setup-python@v5", "with": {"python-version": s.python}},
                {"name": "Install tide", "run": install}]

    jobs: dict = {}
    if s.launch:
        jobs["deploy-runner"] = {
            "runs-on": "ubuntu-latest", "permissions": {"contents": "read"},
            "steps": setup(s.launch_install, None) + [{
                "name": "Launch a single-use runner", "env": _github_env(s.launcher),
                "run": _script(s.launcher.setup, launch_command(s))}]}
    train: dict = {"needs": "deploy-runner", "runs-on": ["self-hosted", s.labels]} if s.launch else {
        "runs-on": "ubuntu-latest"}
    train.update({
        "timeout-minutes": s.timeout_minutes,
        "permissions": {"contents": "write", "pull-requests": "write"},
        "steps": setup(s.install, 0) + [{
            "name": "Retrain, report, gate, deploy", "env": _github_env(s.train),
            "run": _script(s.train.setup, "tide retrain")}],
    })
    jobs["train-model"] = train
    return {
        "name": "tide retrain",
        "on": {"workflow_dispatch": None, "schedule": [{"cron": s.schedule}]},
        "permissions": {"contents": "read"},
        "concurrency": {"group": "tide-retrain", "cancel-in-progress": False},
        "jobs": jobs,
    }


def gitlab(s: WorkflowSpec) -> dict:
    """CI/CD variables reach every job's environment by themselves: the file names none of them."""
    rules = [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}, {"if": '$CI_PIPELINE_SOURCE == "web"'}]
    doc: dict = {"stages": ["deploy", "train"] if s.launch else ["train"]}
    image = f"python:{s.python}"
    if s.launch:
        doc["deploy-runner"] = {"stage": "deploy", "image": image, "rules": [dict(r) for r in rules],
                                "before_script": [s.launch_install],
                                "script": [*s.launcher.setup, launch_command(s)]}
    train = {"stage": "train", "image": image, "rules": [dict(r) for r in rules],
             "timeout": f"{s.timeout_minutes} minutes", "variables": {"GIT_DEPTH": "0"},
             "before_script": [s.install], "script": [*s.train.setup, "tide retrain"]}
    if s.launch:
        train["needs"] = ["deploy-runner"]
        train["tags"] = [s.labels]
    doc["train-model"] = train
    return doc


# --- the header and the list printed after writing --------------------------------------------------
def secret_lines(s: WorkflowSpec) -> list[str]:
    out = []
    for sec in s.to_create():
        if s.provider == "github":
                cmd = f"gh secret set {sec.stored_as}"
        else:
            cmd = f"{sec.stored_as} ({'secret' if sec.secret else 'plain'} variable)"
        out.append(f"{cmd:<52} # {sec.purpose}")
    return out


def header(s: WorkflowSpec) -> list[str]:
    from tide import __version__

    lines = [f"Written by 'tide ci init {s.provider}' (tide {__version__}). Retrains on '{s.schedule}' (UTC) "
             "and on demand, never on push."]
    if s.provider == "github":
        lines.append("Secrets to create (Settings > Secrets and variables > Actions), each passed only to the step "
                     "that needs it:")
    else:
        lines += [f"Create the schedule: Build > Pipeline schedules, cron '{s.schedule}' (UTC).",
                  "CI/CD variables to create (Settings > CI/CD > Variables). Mask the secret ones where GitLab",
                  "can (single-line values; JSON keys and private keys cannot be masked: mark them Protected and",
                  "run the schedule on a protected branch):"]
    lines += ["  " + ln for ln in secret_lines(s)]
    if s.provider == "github":
        lines += ["The report job uses the workflow's GITHUB_TOKEN: opening pull requests with it needs the",
                  "repository setting Settings > Actions > General > 'Allow GitHub Actions to create and approve",
                  "pull requests'."]
        if s.launch:
            lines += ["The runner is registered with PERSONAL_ACCESS_TOKEN: a classic PAT with the 'repo' scope,",
                      "or a fine-grained token on this repository with 'Administration: Read and write'",
                      "(self-hosted runners)."]
    elif s.launch:
        lines.append(f"The '{s.labels}' runner registers with REPO_TOKEN (Maintainer role needed).")
    return ["# " + ln if ln else "#" for ln in lines]


def dumps(doc: dict) -> str:
    """Block style, keys in order, no line folding, multi-line scripts as ``|`` literals."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return yaml.dump(doc, Dumper=Dumper, sort_keys=False, default_flow_style=False, width=2**16,
                     allow_unicode=True)


def render(s: WorkflowSpec) -> str:
    body = github(s) if s.provider == "github" else gitlab(s)
    text = dumps(body)
    if s.provider == "github":
        text = text.replace("workflow_dispatch: null", "workflow_dispatch:")
    return "\n".join(header(s)) + "\n" + text


# --- the request (from the command line: cli/cmd_ci.py) and tide.yaml ------------------------------
@dataclass(frozen=True)
class CiInitRequest:
    provider: str                   # github | gitlab
    schedule: str | None = None     # default: schedule.cron in tide.yaml, else daily 08:00 UTC
    cloud: str | None = None        # a single-use runner of this kind (default: ci.runner)
    cloud_type: str | None = None
    cloud_region: str | None = None
    host: str = ""                  # --cloud ssh: USER@HOST[:PORT]
    labels: str | None = None
    install: str | None = None      # where tide comes from (default: ci.install, else this version)
    output: str | None = None       # the file to write (default: the provider's usual path)
    force: bool = False             # overwrite, and write even when the project is not ready (with a warning)
    stdout: bool = False            # return the text only, write nothing


@dataclass(frozen=True)
class CiInitResult:
    spec: WorkflowSpec
    text: str
    path: str | None = None                     # the file written (None with stdout)
    secrets: tuple[str, ...] = ()               # the lines naming each secret/variable to create
    notes: tuple[str, ...] = ()
    not_ready: tuple = ()                       # findings of the readiness check, written anyway (force)


def _launch(ns: CiInitRequest, runner: str | None, profiles: dict) -> Launch | None:
    from tide.ops.run import parse_on

    if ns.cloud:
        if ns.cloud == "ssh" and not ns.host:
            raise UsageError("tide ci init --cloud ssh needs --host USER@HOST[:PORT]")
        t = Launch(ns.cloud, host=ns.host)
    elif runner:
        target = parse_on(runner, profiles)
        if target.kind == "local":
            raise UsageError(f"tide.yaml: ci.runner '{runner}' is this machine, not a runner to launch")
        host = target.host[len("ssh://"):] if target.host.startswith("ssh://") else target.host
        t = Launch(target.kind, target.type, target.region, target.spot, target.image, host.split("/")[0])
    else:
        return None
    return Launch(t.kind, ns.cloud_type or t.type, ns.cloud_region or t.region, t.spot, t.image, t.host)


def build(root: str, ns: CiInitRequest) -> WorkflowSpec:
    from tide.core import settings as S
    from tide.ops.run import parse_on

    st = S.load(root)
    ci = S.ci_settings(st)
    profiles = st.section("runners")
    launch = _launch(ns, ci.runner, profiles)
    train = forge_needs(ns.provider, launcher=False) + project_needs(root)
    retrain_runner = S.retrain_settings(st).runner
    if retrain_runner:  # tide retrain itself provisions a machine (tide run --on)
        train = train + runner_needs(parse_on(retrain_runner, profiles).kind, launcher=False)
    launcher = forge_needs(ns.provider, launcher=True) + runner_needs(launch.kind, launcher=True) if launch else Needs()
    source = ns.install or ci.install
    requirements = os.path.exists(os.path.join(root, "requirements.txt"))
    return WorkflowSpec(
        provider=ns.provider, schedule=check_cron(ns.schedule or S.schedule_settings(st).cron),
        install=install_command(train.extras, source, requirements), launch=launch,
        launch_install=install_command(launcher.extras, source, False),
        labels=ns.labels or ci.labels or DEFAULT_LABELS, python=ci.python,
        train=train, launcher=launcher,
    )


def forge_needs(provider: str, *, launcher: bool) -> Needs:
    """The forge token, as REPO_TOKEN (tide.forge.detect reads it, as CML does)."""
    if provider == "gitlab":
        tok = Secret("REPO_TOKEN", "a project access token, api scope (Maintainer role: opens merge "
                     "requests, posts the report, registers runners)", FORGE_READER)
    elif launcher:
        tok = Secret("REPO_TOKEN", "registers the runner (see above for the scopes)", FORGE_READER,
                     store="PERSONAL_ACCESS_TOKEN")
    else:
        tok = Secret("REPO_TOKEN", "the workflow's own token", FORGE_READER, store="GITHUB_TOKEN")
    return Needs(frozenset({"forge"}), (tok,))


def ci_readiness(root: str, env=None):
    """What ``tide retrain --check`` finds missing that the CI job would miss too: everything but the
    credentials of this machine (the job gets its own, as the secrets listed after writing)."""
    from tide.ops.readiness import Readiness, check

    r = check(root, env)
    return Readiness(tuple(f for f in r.findings if f.kind != "env"), r.facts)


def ci_init(root: str, req: CiInitRequest, env=None) -> CiInitResult:
    """Build the workflow and (unless ``req.stdout``) write it. Refuses with the readiness check's findings
    (:class:`tide.ops.readiness.NotReady`) when ``tide retrain`` could not run in the job, unless
    ``req.force``: then it writes anyway and the result names them."""
    from tide.ops.readiness import NotReady

    spec = build(root, req)
    text = render(spec)
    if req.stdout:
        return CiInitResult(spec, text)
    path = os.path.join(root, req.output or PROVIDERS[spec.provider])
    if os.path.exists(path) and not req.force:
        raise PathError(f"'{os.path.relpath(path)}' exists; use --force to overwrite it")
    ready = ci_readiness(root, env)
    if not ready.ready and not req.force:
        raise NotReady(ready, "tide ci init (the workflow runs tide retrain; --force writes it anyway)")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    atomic_write_text(path, text)
    lint_note = _actionlint_config(root, spec) if spec.provider == "github" and spec.launch else None
    notes = spec.train.notes + spec.launcher.notes + ((lint_note,) if lint_note else ())
    return CiInitResult(spec, text, path, tuple(secret_lines(spec)), notes, ready.findings)


ACTIONLINT_CONFIG = ".github/actionlint.yaml"


def _actionlint_config(root: str, spec: WorkflowSpec) -> str | None:
    """actionlint rejects a runner label it does not know: name the single-use runner's label in its
    config (written when absent; an existing one is the user's, so only say what to add)."""

    path = os.path.join(root, ACTIONLINT_CONFIG)
    if not os.path.exists(path):
        atomic_write_text(path, "# runner labels for actionlint (written by 'tide ci init github')\n"
                          + dumps({"self-hosted-runner": {"labels": [spec.labels]}}))
        return f"wrote {ACTIONLINT_CONFIG} (the runner label '{spec.labels}', for actionlint)"
    from tide.core.errors import TideError
    from tide.core.yamlio import load_file

    try:
        labels = ((load_file(path) or {}).get("self-hosted-runner") or {}).get("labels") or []
    except (OSError, TideError, AttributeError):
        labels = []
    if spec.labels not in labels:
        return f"add '{spec.labels}' to self-hosted-runner.labels in {ACTIONLINT_CONFIG} for actionlint"
    return None
