"""tide's own settings: ``tide.yaml`` at the repository root (never in DVC's files).

One mapping of sections (``forge:``, ``pipeline:``, ``registry:`` ...). Each area validates its own
section; this module only reads the file, once, and hands out sections.

    pipeline:
      run_cache: true     # push/pull the run cache by default (tide push / pull / repro --pull)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from tide.core import yamlio
from tide.core.errors import ConfigError
from tide.core.settings_keys import FILE_NAME, only_keys, section, typed  # (shared with light readers: remote_format)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True)
class Settings:
    path: str
    data: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        return section(self.data, name)

    def get(self, dotted: str, default: Any = None) -> Any:
        section, _, key = dotted.partition(".")
        return self.section(section).get(key, default) if key else self.data.get(section, default)

    @property
    def root(self) -> str:
        return os.path.dirname(self.path)

    def inside(self, where: str, value: str | None) -> str | None:
        """``value`` (a path setting at ``where``) checked to stay inside the repository (core/paths.py)."""
        if value:
            from tide.core.paths import config_path

            config_path(self.root, value, where, FILE_NAME)
        return value


def load(root: str) -> Settings:
    path = os.path.join(root, FILE_NAME)
    if not os.path.exists(path):
        return Settings(path)
    data = yamlio.load_file(path, FILE_NAME)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{FILE_NAME}: expected a mapping of sections")
    return Settings(path, data)


# --- typed sections of the retrain loop (registry, gate, deploy, retrain, schedule) -----------------
@dataclass(frozen=True)
class RegistrySettings:
    model: str | None = None        # artifact name
    path: str | None = None         # the model file
    type: str = "model"
    data: str | None = None         # the training data (its hash goes into promotion records)


@dataclass(frozen=True)
class MetricRule:
    metric: str
    direction: str = "higher"       # higher | lower
    min_improvement: float = 0.0    # primary: the candidate must beat production by more than this
    max_worsening: float = 0.0      # guard: the candidate may be worse by at most this


@dataclass(frozen=True)
class GateSettings:
    metrics: str = "metrics.json"
    primary: MetricRule | None = None
    guards: tuple[MetricRule, ...] = ()
    predictions: str | None = None  # CSV with row,label,prediction
    samples: int = 1000
    confidence: float = 0.95
    seed: int = 0
    records: str = "promotions"     # directory of promotion records


@dataclass(frozen=True)
class DeploySettings:
    command: str | None = None
    copy_to: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.command or self.copy_to)


@dataclass(frozen=True)
class RetrainSettings:
    base: str = "main"
    stage: str = "prod"
    remote: str | None = None
    runner: str | None = None       # e.g. "local", "ssh", "aws": tide run --on RUNNER
    get_data: str | None = None     # a command run before the pipeline
    pr_files: tuple[str, ...] = ()
    plots: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduleSettings:
    cron: str = "0 8 * * *"


def _rule(raw: Any, where: str, primary: bool) -> MetricRule:
    if isinstance(raw, str):
        raw = {"metric": raw}
    if not isinstance(raw, dict):
        raise ConfigError(f"{FILE_NAME}: '{where}' must be a mapping with 'metric'")
    only_keys(raw, {"metric", "direction", "min_improvement", "max_worsening"}, where)
    metric = typed(raw, "metric", str, where)
    if not metric:
        raise ConfigError(f"{FILE_NAME}: '{where}.metric' is required")
    direction = typed(raw, "direction", str, where, "higher")
    if direction not in ("higher", "lower"):
        raise ConfigError(f"{FILE_NAME}: '{where}.direction' must be 'higher' or 'lower', got '{direction}'")
    rule = MetricRule(metric, direction, typed(raw, "min_improvement", float, where, 0.0),
                      typed(raw, "max_worsening", float, where, 0.0))
    if rule.min_improvement < 0 or rule.max_worsening < 0:
        raise ConfigError(f"{FILE_NAME}: '{where}' amounts must not be negative")
    return rule


def registry_settings(s: Settings) -> RegistrySettings:
    sec = s.section("registry")
    only_keys(sec, {"model", "path", "type", "data"}, "registry")
    return RegistrySettings(typed(sec, "model", str, "registry"),
                            s.inside("registry.path", typed(sec, "path", str, "registry")),
                            typed(sec, "type", str, "registry", "model"),
                            s.inside("registry.data", typed(sec, "data", str, "registry")))


def gate_settings(s: Settings) -> GateSettings:
    sec = s.section("gate")
    only_keys(sec, {"metrics", "primary", "guards", "predictions", "bootstrap", "records"}, "gate")
    guards = sec.get("guards") or []
    if not isinstance(guards, list):
        raise ConfigError(f"{FILE_NAME}: 'gate.guards' must be a list")
    boot = sec.get("bootstrap") or {}
    if not isinstance(boot, dict):
        raise ConfigError(f"{FILE_NAME}: 'gate.bootstrap' must be a mapping")
    only_keys(boot, {"samples", "confidence", "seed"}, "gate.bootstrap")
    conf = typed(boot, "confidence", float, "gate.bootstrap", 0.95)
    samples = typed(boot, "samples", int, "gate.bootstrap", 1000)
    if not 0.5 <= conf < 1 or samples < 100:
        raise ConfigError(f"{FILE_NAME}: 'gate.bootstrap' needs 0.5 <= confidence < 1 and samples >= 100")
    return GateSettings(
        metrics=s.inside("gate.metrics", typed(sec, "metrics", str, "gate", "metrics.json")),
        primary=_rule(sec["primary"], "gate.primary", True) if sec.get("primary") else None,
        guards=tuple(_rule(g, f"gate.guards[{i}]", False) for i, g in enumerate(guards)),
        predictions=s.inside("gate.predictions", typed(sec, "predictions", str, "gate")),
        samples=samples, confidence=conf, seed=typed(boot, "seed", int, "gate.bootstrap", 0),
        records=s.inside("gate.records", typed(sec, "records", str, "gate", "promotions")),
    )


def deploy_settings(s: Settings) -> DeploySettings:
    sec = s.section("deploy")
    only_keys(sec, {"command", "copy_to"}, "deploy")
    d = DeploySettings(typed(sec, "command", str, "deploy"), typed(sec, "copy_to", str, "deploy"))
    if d.copy_to:
        from tide.core.paths import is_url

        # a deploy target is a URL or an absolute directory named on purpose; a relative one is a
        # place in the repository and must stay there
        if not is_url(d.copy_to) and not os.path.isabs(d.copy_to):
            s.inside("deploy.copy_to", d.copy_to)
    if d.command and d.copy_to:
        raise ConfigError(f"{FILE_NAME}: 'deploy' takes either 'command' or 'copy_to', not both")
    return d


def _strings(sec: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = sec.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{FILE_NAME}: '{where}.{key}' must be a list of paths")
    return tuple(value)


def retrain_settings(s: Settings) -> RetrainSettings:
    sec = s.section("retrain")
    only_keys(sec, {"base", "stage", "remote", "runner", "get_data", "pr_files", "plots"}, "retrain")
    return RetrainSettings(
        base=typed(sec, "base", str, "retrain", "main"), stage=typed(sec, "stage", str, "retrain", "prod"),
        remote=typed(sec, "remote", str, "retrain"), runner=typed(sec, "runner", str, "retrain"),
        get_data=typed(sec, "get_data", str, "retrain"),
        pr_files=tuple(s.inside("retrain.pr_files", p) for p in _strings(sec, "pr_files", "retrain")),
        plots=tuple(s.inside("retrain.plots", p) for p in _strings(sec, "plots", "retrain")),
    )


def schedule_settings(s: Settings) -> ScheduleSettings:
    sec = s.section("schedule")
    only_keys(sec, {"cron"}, "schedule")
    return ScheduleSettings(typed(sec, "cron", str, "schedule", "0 8 * * *"))


@dataclass(frozen=True)
class CISettings:
    """``ci:``, read by ``tide ci init``: what the generated workflow installs and where it trains."""

    install: str | None = None      # tide's requirement (git URL, wheel path, version) or a whole install command
    runner: str | None = None       # a single-use runner per run: a 'runners:' profile or a spec (aws:t2.micro)
    labels: str | None = None       # the self-hosted runner's label (default tide-runner)
    python: str = "3.11"            # the CI machine's Python


def ci_settings(s: Settings) -> CISettings:
    sec = s.section("ci")
    only_keys(sec, {"install", "runner", "labels", "python"}, "ci")
    if isinstance(sec.get("python"), float):  # YAML reads 3.10 as the number 3.1
        raise ConfigError(f"{FILE_NAME}: 'ci.python' must be quoted, e.g. python: '3.11'")
    out = CISettings(typed(sec, "install", str, "ci"), typed(sec, "runner", str, "ci"),
                     typed(sec, "labels", str, "ci"), typed(sec, "python", str, "ci", "3.11"))
    for key in ("install", "runner", "labels", "python"):
        if getattr(out, key) is not None and not getattr(out, key).strip():
            raise ConfigError(f"{FILE_NAME}: 'ci.{key}' must not be empty")
    return out


# --- ui: where `tide ui` runs, for links into it (report comments) ----------------------------------
UI_URL_ENV = "TIDE_UI_URL"
UI_DEFAULT_URL = "http://127.0.0.1:8765"  # `tide ui`'s default address (cli/cmd_ui.py)
UI_KEYS = {"url", "runners"}
UI_RUNNER_KINDS = ("aws", "gcp", "azure", "kubernetes")


def check_ui_url(value: str, where: str) -> str:
    """An http(s) address without credentials, query or anything a markdown link or an HTML attribute
    would read differently (it is written into report comments as it is); returned without a final '/'."""
    import re

    ok = re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~\-/%]*)?", value or "")
    if not ok:
        raise ConfigError(f"{where} must be an http(s) address like http://HOST:PORT (no credentials, query "
                          "or spaces)")
    return value.rstrip("/")


def ui_url(s: Settings, env: Any = None, local_forge: bool = False) -> str:
    """Where report comments link into ``tide ui``: ``TIDE_UI_URL``, else ``ui.url`` in tide.yaml, else, for
    the local forge only (whose pages are read on this machine), ``tide ui``'s default address; "" for none."""
    value = env.get(UI_URL_ENV) if env is not None else os.environ.get(UI_URL_ENV)
    if value:
        return check_ui_url(value, UI_URL_ENV)
    sec = s.section("ui")
    only_keys(sec, UI_KEYS, "ui")
    url = typed(sec, "url", str, "ui")
    if url:
        return check_ui_url(url, f"{FILE_NAME}: 'ui.url'")
    return UI_DEFAULT_URL if local_forge else ""


def ui_runners(s: Settings) -> tuple[str, ...]:
    """``ui.runners``: the clouds whose runners the overview lists, ``KIND[:REGION]`` each (empty: the clouds
    retrain.runner, ci.runner and the runners: profiles name, when their credentials are there)."""
    sec = s.section("ui")
    only_keys(sec, UI_KEYS, "ui")
    value = sec.get("runners") or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{FILE_NAME}: 'ui.runners' must be a list like [aws:us-east, kubernetes]")
    for v in value:
        if v.partition(":")[0] not in UI_RUNNER_KINDS:
            raise ConfigError(f"{FILE_NAME}: 'ui.runners' entry '{v}': the kind must be one of "
                              f"{', '.join(UI_RUNNER_KINDS)}")
    return tuple(value)
