"""Running bash on a host: this machine (:class:`LocalShell`) or one reached with OpenSSH
(:class:`SSHShell`). ``tide run`` and the host provisioners (local, ssh) talk to a :class:`Shell`.

OpenSSH's own client is used (not a Python SSH library) so users' ``~/.ssh/config``, agents and
jump hosts work as they do for ``ssh``. The launcher's environment never crosses to the host: ssh
sends no variables we did not name, and the local shell gets a scrubbed environment.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from typing import Protocol

from tide.core.errors import RunnerError, UsageError
from tide.runners.watchdog import scrub_env


class Shell(Protocol):
    """Runs bash scripts on one host.

    - ``run(script, input=..., timeout=...)`` runs ``script`` with ``bash -c`` and returns the
      completed process (bytes); with ``check`` a non-zero exit raises RunnerError naming ``where``.
    - ``popen(script)`` starts it with stdout piped (stderr merged) for streaming.
    - ``where`` names the host in messages; ``is_local`` is True for this machine.
    """

    where: str
    is_local: bool

    def run(self, script: str, *, input: bytes | None = None, timeout: float | None = None,
            check: bool = True) -> subprocess.CompletedProcess: ...
    def popen(self, script: str) -> subprocess.Popen: ...


def _checked(proc: subprocess.CompletedProcess, where: str, check: bool) -> subprocess.CompletedProcess:
    if check and proc.returncode != 0:
        err = (proc.stderr or b"").decode(errors="replace").strip().splitlines()
        last = err[-1] if err else f"exit code {proc.returncode}"
        raise RunnerError(f"{where}: {last}")
    return proc


@dataclass(frozen=True)
class LocalShell:
    where: str = "local"
    is_local: bool = True

    def _env(self) -> dict[str, str]:
        return scrub_env(dict(os.environ))

    def run(self, script: str, *, input: bytes | None = None, timeout: float | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
        try:
            proc = subprocess.run(["bash", "-c", script], input=input, capture_output=True, timeout=timeout,
                                  env=self._env(), check=False)
        except subprocess.TimeoutExpired:
            raise RunnerError(f"{self.where}: command timed out after {timeout:.0f}s")
        return _checked(proc, self.where, check)

    def popen(self, script: str) -> subprocess.Popen:
        return subprocess.Popen(["bash", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=self._env())


_HOST_RE = re.compile(r"^(?:(?P<user>[^@/:\s]+)@)?(?P<host>\[[0-9a-fA-F:]+\]|[^@/:\s]+)(?::(?P<port>\d+))?$")


@dataclass(frozen=True)
class SSHTarget:
    """A host to reach with ssh; every one is checked (a host such as ``-oProxyCommand=...`` would be
    an option to ssh), whether parsed from ``--on``/``--host``/tide.yaml or given by a cloud's API."""

    host: str
    user: str = ""
    port: int = 22

    def __post_init__(self) -> None:
        from tide.core import argv

        argv.host(self.host, "SSH host")
        argv.user(self.user, "SSH user")
        argv.port(self.port, "SSH port")

    @classmethod
    def parse(cls, value: str) -> SSHTarget:
        v = value.strip()
        if v.startswith("ssh://"):
            v = v[len("ssh://"):].rstrip("/")
        m = _HOST_RE.match(v)
        if not m:
            raise UsageError(f"'{value}' is not an SSH host: use USER@HOST[:PORT] or ssh://USER@HOST[:PORT]")
        try:
            return cls(m.group("host").strip("[]"), m.group("user") or "", int(m.group("port") or 22))
        except UsageError as exc:
            raise UsageError(f"'{value}' is not an SSH host ({exc}): use USER@HOST[:PORT]")

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port != 22 else ""
        return f"{user}{self.host}{port}"


@dataclass(frozen=True)
class SSHShell:
    target: SSHTarget
    key: str = ""                 # private key file (else ssh's own config and agent)
    known_hosts: str = ""         # known_hosts file (else ssh's default)
    connect_timeout: int = 10
    is_local: bool = False

    @property
    def where(self) -> str:
        return f"ssh {self.target}"

    def argv(self, remote: str) -> list[str]:
        args = ["ssh", "-T", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new",
                "-o", f"ConnectTimeout={self.connect_timeout}", "-o", "ServerAliveInterval=5",
                "-o", "ServerAliveCountMax=3", "-o", "LogLevel=ERROR", "-p", str(self.target.port)]
        if self.key:
            args += ["-i", self.key, "-o", "IdentitiesOnly=yes"]
        if self.known_hosts:
            args += ["-o", f"UserKnownHostsFile={self.known_hosts}"]
        if self.target.user:
            args += ["-l", self.target.user]
        return [*args, "--", self.target.host, remote]  # '--': the host is never read as an option

    def run(self, script: str, *, input: bytes | None = None, timeout: float | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
        try:
            proc = subprocess.run(self.argv("bash -c " + shlex.quote(script)), input=input, capture_output=True,
                                  timeout=timeout, check=False)
        except FileNotFoundError:
            raise RunnerError("the OpenSSH client 'ssh' is not installed")
        except subprocess.TimeoutExpired:
            raise RunnerError(f"{self.where}: command timed out after {timeout:.0f}s")
        if proc.returncode == 255:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise RunnerError(f"{self.where}: connection failed: {err[-1] if err else 'ssh exited 255'}")
        return _checked(proc, self.where, check)

    def popen(self, script: str) -> subprocess.Popen:
        return subprocess.Popen(self.argv("bash -c " + shlex.quote(script)), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
