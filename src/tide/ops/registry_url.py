"""``tide get-url URL [OUT]``: download a file or a directory (every key under it) from any URL a
remote can have (a local path, ``s3://``, ``gs://``, ``http(s)://``, ...) through the storage
backends; written to a temporary name, renamed into place when complete."""

from __future__ import annotations

import os
import shutil

from tide.core.config import Env
from tide.core.errors import MissingError, UsageError
from tide.storage.base import RemoteSpec

CHUNK = 1 << 20


def split_url(url: str) -> tuple[str, str]:
    """(the URL of the parent "directory", the name in it)."""
    trimmed = url.rstrip("/")
    parent, _, name = trimmed.rpartition("/")
    if not name or not parent or parent.endswith(":/") or parent.endswith(":"):
        if "://" not in url and not parent:  # a bare relative name
            return ".", trimmed
        raise UsageError(f"'{url}' names no file or directory")
    return parent, name


def open_parent(url: str, options: dict[str, str] | None = None, env: Env | None = None):
    from tide.storage.wrappers import open_retrying

    parent, name = split_url(url)
    return open_retrying(RemoteSpec("", parent, tuple(sorted((options or {}).items()))), env or Env()), name


def get_url(url: str, out: str | None = None, options: dict[str, str] | None = None, force: bool = False,
            env: Env | None = None) -> str:
    from tide.core.fsutil import tmp_name
    from tide.ops.registry_get import OutputExists

    backend, name = open_parent(url, options, env)
    dst = out or name
    if os.path.lexists(dst) and not force:
        raise OutputExists(f"'{dst}' already exists locally; to override it, re-run with --force")
    keys = sorted(backend.list(name + "/")) or ([name] if backend.exists(name) else [])
    if not keys:
        raise MissingError(f"'{url}' does not exist")
    parent = os.path.dirname(os.path.abspath(dst))
    os.makedirs(parent, exist_ok=True)
    tmp = tmp_name(os.path.abspath(dst))
    try:
        for key in keys:
            target = tmp if key == name else os.path.join(tmp, *key[len(name) + 1:].split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with backend.open(key) as src, open(target, "wb") as f:
                shutil.copyfileobj(src, f, CHUNK)
        if os.path.lexists(dst):
            if os.path.isdir(dst) and not os.path.islink(dst):
                shutil.rmtree(dst)
            else:
                os.unlink(dst)
        os.replace(tmp, dst)
    except BaseException:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    return dst
