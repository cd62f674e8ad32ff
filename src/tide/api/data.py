"""``tide.api.open/read/get_url`` (dvc.api's): a file of a repository at a revision, git-tracked or
data tracked by dvc/tide, streamed from the source's cache or its remote."""

from __future__ import annotations

import builtins
import io
import os
from contextlib import contextmanager

from tide.core.errors import UsageError


def _repo_url(repo: str | None) -> str:
    if repo:
        return repo
    from tide.workspace.repo import Repo

    return Repo.find().root


def source_of(repo: str | None, rev: str | None, remote: str | None, config=None, remote_config=None):
    """``config``: a dict in dvc's config layout (``{"core": {...}, "remote": {NAME: {...}}}``) or a
    config file's path merged over the source's config; ``remote_config``: options merged into the
    remote read from (``remote`` or the default), as dvc.api's."""
    from tide.ops.registry_source import open_source

    return open_source(_repo_url(repo), rev, None, remote, config=config, remote_config=remote_config)


def open_stream(src, path: str):
    from tide.core.errors import MissingError
    from tide.ops.registry_get import plan

    pl = plan(src, path)
    if pl.isdir:
        raise IsADirectoryError(f"'{path}' is a directory")
    item = pl.items[0]
    if item.ref is not None:
        return src.open_object(item.ref)
    data = src.read(item.blob)
    if data is None:
        raise MissingError(f"'{path}' cannot be read from '{src.url}'")
    return io.BytesIO(data)


@contextmanager
def open(path: str, repo: str | None = None, rev: str | None = None, remote: str | None = None,
         mode: str = "r", encoding: str | None = None, config=None, remote_config=None):
    """Open ``path`` of ``repo`` (default: the repository around the current directory) at ``rev``
    for reading, as ``dvc.api.open``: ``mode`` ``"r"`` (text, ``encoding``) or ``"rb"``."""
    if mode not in ("r", "rb", "rt"):
        raise UsageError(f"tide.api.open only reads: mode '{mode}' is not 'r' or 'rb'")
    src = source_of(repo, rev, remote, config, remote_config)
    try:
        raw = open_stream(src, path)
        try:
            if "b" in mode:
                yield raw
            else:
                text = io.TextIOWrapper(io.BufferedReader(RawStream(raw)), encoding=encoding or "utf-8")
                yield text
        finally:
            raw.close()
    finally:
        src.close()


class RawStream(io.RawIOBase):
    def __init__(self, stream) -> None:
        self._s = stream

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self._s.read(len(b))
        n = len(data)
        b[:n] = data
        return n

    def close(self) -> None:
        if not self.closed:
            self._s.close()
        super().close()


def read(path: str, repo: str | None = None, rev: str | None = None, remote: str | None = None,
         mode: str = "r", encoding: str | None = None, config=None, remote_config=None):
    """The whole content of ``path`` (``str`` in mode ``"r"``, ``bytes`` in ``"rb"``)."""
    with open(path, repo, rev, remote, mode, encoding, config, remote_config) as f:
        return f.read()


def get_url(path: str, repo: str | None = None, rev: str | None = None, remote: str | None = None,
            config=None, remote_config=None) -> str:
    """The URL of ``path``'s object on the remote (``.../files/md5/ab/cdef...``), as dvc.api.get_url."""
    from tide.core.errors import MissingError
    from tide.objects.ref import ObjRef
    from tide.objects.remote import object_key

    with source_of(repo, rev, remote, config, remote_config) as src:
        outs = dict(src.outs())
        key = path.replace(os.sep, "/").strip("/")
        out = outs.get(key)
        ref = ObjRef(out.md5, out.legacy) if out is not None else None
        if ref is None:
            from tide.ops.registry_get import plan

            items = plan(src, key).items
            if len(items) != 1 or items[0].ref is None or items[0].relpath:
                raise MissingError(f"'{path}' is not tracked by dvc/tide in '{src.url}'")
            ref = items[0].ref
        url = src.resolved_remote().spec.url
    return url.rstrip("/") + "/" + object_key(ref)


def model_get(spec: str, repo: str | None = None, out: str | None = None, force: bool = False) -> str:
    """``tide model get`` as a function: fetch the file of ``NAME@VERSION``, ``NAME#STAGE`` or ``NAME``
    (its latest version) registered in ``repo``; returns the path written."""
    from tide.ops.registry_model import model_get as _model_get

    return _model_get(spec, repo, out, force)[1]


_ = builtins  # ``open`` above shadows the builtin inside this module on purpose (dvc.api's name)
