"""``ssh``: runners on an existing machine reached with OpenSSH (``--cloud ssh --host USER@HOST[:PORT]``).

tide never powers off a machine it did not create: ending a runner stops tide's processes and
removes ``~/.tide-runners/NAME`` on the host. The host needs ``bash`` and ``python3``.
"""

from __future__ import annotations

from tide.core.errors import UsageError
from tide.runners.base import Capabilities
from tide.runners.hosts import HostProvisioner
from tide.runners.transport import SSHShell, SSHTarget

CAPABILITIES = Capabilities(ephemeral=False, poweroff="")
REMOTE_BASE = '"$HOME/.tide-runners"'


def shell_for(host: str, key: str = "", known_hosts: str = "") -> SSHShell:
    if not host:
        raise UsageError("--cloud ssh needs --host USER@HOST[:PORT]")
    return SSHShell(SSHTarget.parse(host), key=key, known_hosts=known_hosts)


def make(host: str = "", ssh_private: str = "", known_hosts: str = "", **_: object) -> HostProvisioner:
    return HostProvisioner("ssh", shell_for(host, ssh_private, known_hosts), REMOTE_BASE, CAPABILITIES)
