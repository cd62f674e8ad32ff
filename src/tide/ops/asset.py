"""``tide asset publish``: store a file where a report can link to it.

``to="forge"``: the forge's own upload feature (GitLab uploads, Bitbucket downloads, Gitea
attachments, GitHub: the repository's ``tide-assets`` branch, local forge: its assets directory).
``to="remote"``: the project's DVC remote, under ``tide-assets/<sha256>/<name>``; the link is the
remote's public HTTP(S) URL when it has one. Never a third-party host.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass

from tide.core.errors import ForgeError, MissingError, UsageError
from tide.forge.base import Target
from tide.forge.report import asset_markdown, guess_mime
from tide.ops.forge import ForgeContext, open_forge

DESTINATIONS = ("forge", "remote")


@dataclass(frozen=True)
class Published:
    url: str
    markdown: str


def uploader(ctx: ForgeContext, to: str, target: Target | None) -> Callable[[str, bytes, str], str]:
    if to not in DESTINATIONS:
        raise UsageError(f"--to must be one of {', '.join(DESTINATIONS)}")
    if to == "remote":
        return lambda name, data, mime: _to_remote(ctx, name, data)
    caps = ctx.forge.capabilities
    if not caps.native_upload:
        raise ForgeError(f"{ctx.forge.name}: the forge cannot store files; publish with --to remote")

    def up(name: str, data: bytes, mime: str) -> str:
        if caps.upload_needs_target and (target is None or target.kind == "commit"):
            raise ForgeError(
                f"{ctx.forge.name}: uploads attach to an issue or {caps.pr_noun}; comment on one (--target pr)"
                " or publish with --to remote"
            )
        return ctx.forge.upload(name, data, mime, target).url

    return up


def _to_remote(ctx: ForgeContext, name: str, data: bytes) -> str:
    """Store in the project's default DVC remote; the link is that remote's URL for the key."""
    import io

    from tide.storage.base import RemoteSpec
    from tide.storage.registry import open_backend
    from tide.workspace.repo import Repo

    repo = Repo.find(ctx.root, ctx.env)
    remote = repo.option("core.remote")
    if not remote:
        raise UsageError("no default remote: set one with 'tide remote default NAME' or publish with --to forge")
    opts = repo.settings.get(f"remote.{remote}", {})
    url = opts.get("url")
    if not url:
        raise UsageError(f"remote '{remote}' has no url")
    key = f"tide-assets/{hashlib.sha256(data).hexdigest()}/{os.path.basename(name)}"
    backend = open_backend(RemoteSpec(remote, url, tuple(sorted(opts.items()))), ctx.env)
    try:
        if not backend.exists(key):
            backend.put_stream(io.BytesIO(data), key, len(data))
    finally:
        backend.close()
    base = url if "://" in url else os.path.abspath(url)
    if "://" not in base:
        from pathlib import Path

        return Path(base, key).as_uri()
    return base.rstrip("/") + "/" + key


def publish_file(
    file: str,
    *,
    md: bool = False,
    title: str = "",
    to: str = "forge",
    mime: str | None = None,
    target: str | None = None,
    path: str | None = None,
    ctx: ForgeContext | None = None,
    **forge_options: str | None,
) -> Published:
    try:
        with open(file, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise MissingError(f"'{file}' does not exist")
    except IsADirectoryError:
        raise UsageError(f"'{file}' is a directory")
    ctx = ctx or open_forge(path, **forge_options)
    tgt = None
    if target:
        from tide.ops.comment import resolve_target

        tgt = resolve_target(ctx, target)
    mime = mime or guess_mime(file, data)
    url = uploader(ctx, to, tgt)(os.path.basename(file), data, mime)
    return Published(url, asset_markdown(url, title, mime) if md else url)
