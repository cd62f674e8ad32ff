"""Compute kinds by the name users type (``--cloud KIND``): data, imported lazily."""

from __future__ import annotations

import importlib
from typing import Any

from tide.core.errors import UsageError

KINDS: dict[str, str] = {
    "local": "tide.runners.local",
    "ssh": "tide.runners.ssh",
    "aws": "tide.runners.aws",
    "gcp": "tide.runners.gcp",
    "azure": "tide.runners.azure",
    "kubernetes": "tide.runners.kubernetes",
}


def module(kind: str) -> Any:
    if kind not in KINDS:
        raise UsageError(f"unknown --cloud '{kind}' (known: {', '.join(KINDS)})")
    return importlib.import_module(KINDS[kind])


def capabilities(kind: str) -> Any:
    return module(kind).CAPABILITIES


def make(kind: str, **ctx: Any) -> Any:
    """A provisioner for ``kind``; ``ctx`` holds what the kinds need (env, region, host, base_dir...)."""
    return module(kind).make(**ctx)
