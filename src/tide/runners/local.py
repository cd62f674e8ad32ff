"""``local``: runners on this machine (no ``--cloud``). The machine outlives nothing: the
watchdog's end is the runner's end, so ``poweroff`` is empty."""

from __future__ import annotations

import shlex

from tide.runners.base import Capabilities
from tide.runners.hosts import HostProvisioner
from tide.runners.transport import LocalShell

CAPABILITIES = Capabilities(ephemeral=False, poweroff="")


def make(base_dir: str, **_: object) -> HostProvisioner:
    """``base_dir``: where runner directories live (``~/.local/share/tide/runners`` by default)."""
    return HostProvisioner("local", LocalShell(), shlex.quote(base_dir), CAPABILITIES)
