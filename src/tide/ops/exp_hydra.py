"""``exp run`` with ``hydra.enabled`` in the dvc config: ``params.yaml`` is composed by Hydra, as dvc 3.67 does.

Before the run (or when an experiment is queued) the Hydra config named ``hydra.config_name`` (default
``config``) is composed from ``hydra.config_dir`` (default ``conf``, relative to the repository root) or
from the Python package ``hydra.config_module``, with the ``-S`` overrides of the file ``params.yaml``
(``-S KEY=V`` or ``-S params.yaml:KEY=V``) in Hydra's grammar: config-group selection (``db=postgres``),
``+key=v``, ``++key=v``, ``~key``. The result, interpolations resolved, replaces ``params.yaml`` at the
repository root as OmegaConf writes YAML (dvc's bytes). It is composed even without any ``-S``. Other
files named by ``-S FILE:...`` are edited in place (tide.ops.exp_params), as without Hydra.

A sweep (``lr=0.1,0.2``, ``range()``, ``choice()``; not ``glob()``) needs ``--queue`` and queues the cross
product split by Hydra's BasicSweeper (dvc's order and names ``NAME-1``, ``NAME-2``...). ``--no-hydra``
turns the composition off for one run. hydra-core is the optional extra ``tide-ml[hydra]``, imported only
when the composition is on.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import Any

from tide.core.config import to_bool
from tide.core.errors import ConfigError, UsageError

OUTPUT = "params.yaml"  # dvc's ParamsDependency.DEFAULT_PARAMS_FILE: the only file Hydra writes


@dataclass(frozen=True)
class Settings:
    config_dir: str | None  # absolute; None when config_module is used
    config_module: str | None
    config_name: str
    plugins_path: str  # absolute (the repository root when unset, as dvc joins it)


@dataclass(frozen=True)
class Plan:
    """What ``-S`` asks for: one point per experiment (``path -> overrides``; the Hydra file's are texts,
    the others' tide.ops.exp_params.Override), and whether it was a sweep."""

    hydra: Settings | None
    points: list[dict[str, list[Any]]]
    sweep: bool


def settings(repo, no_hydra: bool = False) -> Settings | None:
    """The ``hydra`` section of the dvc config when the composition is on (and not ``--no-hydra``)."""
    if no_hydra or not to_bool(repo.option("hydra.enabled", "false"), "hydra.enabled"):
        return None
    config_dir, module = repo.option("hydra.config_dir"), repo.option("hydra.config_module")
    if config_dir is not None and module is not None:
        raise ConfigError("hydra.config_dir and hydra.config_module exclude each other: set one of them")
    return Settings(
        config_dir=None if module is not None else os.path.join(repo.root, config_dir or "conf"),
        config_module=module,
        config_name=repo.option("hydra.config_name") or "config",
        plugins_path=os.path.join(repo.root, repo.option("hydra.plugins_path") or ""),
    )


def plan(repo, items: list[str], no_hydra: bool = False) -> Plan:
    """The experiments ``-S items`` make. Without Hydra: tide.ops.exp_params unchanged."""
    from tide.ops import exp_params

    hyd = settings(repo, no_hydra)
    if hyd is None:
        ov = exp_params.parse_all(items)
        return Plan(None, exp_params.expand(ov) if ov else [{}], exp_params.is_sweep(ov))
    groups = exp_params.group_by_file(items)
    groups.setdefault(OUTPUT, [])  # composed even without any -S for it
    axes: list[list[tuple[str, list[Any]]]] = []
    sweep = False
    for path, texts in groups.items():
        if path == OUTPUT:
            parsed = _parse(texts)
            if any(o.is_sweep_override() for o in parsed):
                sweep = True
                axes.append([(path, batch) for batch in _split(parsed)])
            else:
                axes.append([(path, list(texts))])
        else:
            ovs = {path: [exp_params.parse(t) for t in texts]}
            sweep = sweep or exp_params.is_sweep(ovs)
            axes.append([(path, p[path]) for p in exp_params.expand(ovs)])
    points = [dict(combo) for combo in itertools.product(*axes)]  # the first file varies slowest (dvc)
    return Plan(hyd, points, sweep)


def files(repo, p: Plan, point: dict[str, list[Any]]) -> dict[str, bytes]:
    """New contents (path relative to the root -> bytes) of the params files of one point."""
    from tide.ops import exp_params

    others = {k: v for k, v in point.items() if p.hydra is None or k != OUTPUT}
    out = exp_params.apply_to_files(repo.root, others)
    if p.hydra is not None and OUTPUT in point:
        out[OUTPUT] = compose(p.hydra, list(point[OUTPUT]))  # last: it wins over './params.yaml:...'
    return out


def _need_hydra() -> None:
    try:
        import hydra  # noqa: F401
        import omegaconf  # noqa: F401
    except ImportError:
        raise UsageError("hydra.enabled is set in the dvc config but hydra-core is not installed: "
                         "pip install 'tide-ml[hydra]' (or run with --no-hydra)") from None


def _one_line(exc: BaseException) -> str:
    """Hydra's message without its search-path listing; the options it offers kept on the line."""
    lines = [ln.strip() for ln in str(exc).splitlines()]
    head = next((ln for ln in lines if ln), type(exc).__name__)
    i = next((i for i, ln in enumerate(lines) if ln.startswith("Available options in")), None)
    if i is not None:
        opts = []
        for ln in lines[i + 1:]:
            if not ln or ln.startswith("Config search path"):
                break
            opts.append(ln)
        head += f" ({lines[i].rstrip(':')}: {', '.join(opts)})"
    elif len(lines) > 1 and lines[1] and not lines[1].startswith(("Config search path", "See https")):
        head += f"{' ' if head.endswith('.') else ': '}{lines[1]}"
    return head


def _parse(texts: list[str]) -> list:
    _need_hydra()
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    try:
        return OverridesParser.create().parse_overrides(overrides=list(texts))
    except OverrideParseException as exc:
        raise UsageError(f"invalid -S/--set-param for Hydra: {_one_line(exc)}") from None


def _split(parsed: list) -> list[list[str]]:
    """One list of override texts per point of the sweep (Hydra's BasicSweeper, as dvc splits it)."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.types import ValueType
    from hydra.errors import HydraException

    for o in parsed:
        if o.value_type == ValueType.GLOB_CHOICE_SWEEP:
            raise UsageError(f"Glob override '{o.input_line}' is not supported.")
    try:
        return BasicSweeper.split_arguments(parsed, None)[0]
    except HydraException as exc:
        raise UsageError(f"invalid sweep in -S/--set-param: {_one_line(exc)}") from None


def _load_plugins(path: str) -> None:
    """Hydra discovers plugins (``hydra_plugins.*``) on sys.path once per process: scan with ``path`` on it."""
    import sys

    from hydra.core.plugins import Plugins

    sys.path.append(path)
    try:
        Plugins.instance()
    finally:
        sys.path.remove(path)


def compose(s: Settings, overrides: list[str]) -> bytes:
    """The composed config, interpolations resolved, as OmegaConf writes YAML (dvc writes these bytes)."""
    _need_hydra()
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir, initialize_config_module
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    where = s.config_dir if s.config_dir is not None else f"module {s.config_module}"
    try:
        _load_plugins(s.plugins_path)
        if s.config_dir is not None:
            init = initialize_config_dir(s.config_dir, version_base=None)
        else:
            init = initialize_config_module(s.config_module, version_base=None)
        with init:
            cfg = hydra_compose(config_name=s.config_name, overrides=list(overrides))
        OmegaConf.resolve(cfg)
        text = OmegaConf.to_yaml(cfg)
    except (HydraException, OmegaConfBaseException, ImportError, ValueError) as exc:
        raise UsageError(f"Hydra could not compose '{s.config_name}' from {where}: {_one_line(exc)}") from None
    return text.encode("utf-8")
