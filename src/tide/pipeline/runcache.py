"""The run cache, in dvc's format: ``<cache>/runs/<key[:2]>/<key>/<value>``.

* key   = sha256 of ``json.dumps(entry with outs reduced to their paths, sort_keys=True)``
* value = sha256 of the full lock entry; both leave out every ``size`` and ``nfiles`` key;
* the file holds the lock entry as YAML. Several values may exist for one key (different
  outputs from the same inputs); the newest file wins, as in dvc.

A stage can be cached only if it has a command, dependencies and outputs, no persistent
outputs and is not ``always_changed``; its runs are saved only when every output is cached or is
a metric or a plot (``saves_run``).
"""

from __future__ import annotations

import os

from tide.core.dvcschema import check_lock_stage
from tide.core.errors import TideError
from tide.core.fsutil import atomic_write_bytes, atomic_write_text
from tide.core.yamlio import (
    dumps,  # yamlstyle (PyYAML) only for what the simple writer declines
    load_file,
)
from tide.pipeline.definition import Stage

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

EXCLUDE = ("size", "nfiles")


def _filter(d: Any) -> Any:
    if isinstance(d, list):
        return [_filter(x) for x in d]
    if isinstance(d, dict):
        return {k: _filter(v) for k, v in d.items() if k not in EXCLUDE}
    return d


def _sha256(d: Any) -> str:
    import hashlib
    import json  # (deferred, as hashlib: a repro with nothing to do never keys a run)

    return hashlib.sha256(json.dumps(_filter(d), sort_keys=True).encode("utf-8")).hexdigest()


def key_of(entry: dict[str, Any]) -> str:
    e = dict(entry)  # (only "outs" is replaced; _filter copies the rest)
    e["outs"] = [o["path"] for o in e.get("outs", [])]
    return _sha256(e)


def value_of(entry: dict[str, Any]) -> str:
    return _sha256(entry)


def loads_entry(raw: bytes, where: str) -> Any:
    from tide.core.yamlio import loads

    return loads(raw.decode("utf-8"), where)


def can_cache(stage: Stage) -> bool:
    return bool(stage.cmd and (stage.deps or stage.params) and stage.outs) and not stage.always_changed and not any(
        o.persist for o in stage.outs
    )


def saves_run(stage: Stage) -> bool:
    """Whether a run of ``stage`` is recorded in the run cache: as in dvc 3, not when an output
    other than a metric or a plot has ``cache: false`` (its content could not be restored)."""
    return can_cache(stage) and all(o.cache or o.kind in ("metrics", "plots") for o in stage.outs)


class RunCache:
    def __init__(self, cache_root: str) -> None:
        self.dir = os.path.join(cache_root, "runs")

    def path(self, key: str, value: str) -> str:
        return os.path.join(self.dir, key[:2], key, value)

    def save(self, entry: dict[str, Any]) -> str:
        key, value = key_of(entry), value_of(entry)
        p = self.path(key, value)
        if not os.path.exists(p):
            os.makedirs(os.path.dirname(p), exist_ok=True)
            atomic_write_text(p, dumps(entry))  # named by the hashes of what is written
        return p

    def admit(self, rel: str, raw: bytes) -> bool:
        """The door for a run-cache entry from elsewhere (a remote), ``runs/<key[:2]>/<key>/<value>``:
        written only if its content hashes to its name (key and value as ``save`` computes them);
        False (nothing written) when it does not, or is no entry at all."""
        parts = rel.split("/")
        if len(parts) != 4 or parts[0] != "runs" or parts[1] != parts[2][:2]:
            return False
        try:
            data = loads_entry(raw, rel)
        except (TideError, UnicodeDecodeError):
            return False
        try:
            if not isinstance(data, dict) or value_of(data) != parts[3] or key_of(data) != parts[2]:
                return False
        except (KeyError, TypeError, AttributeError, ValueError):  # outs that are no list of mappings...
            return False
        p = self.path(parts[2], parts[3])
        os.makedirs(os.path.dirname(p), exist_ok=True)
        atomic_write_bytes(p, raw)
        return True

    def lookup(self, deps_entry: dict[str, Any], out_paths: list[str]) -> dict[str, Any] | None:
        """The newest cached entry for a stage whose command, deps and params are ``deps_entry``."""
        probe = dict(deps_entry)
        probe["outs"] = [{"path": p} for p in sorted(out_paths)]
        key = key_of(probe)
        d = os.path.join(self.dir, key[:2], key)
        try:
            names = [n for n in os.listdir(d) if not n.startswith(".")]
        except FileNotFoundError:
            return None
        names.sort(key=lambda n: os.path.getmtime(os.path.join(d, n)), reverse=True)
        for n in names:
            try:
                data = load_file(os.path.join(d, n), n)
                check_lock_stage(data, n)  # dvc skips an entry its lock-stage schema refuses, so does tide
            except (TideError, OSError):
                continue
            if isinstance(data, dict) and isinstance(data.get("outs"), list):
                return data
        return None


def sync_by_default(root: str) -> bool:
    """``pipeline.run_cache`` in tide.yaml: push and pull the run cache without ``--run-cache``."""
    from tide.core.errors import ConfigError
    from tide.core.settings import load

    value = load(root).get("pipeline.run_cache", False)
    if not isinstance(value, bool):
        raise ConfigError("tide.yaml: pipeline.run_cache must be true or false")
    return value
