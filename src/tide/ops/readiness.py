"""``tide retrain --check`` / ``tide doctor``: can ``tide retrain`` run here, and what is missing?

Every missing piece at once, each with the one line that fixes it, before anything is changed:
git and the first commit, ``.dvc``, ``tide.yaml`` (each section validated as retrain validates it),
``registry.model``, a pipeline stage, the gate's metrics file (read by the one metrics reader,
``pipeline.metrics.metrics_mapping``) and primary metric, the remote storage and its extra, the forge
and the base branch on it, and the credentials the remote, the forge and ``retrain.runner`` need (the
variable names come from ``ops/ci_needs.py``: one table for the CI workflow and for this check).

A finding ``blocks`` when ``tide retrain`` would certainly fail on it; ``tide retrain`` refuses up front
with all blocking findings listed. ``--check`` lists every finding (a missing remote or credentials
too: what a scheduled run needs) and is ready only with none.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from tide.core import settings as S
from tide.core.config import Env
from tide.core.errors import ConfigError, TideError


@dataclass(frozen=True)
class Finding:
    key: str                        # what is missing: registry.model, stage, gate.metrics, remote, forge ...
    problem: str                    # one line: what is wrong and why retrain needs it
    fix: str                        # one line that fixes it: a command, or tide.yaml text to add
    kind: str = "command"           # command | tide.yaml | env
    blocks: bool = True             # tide retrain would fail on it
    set: dict[str, Any] | None = None  # kind tide.yaml: the mapping to merge into tide.yaml


@dataclass(frozen=True)
class Readiness:
    findings: tuple[Finding, ...]
    facts: tuple[tuple[str, str], ...] = ()   # what was found in order: (what, value)

    @property
    def ready(self) -> bool:
        return not self.findings

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.blocks)

    def tide_yaml(self) -> dict[str, Any]:
        """Every tide.yaml addition of the findings, merged into one mapping (sections combined)."""
        merged: dict[str, Any] = {}
        for f in self.findings:
            if f.set:
                _merge(merged, f.set)
        return merged

    def to_dict(self) -> dict[str, Any]:
        return {"ready": self.ready, "findings": [asdict(f) for f in self.findings],
                "tide_yaml": self.tide_yaml(), "facts": dict(self.facts)}


def _merge(into: dict[str, Any], add: dict[str, Any]) -> None:
    for k, v in add.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = v


def yaml_line(mapping: dict[str, Any]) -> str:
    """``{"gate": {"metrics": "m.txt"}}`` -> ``gate: {metrics: m.txt}`` (one line of YAML to paste)."""
    import yaml

    (key, value), = mapping.items()
    return f"{key}: " + yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False).strip()


def _yaml_fix(key: str, problem: str, mapping: dict[str, Any], blocks: bool = True) -> Finding:
    return Finding(key, problem, f"add to tide.yaml: {yaml_line(mapping)}", "tide.yaml", blocks, mapping)


MODEL_EXT = (".joblib", ".pkl", ".pickle", ".pt", ".pth", ".h5", ".keras", ".onnx", ".cbm", ".ubj", ".model", ".bin")
METRIC_EXT = (".txt", ".json", ".yaml", ".yml", ".toml")
PLOT_EXT = (".png", ".jpg", ".jpeg", ".svg")
_LITERAL = re.compile(r"""["']([A-Za-z0-9_][A-Za-z0-9_./-]*\.[A-Za-z0-9]+)["']""")


@dataclass
class _Guess:
    """What a project's scripts name (string literals of relative paths): suggestions for fix lines."""

    model: str | None = None
    metrics: str | None = None
    metric: str | None = None       # a metric's name the script writes ("Accuracy: ", {"accuracy": ...})
    plots: list[str] = field(default_factory=list)
    data_dirs: list[str] = field(default_factory=list)


_METRIC_NAME = re.compile(r"""["']([A-Za-z][A-Za-z0-9_]*)["']?\s*[:=]?\s*["']?""")
KNOWN_METRICS = ("accuracy", "acc", "f1", "roc_auc", "auc", "precision", "recall", "r2", "rmse", "mae", "mse",
                 "loss", "error")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(200_000)
    except (OSError, UnicodeDecodeError):
        return ""


def _guess(root: str, script: str) -> _Guess:
    g = _Guess()
    text = _read(os.path.join(root, script))
    names = [m for m in _METRIC_NAME.findall(text) if m.lower() in KNOWN_METRICS]
    g.metric = min(names, key=lambda m: KNOWN_METRICS.index(m.lower())) if names else None
    literals = [m for m in _LITERAL.findall(text) if not m.startswith(("/", "..")) and not m.endswith(".py")]
    for lit in literals:
        low, top = lit.lower(), lit.split("/")[0]
        if low.endswith(MODEL_EXT) and g.model is None:
            g.model = lit
        elif low.endswith(METRIC_EXT) and "metric" in os.path.basename(low) and g.metrics is None:
            g.metrics = lit
        elif low.endswith(PLOT_EXT) and lit not in g.plots:
            g.plots.append(lit)
        elif "/" in lit and top not in g.data_dirs:
            g.data_dirs.append(top)
    out_dirs = {p.split("/")[0] for p in (g.model, g.metrics, *g.plots) if p and "/" in p}
    g.data_dirs = [d for d in g.data_dirs if d not in out_dirs]
    return g


def _git(root: str):
    from tide.core.git import Git, find_root

    top = find_root(root)
    return (Git(top), top) if top else (None, None)


def check(root: str, env: Env | None = None) -> Readiness:
    """The readiness of the project at (or above) ``root``; reads only, changes nothing."""
    env = env or Env()
    out: list[Finding] = []
    facts: list[tuple[str, str]] = []
    git, top = _git(root)
    if git is None:
        out.append(Finding("git", "not a git repository: retrain proposes its results as a pull request",
                           "git init -b main"))
    from tide.workspace.repo import find_repo_root

    proj = find_repo_root(root) or top or os.path.abspath(root)
    if not os.path.isdir(os.path.join(proj, ".dvc")):
        out.append(Finding("dvc", "no .dvc directory: tide versions the model and data there", "tide init"))
    facts.append(("root", proj))
    st, sections = _settings(proj, out)
    reg, gate, rs = sections["registry"], sections["gate"], sections["retrain"]
    bad = {f.key.split(":", 1)[1] for f in out if f.key.startswith("tide.yaml:")}  # their checks wait for the fix
    stages, declared_metrics = _stages(proj, env, out)
    guess = _guess(proj, "train.py") if os.path.isfile(os.path.join(proj, "train.py")) else _Guess()
    model_file = reg.path or guess.model
    if not reg.model and "registry" not in bad:
        name = os.path.splitext(os.path.basename(model_file))[0] if model_file else os.path.basename(proj)
        reg_fix: dict[str, Any] = {"model": re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-") or "model"}
        if not reg.path and model_file:
            reg_fix["path"] = model_file
        out.append(_yaml_fix("registry.model", "no registry.model: the model's name in the registry (its "
                             "versions are tags NAME@vX.Y.Z)", {"registry": reg_fix}))
    elif reg.model:
        facts.append(("model", reg.model + (f" ({reg.path})" if reg.path else "")))
    if sections["deploy"].configured and not reg.path and reg.model:
        out.append(_yaml_fix("registry.path", "deploy is configured but registry.path (the model file) is not",
                             {"registry": {"path": model_file or "MODEL_FILE"}}))
    if not stages:  # retrain (or, with retrain.runner, the runner) trains by `tide repro`
        out.append(Finding("stage", "dvc.yaml has no stage: tide retrain trains by reproducing the pipeline",
                           _stage_fix(proj, guess, reg.path, gate.metrics if _explicit(st, "gate", "metrics")
                                      else None, rs.plots, rs.get_data)))
    elif stages:
        facts.append(("stages", ", ".join(stages)))
    if "gate" not in bad:
        metrics = _metrics_file(proj, st, gate, declared_metrics, guess, out, stages)
        _primary(gate, metrics, guess, out)
    if git is not None and "retrain" not in bad:
        _commit_and_base(git, rs, out, facts)
    remote = _remote(proj, env, rs, out, facts)
    _forge(proj, env, git, rs, out, facts)
    if rs.runner:
        _runner(st, rs.runner, env, out)
    if remote is not None:
        _remote_credentials(*remote, env, out)
    if git is not None and not any(f.key == "commit" for f in out):
        _uncommitted(git, proj, out)
    # the commit last: every fix above changes files it should hold; with a forge, pushed there too
    if any(f.key == "commit" for f in out) and (any(f.key == "forge" for f in out) or _has_origin(git)):
        out = [replace(f, fix=f"{f.fix} && git push -u origin {shlex.quote(rs.base)}") if f.key == "commit" else f
               for f in out]
    out.sort(key=lambda f: f.key == "commit")
    return Readiness(tuple(out), tuple(facts))


def _has_origin(git) -> bool:
    return git is not None and git.run("remote", "get-url", "origin", check=False).returncode == 0


def _explicit(st: S.Settings, section: str, key: str) -> bool:
    try:
        return key in st.section(section)
    except TideError:
        return False


def _settings(root: str, out: list[Finding]) -> tuple[S.Settings, dict[str, Any]]:
    """tide.yaml, each section validated as tide retrain validates it (a bad one: its defaults, and a finding)."""
    try:
        st = S.load(root)
    except TideError as exc:
        out.append(Finding("tide.yaml", str(exc), f"fix {S.FILE_NAME} (it must be a YAML mapping of sections)",
                           "tide.yaml"))
        st = S.Settings(os.path.join(root, S.FILE_NAME))
    loaders = {"registry": (S.registry_settings, S.RegistrySettings), "gate": (S.gate_settings, S.GateSettings),
               "deploy": (S.deploy_settings, S.DeploySettings), "retrain": (S.retrain_settings, S.RetrainSettings),
               "schedule": (S.schedule_settings, S.ScheduleSettings)}
    sections: dict[str, Any] = {}
    for name, (load, default) in loaders.items():
        try:
            sections[name] = load(st)
        except TideError as exc:
            out.append(Finding(f"tide.yaml:{name}", str(exc), f"correct the '{name}:' section of tide.yaml "
                               "(docs/retrain.md lists its keys)", "tide.yaml"))
            sections[name] = default()
    try:
        from tide.forge.detect import check_settings

        check_settings(st.data.get("forge"))
    except TideError as exc:
        out.append(Finding("tide.yaml:forge", str(exc), "correct the 'forge:' section of tide.yaml", "tide.yaml"))
    return st, sections


def _stages(root: str, env: Env, out: list[Finding]) -> tuple[list[str], list[str]]:
    """Stage names and the metrics files dvc.yaml declares (relative paths)."""
    if not os.path.isdir(os.path.join(root, ".dvc")):
        return [], []
    from tide.pipeline.metrics import pipelines
    from tide.pipeline.revfs import reader_for
    from tide.workspace.repo import Repo

    try:
        repo = Repo(root, env)
    except TideError as exc:
        out.append(Finding("dvc", str(exc), "fix the .dvc/config file named above"))
        return [], []
    try:
        pipes = pipelines(reader_for(repo, None))
    except TideError as exc:
        out.append(Finding("dvc.yaml", str(exc), "fix dvc.yaml (the error above names the place)"))
        return [], []
    finally:
        repo.close()
    names = [s.name for p in pipes for s in p.stages]
    metrics = [os.path.relpath(o.abspath, root).replace(os.sep, "/") for p in pipes for s in p.stages
               for o in s.outs if o.kind == "metrics"]
    metrics += [os.path.relpath(m, root).replace(os.sep, "/") for p in pipes for m in p.metrics]
    return names, metrics


def _stage_fix(root: str, g: _Guess, model: str | None, metrics: str | None, plots: tuple[str, ...],
               get_data: str | None = None) -> str:
    """``tide stage add`` lines for the scripts the project has (train.py, get_data.py unless
    ``retrain.get_data`` fetches the data already)."""
    lines = []
    deps = ["train.py"] if os.path.isfile(os.path.join(root, "train.py")) else ["TRAIN_SCRIPT"]
    if os.path.isfile(os.path.join(root, "get_data.py")) and not get_data:
        data = g.data_dirs[0] if g.data_dirs else "data"
        lines.append(f"tide stage add -n get_data --always-changed -d get_data.py -o {shlex.quote(data)} "
                     "python get_data.py")
        deps.append(data)
    else:
        deps += g.data_dirs
    args = ["tide", "stage", "add", "-n", "train"]
    for d in deps:
        args += ["-d", d]
    out_file = model or g.model or "MODEL_FILE"
    if os.path.isfile(os.path.join(root, out_file + ".dvc")):  # tracked by `dvc add`: a stage output now
        lines.insert(0, f"tide remove {shlex.quote(out_file + '.dvc')}")
    args += ["-o", out_file, "-M", metrics or g.metrics or "METRICS_FILE"]
    for p in list(plots) or g.plots:
        args += ["--plots-no-cache", p]
    cmd = "python train.py" if deps[0] == "train.py" else "TRAIN_COMMAND"
    lines.append(shlex.join(args) + " " + cmd)
    return " && ".join(lines)


def _metrics_file(root: str, st: S.Settings, gate: S.GateSettings, declared: list[str], g: _Guess,
                  out: list[Finding], stages: list[str]) -> dict[str, Any] | None:
    """The gate's metrics file: produced by a stage (or present), and readable by the one reader."""
    from tide.pipeline.metrics import metrics_mapping

    name, explicit = gate.metrics, _explicit(st, "gate", "metrics")
    if not (name in declared or os.path.isfile(os.path.join(root, name))):
        if not stages and explicit:
            return None  # the stage line (finding 'stage') declares it
        candidate = (declared[0] if declared else None) if stages else g.metrics
        if candidate or not stages:
            out.append(_yaml_fix("gate.metrics", f"gate.metrics is '{name}'" + ("" if explicit else " (the default)")
                                 + ", which no stage writes: the gate compares models by this file",
                                 {"gate": {"metrics": candidate or "METRICS_FILE"}}))
            if not candidate:
                return None
            name = candidate
        else:
            out.append(Finding("gate.metrics", f"no stage writes the gate's metrics file '{name}'",
                               f"declare it on the stage that writes it: tide stage add -f -n STAGE ... -M {name}"))
            return None
    path = os.path.join(root, name)
    if not os.path.isfile(path):
        return None  # written by the first run
    try:
        with open(path, encoding="utf-8") as f:
            return metrics_mapping(f.read(), name, name)
    except (TideError, OSError, UnicodeDecodeError) as exc:
        out.append(Finding("gate.metrics", f"{exc}", f"make the stage write {name} as JSON, YAML, TOML "
                           "or 'Key: value' lines"))
        return {}


def _primary(gate: S.GateSettings, metrics: dict[str, Any] | None, g: _Guess, out: list[Finding]) -> None:
    numeric = [k for k, v in (metrics or {}).items() if isinstance(v, int | float) and not isinstance(v, bool)]
    if gate.primary is None:
        metric = next((k for k in numeric if "acc" in k.lower()), numeric[0] if numeric else g.metric or "METRIC")
        direction = "lower" if re.search(r"loss|error|rmse|mae|mse", metric, re.I) else "higher"
        out.append(_yaml_fix("gate.primary", "no gate.primary: the metric that decides whether a new model "
                             "is better than production (without one the gate promotes nothing)",
                             {"gate": {"primary": {"metric": metric, "direction": direction}}}, blocks=False))
    elif metrics is not None and numeric and gate.primary.metric not in metrics:
        out.append(_yaml_fix("gate.primary", f"gate.primary.metric '{gate.primary.metric}' is not in "
                             f"{gate.metrics} (it has: {', '.join(numeric)})",
                             {"gate": {"primary": {"metric": numeric[0]}}}))


PROJECT_FILES = ("tide.yaml", "dvc.yaml", ".dvc/config")   # what the scheduled job reads from the base branch
_CHANGES_FILES = ("dvc", "stage", "remote", "forge", "registry.model", "registry.path", "gate.metrics",
                  "gate.primary", "retrain.base")


def _uncommitted(git, root: str, out: list[Finding]) -> None:
    """Scheduled runs and the PR start from the committed base branch: the project's files (and the
    files the fixes above change) must be committed and pushed."""
    rel = os.path.relpath(root, git.root)
    specs = [p if rel == "." else f"{rel}/{p}" for p in PROJECT_FILES]
    dirty = git.out("status", "--porcelain", "--untracked-files=all", "--", *specs).strip()
    fixes = [f.key for f in out if f.key in _CHANGES_FILES or f.kind == "tide.yaml"]
    if not dirty and not fixes:
        return
    what = "the changes above" if fixes else "the project's changed files (" + ", ".join(
        sorted({line[3:] for line in dirty.splitlines()})[:5]) + ")"
    out.append(Finding("commit", f"commit {what}: scheduled runs and the pull request start from the "
                       "committed base branch", "git add -A && git commit -m 'tide project'", blocks=False))


def _commit_and_base(git, rs: S.RetrainSettings, out: list[Finding], facts: list) -> None:
    if git.run("rev-parse", "--verify", "-q", "HEAD", check=False).returncode != 0:
        out.append(Finding("commit", "no commit yet: tide retrain starts from the last commit of "
                           f"'{rs.base}'", "git add -A && git commit -m 'tide project'"))
        branch = git.out("branch", "--show-current").strip()  # the unborn branch's name
        if branch and branch != rs.base:
            out.append(_yaml_fix("retrain.base", f"the branch is '{branch}' and retrain.base is '{rs.base}'",
                                 {"retrain": {"base": branch}}))
        return
    branch = git.out("branch", "--show-current").strip()
    if branch != rs.base:
        exists = git.run("rev-parse", "--verify", "-q", f"refs/heads/{rs.base}", check=False).returncode == 0
        if exists:
            out.append(Finding("retrain.base", f"HEAD is on '{branch or 'a detached HEAD'}': retrain runs on "
                               f"retrain.base '{rs.base}'", f"git checkout {shlex.quote(rs.base)}"))
        else:
            out.append(_yaml_fix("retrain.base", f"retrain.base is '{rs.base}', a branch this repository does "
                                 "not have", {"retrain": {"base": branch or "main"}}))
    facts.append(("base", rs.base))


def _remote(root: str, env: Env, rs: S.RetrainSettings, out: list[Finding], facts: list):
    """The remote retrain pushes to, as (name, options), or None."""
    from tide.core.config import Config

    try:
        conf = Config(os.path.join(root, ".dvc"), env).merged()
    except TideError as exc:
        out.append(Finding("remote", str(exc), "fix the config file named above"))
        return None
    name = rs.remote or conf.get("core", {}).get("remote")
    if not name:
        out.append(Finding("remote", "no remote storage: the model and data would stay on this machine "
                           "(retrain.remote, or a default remote)",
                           "tide remote add -d storage URL   # e.g. gdrive://FOLDER_ID, s3://BUCKET/PATH",
                           blocks=False))
        return None
    opts = conf.get(f"remote.{name}")
    if not opts or "url" not in opts:
        out.append(Finding("remote", f"remote '{name}' is not defined", f"tide remote add {shlex.quote(name)} URL"))
        return None
    from tide.storage.registry import SCHEMES, missing_dependency, scheme_of

    try:
        scheme = scheme_of(opts["url"])
    except TideError as exc:
        out.append(Finding("remote", str(exc), f"tide remote modify {shlex.quote(name)} url URL"))
        return None
    facts.append(("remote", f"{name} ({scheme})"))
    missing = missing_dependency(scheme)
    if missing:
        out.append(Finding(f"remote.{name}", missing, f"pip install 'tide-ml[{SCHEMES[scheme].extra}]'"))
    return name, opts


def _has(env: Env, *names: str) -> bool:
    return any(env.get(n) for n in names)


def _home_file(env: Env, *parts: str) -> bool:
    home = env.get("HOME") or os.path.expanduser("~")
    return os.path.isfile(os.path.join(home, *parts))


def _remote_credentials(name: str, opts: dict[str, str], env: Env, out: list[Finding]) -> None:
    """Credentials for the remote, where tide (or the library it drives) looks for them."""
    from tide.core.config import to_bool
    from tide.ops.ci_needs import remote_needs
    from tide.storage.registry import scheme_of

    scheme = scheme_of(opts["url"])
    if to_bool(opts.get("allow_anonymous_login", "false"), "allow_anonymous_login"):
        return
    found = {
        "s3": lambda: (_has(env, "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
                            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI")
                       or bool(opts.get("profile") or opts.get("credentialpath") or opts.get("access_key_id"))
                       or _home_file(env, ".aws", "credentials")),
        "gdrive": lambda: (_has(env, "GDRIVE_CREDENTIALS_DATA")
                           or bool(opts.get("gdrive_service_account_json_file_path")
                                   or opts.get("gdrive_user_credentials_file"))),
        "gs": lambda: (_has(env, "GOOGLE_APPLICATION_CREDENTIALS") or bool(opts.get("credentialpath"))
                       or _home_file(env, ".config", "gcloud", "application_default_credentials.json")),
        "azure": lambda: (_has(env, "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_KEY", "AZURE_CLIENT_SECRET",
                               "AZURE_STORAGE_SAS_TOKEN")
                          or bool(opts.get("connection_string") or opts.get("account_key") or opts.get("sas_token"))),
        "ssh": lambda: (bool(opts.get("keyfile") or opts.get("password")) or _has(env, "SSH_AUTH_SOCK")
                        or any(_home_file(env, ".ssh", k) for k in ("id_ed25519", "id_rsa", "id_ecdsa"))),
    }.get(scheme)
    if found is None or found():
        return
    needs = remote_needs(name, opts)
    names = [s.name for s in needs.secrets] or ["credentials"]
    out.append(Finding(f"credentials.remote.{name}", f"no credentials for remote '{name}' ({scheme}) on this "
                       "machine", _env_fix(names, scheme), "env", blocks=False))


def _env_fix(names: list[str], what: str) -> str:
    hints = {"GDRIVE_CREDENTIALS_DATA": '"$(cat service-account-key.json)"',
             "GOOGLE_APPLICATION_CREDENTIALS_DATA": '"$(cat key.json)"',
             "TIDE_SSH_PRIVATE_KEY": '"$(cat ~/.ssh/id_ed25519)"',
             "KUBERNETES_CONFIGURATION": '"$(cat ~/.kube/config)"'}
    return "export " + " ".join(f"{n}={hints.get(n, '...')}" for n in names) + f"   # {what}"


def _forge(root: str, env: Env, git, rs: S.RetrainSettings, out: list[Finding], facts: list) -> None:
    if git is None:
        return
    from tide.forge.detect import choose, find_token
    from tide.ops.forge import load_settings, remote_url

    try:
        url = remote_url(git, "origin")
        choice = choose(env, settings=load_settings(git.root), remote_url=url)
    except TideError as exc:
        out.append(Finding("forge", f"no forge for the pull request ({exc})",
                           "git remote add origin URL   # or a local forge: tide forge init ../forge.git "
                           "--add-remote origin"))
        return
    facts.append(("forge", f"{choice.driver} {choice.repo}"))
    if choice.driver == "local":
        from tide.forge.local import LocalForge

        try:
            LocalForge(choice.repo)
        except TideError as exc:
            out.append(Finding("forge", str(exc), f"tide forge init {shlex.quote(choice.repo)} --add-remote origin"))
            return
    elif find_token(env) is None:
        out.append(Finding("credentials.forge", f"no token for the {choice.driver} forge: retrain pushes a branch "
                           "and opens a pull request", _env_fix(["REPO_TOKEN"], f"a {choice.driver} token that "
                                                                "can push and open pull requests"), "env"))
        return
    if url and git.run("rev-parse", "--verify", "-q", "HEAD", check=False).returncode == 0:
        from tide.core.git import Git

        probe = Git(git.root, _auth(choice, env)).run("ls-remote", "--heads", "origin", f"refs/heads/{rs.base}",
                                                      check=False)
        if probe.returncode != 0:
            out.append(Finding("forge", f"cannot reach remote 'origin' ({url}): "
                               + (probe.stderr.decode(errors="replace").strip().splitlines() or ["git failed"])[-1],
                               "check the URL and the token: git ls-remote origin"))
        elif not probe.stdout.strip():
            out.append(Finding("forge", f"the base branch '{rs.base}' is not on remote 'origin': the pull "
                               "request targets it", f"git push -u origin {shlex.quote(rs.base)}"))


def _auth(choice, env: Env) -> dict[str, str]:
    """The git environment retrain pushes with (the forge token in git's process environment only)."""
    from tide.forge.detect import find_token
    from tide.forge.drivers import open_driver
    from tide.ops.forge import auth_env

    forge = open_driver(choice, find_token(env))
    try:
        return auth_env(forge, env)
    finally:
        forge.close()


def runner_credentials_missing(kind: str, env: Env) -> list[str]:
    """The names of the credentials ``kind`` runners need that this machine lacks ([]: all there, where
    tide or the library it drives looks for them). Names only, never a value."""
    from tide.ops.ci_needs import runner_needs

    names = [s.name for s in runner_needs(kind, launcher=False).secrets]
    if kind == "aws" and (_home_file(env, ".aws", "credentials") or _has(env, "AWS_PROFILE")):
        return []
    if kind == "gcp" and _has(env, "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_OAUTH_ACCESS_TOKEN"):
        names = [n for n in names if n != "GOOGLE_APPLICATION_CREDENTIALS_DATA"]
    if kind == "kubernetes" and (_has(env, "KUBECONFIG") or _home_file(env, ".kube", "config")):
        return []
    if kind == "ssh" and (_has(env, "SSH_AUTH_SOCK") or _home_file(env, ".ssh", "id_ed25519")
                          or _home_file(env, ".ssh", "id_rsa")):
        return []
    return [n for n in names if not env.get(n)]


def _runner(st: S.Settings, runner: str, env: Env, out: list[Finding]) -> None:
    from tide.ops.run import parse_on

    try:
        kind = parse_on(runner, st.section("runners")).kind
    except TideError as exc:
        out.append(Finding("retrain.runner", str(exc), "set retrain.runner to local, ssh://USER@HOST, aws:TYPE, "
                           "or a profile under 'runners:'", "tide.yaml"))
        return
    missing = runner_credentials_missing(kind, env)
    if missing:
        out.append(Finding("credentials.runner", f"retrain.runner '{runner}' ({kind}) needs credentials this "
                           f"machine does not have: {', '.join(missing)}", _env_fix(missing, f"{kind} runner"), "env"))


class NotReady(ConfigError):
    """Refused before changing anything (``tide retrain``, ``tide ci init``): the findings, all of them."""

    def __init__(self, readiness: Readiness, what: str = "tide retrain") -> None:
        n = len(readiness.findings)
        super().__init__(f"not ready for {what}: {n} thing{'s' if n != 1 else ''} to fix, listed above")
        self.readiness = readiness


def require(root: str, env: Env | None = None) -> Readiness:
    """The check, raising :class:`NotReady` with the blocking findings when there are any."""
    r = check(root, env)
    if r.blocking:
        raise NotReady(Readiness(r.blocking, r.facts))
    return r
