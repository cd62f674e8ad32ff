"""``http://`` and ``https://`` remotes: read-only (pull, fetch, status -c), on fsspec's HTTP filesystem.

A static web server that serves a DVC remote's directory tree is enough. HTTP cannot list a
tree, so existence is checked per object. Options: ``user``/``password`` (basic auth),
``custom_auth_header`` (with ``password`` as its value), ``ssl_verify``, ``read_timeout``.
"""

from __future__ import annotations

from typing import Any

from tide.core.config import Env, to_bool
from tide.storage.base import Capabilities, RemoteSpec
from tide.storage.fsbackend import FsspecBackend

CAPS = Capabilities(atomic_put=False, rename=False, writable=False, listable=False, cheap_listing=False,
                    default_jobs=16)


def client_kwargs(spec: RemoteSpec) -> dict[str, Any]:
    kw: dict[str, Any] = {"skip_instance_cache": True}
    client: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if spec.get("custom_auth_header"):
        headers[spec.get("custom_auth_header")] = spec.get("password") or ""
    elif spec.get("token"):
        headers["Authorization"] = f"Bearer {spec.get('token')}"
    elif spec.get("user"):
        import aiohttp

        client["auth"] = aiohttp.BasicAuth(spec.get("user"), spec.get("password") or "")
    if headers:
        client["headers"] = headers
    if spec.get("read_timeout") or spec.get("connect_timeout"):
        import aiohttp

        client["timeout"] = aiohttp.ClientTimeout(
            sock_read=float(spec.get("read_timeout") or 300), sock_connect=float(spec.get("connect_timeout") or 60)
        )
    if spec.get("ssl_verify") is not None and not to_bool(spec.get("ssl_verify"), "ssl_verify"):
        kw["ssl"] = False
    if client:
        kw["client_kwargs"] = client
    return kw


def open_backend(spec: RemoteSpec, env: Env) -> FsspecBackend:
    from fsspec.implementations.http import HTTPFileSystem

    fs = HTTPFileSystem(**client_kwargs(spec))
    return FsspecBackend(fs, spec.url.rstrip("/"), spec.url, CAPS)
