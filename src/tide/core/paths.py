"""Paths that come from configuration stay inside the repository.

``tide.yaml`` is committed with the project, so a pull request can change it: a setting such as
``gate.records: ../../elsewhere`` must not make tide write (or read) outside the repository. Every
path setting goes through :func:`config_path`, which resolves symbolic links and refuses, in one
line, an absolute path or one that leads outside the repository. A user who wants a place outside
names it on the command line (an absolute path there is explicit, and visible in the command).
"""

from __future__ import annotations

import os
import re

from tide.core.errors import PathError

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(value: str) -> bool:
    return bool(_URL.match(value))


def config_path(root: str, value: str, where: str, source: str = "tide.yaml") -> str:
    """The absolute path of ``value``, a path relative to the repository ``root`` read from
    ``source`` at ``where`` (e.g. ``gate.records``); PathError when it is absolute or leads outside
    the repository, directly (``..``) or through a symbolic link."""
    if os.path.isabs(value) or value.startswith("~"):
        raise PathError(f"{source}: '{where}: {value}' is an absolute path; configuration paths stay inside "
                        "the repository (give a path relative to its root)")
    full = os.path.normpath(os.path.join(root, value))
    real_root = os.path.realpath(root)
    real = os.path.realpath(full)
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        how = "through a symbolic link" if os.path.normpath(full).startswith(os.path.normpath(root)) else ""
        raise PathError(f"{source}: '{where}: {value}' leads outside the repository{' ' + how if how else ''}; "
                        "configuration paths stay inside it")
    return full
