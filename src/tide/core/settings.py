"""tide's own settings: ``tide.yaml`` at the repository root (never in DVC's files).

One mapping of sections (``forge:``, ``pipeline:``, ``registry:`` ...). Each area validates its own
section; this module only reads the file, once, and hands out sections.

    pipeline:
      run_cache: true     # push/pull the run cache by default (tide push / pull / repro --pull)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from tide.core import yamlio
from tide.core.errors import ConfigError

FILE_NAME = "tide.yaml"


@dataclass(frozen=True)
class Settings:
    path: str
    data: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name) or {}
        if not isinstance(value, dict):
            raise ConfigError(f"{FILE_NAME}: '{name}' must be a mapping")
        return value

    def get(self, dotted: str, default: Any = None) -> Any:
        section, _, key = dotted.partition(".")
        return self.section(section).get(key, default) if key else self.data.get(section, default)


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
