"""``tide asset publish``: store a file where a report can link to it.

``to="forge"``: the forge's own upload feature (GitLab uploads, Bitbucket downloads, Gitea
attachments, GitHub: the repository's ``tide-assets`` branch, local forge: its assets directory).
``to="remote"``: the project's DVC remote, under ``tide-assets/<sha256>/<name>``; the link is the
remote's public HTTP(S) URL when it has one. ``to="url"`` (CML's ``--publish-url``): an asset host
the user runs, spoken to with CML's protocol (one ``POST`` of the raw file; the answer's body is the
public URL), e.g. iterative/minroud-s3. Never a third-party host the user did not name.
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

DESTINATIONS = ("forge", "remote", "url")


@dataclass(frozen=True)
class Published:
    url: str
    markdown: str


def uploader(ctx: ForgeContext, to: str, target: Target | None, url: str = "") -> Callable[[str, bytes, str], str]:
    if to not in DESTINATIONS:
        raise UsageError(f"--to must be one of {', '.join(DESTINATIONS)}")
    if to == "url":
        if not url:
            raise UsageError("publishing to an asset host needs its URL (--publish-url URL)")
        return lambda name, data, mime: to_asset_host(url, name, data, mime)
    if url:
        raise UsageError("--publish-url sends files to that host: it cannot be combined with --native or --to")
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


def to_asset_host(endpoint: str, name: str, data: bytes, mime: str) -> str:
    """Upload to a self-hosted asset server with CML's protocol: ``POST <endpoint>`` with the raw
    file, ``Content-Type`` and ``Content-Disposition: inline; filename="<name>"``; the response body
    is the file's public URL. Credentials in the endpoint URL (``https://user:pass@host``) are sent as
    basic auth and never printed."""
    from urllib.parse import quote, urlsplit

    from tide.forge.http import Api

    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("--publish-url must be an http(s) URL")
    secrets = tuple(x for x in (parts.password, parts.username) if x)
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    base = f"{parts.scheme}://{host}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
    api = Api("asset host", base, {}, secrets=secrets)
    auth = (parts.username or "", parts.password or "") if parts.username else None
    safe = os.path.basename(name).replace('"', "")
    try:
        resp = api.request("POST", "", content=data, auth=auth, what=f"publish {safe}", headers={
            "Content-Type": mime, "Content-Disposition": f'inline; filename="{quote(safe)}"'})
    finally:
        api.close()
    url = resp.text.strip()
    if not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
        raise ForgeError(f"asset host {host}: publish {safe}: the answer is not a URL")
    return url


def _to_remote(ctx: ForgeContext, name: str, data: bytes) -> str:
    """Store in the project's default DVC remote; the link is that remote's URL for the key."""
    import io

    from tide.storage.base import RemoteSpec
    from tide.storage.wrappers import open_retrying
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
    backend = open_retrying(RemoteSpec(remote, url, tuple(sorted(opts.items()))), ctx.env)
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
    url: str = "",
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
    mime = mime or guess_mime(file, data)
    if to == "url" or url:  # a host the user named: no forge involved
        if to not in ("url", "forge"):
            raise UsageError("--publish-url sends files to that host: it cannot be combined with --to remote")
        link = to_asset_host(url, os.path.basename(file), data, mime)
        return Published(link, asset_markdown(link, title, mime) if md else link)
    ctx = ctx or open_forge(path, **forge_options)
    tgt = None
    if target:
        from tide.ops.comment import resolve_target

        tgt = resolve_target(ctx, target)
    link = uploader(ctx, to, tgt, url)(os.path.basename(file), data, mime)
    return Published(link, asset_markdown(link, title, mime) if md else link)
