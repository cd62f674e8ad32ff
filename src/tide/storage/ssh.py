"""``ssh://[user@]host[:port]/path`` remotes over SFTP, on sshfs (asyncssh).

Options as DVC names them: ``user``, ``port``, ``keyfile``, ``password``, ``passphrase``,
``timeout``, ``allow_agent``, ``max_sessions``. Like DVC, host keys are not checked unless
``known_hosts`` names a file. Uploads go to a temporary name and are renamed into place.
"""

from __future__ import annotations

import getpass
from typing import Any
from urllib.parse import unquote, urlsplit

from tide.core.config import Env, to_bool, to_int
from tide.storage.base import Capabilities, RemoteSpec
from tide.storage.fsbackend import FsspecBackend

CAPS = Capabilities(atomic_put=False, rename=True, cheap_listing=True, default_jobs=8)


def connect_kwargs(spec: RemoteSpec, env: Env) -> tuple[str, dict[str, Any], str]:
    parts = urlsplit(spec.url)
    host = parts.hostname or ""
    kw: dict[str, Any] = {"skip_instance_cache": True}
    kw["port"] = to_int(spec.get("port"), "port") if spec.get("port") else (parts.port or 22)
    kw["username"] = spec.get("user") or (unquote(parts.username) if parts.username else None) or getpass.getuser()
    if spec.get("keyfile"):
        kw["client_keys"] = [spec.get("keyfile")]
    if spec.get("password"):
        kw["password"] = spec.get("password")
    if spec.get("passphrase"):
        kw["passphrase"] = spec.get("passphrase")
    kw["known_hosts"] = spec.get("known_hosts") or None
    if spec.get("timeout"):
        kw["connect_timeout"] = float(spec.get("timeout"))
    if spec.get("allow_agent") is not None and not to_bool(spec.get("allow_agent"), "allow_agent"):
        kw["agent_path"] = None
    if spec.get("max_sessions"):
        kw["max_sessions"] = to_int(spec.get("max_sessions"), "max_sessions")
    path = unquote(parts.path) or "."
    return host, kw, path


def open_backend(spec: RemoteSpec, env: Env) -> FsspecBackend:
    """Connect (one SSH handshake: a reset during it is ``StorageTransient``, which the caller's
    retry policy repeats; see ``wrappers.open_retrying``)."""
    from sshfs import SSHFileSystem

    from tide.storage.errors import translate

    host, kw, path = connect_kwargs(spec, env)
    try:
        fs = SSHFileSystem(host, **kw)
    except Exception as exc:
        raise translate(exc, f"connect to {host}:{kw['port']}") from exc
    return FsspecBackend(fs, path, spec.url, CAPS, makedirs=True)
