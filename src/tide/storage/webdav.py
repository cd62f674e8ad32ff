"""``webdav://`` and ``webdavs://`` remotes, on webdav4 (collections created as needed).

The whole URL (``webdavs://host/remote.php/dav/files/me/store``) becomes the client's base URL
over http(s); keys are paths below it. Options: ``user``, ``password``, ``token`` (bearer),
``custom_auth_header`` (with ``password`` as its value), ``ssl_verify``, ``cert_path``/``key_path``,
``timeout``. Uploads go to a temporary name and are MOVEd into place.
"""

from __future__ import annotations

from typing import Any

from tide.core.config import Env, to_bool
from tide.storage.base import Capabilities, RemoteSpec
from tide.storage.fsbackend import FsspecBackend

CAPS = Capabilities(atomic_put=False, rename=True, cheap_listing=True, default_jobs=8)


def client_kwargs(spec: RemoteSpec) -> tuple[str, dict[str, Any]]:
    scheme, rest = spec.url.split("://", 1)
    base = ("https" if scheme.lower() == "webdavs" else "http") + "://" + rest.rstrip("/")
    kw: dict[str, Any] = {}
    if spec.get("token"):
        kw["auth"] = None
        kw["headers"] = {"Authorization": f"Bearer {spec.get('token')}"}
    elif spec.get("custom_auth_header"):
        kw["headers"] = {spec.get("custom_auth_header"): spec.get("password") or ""}
    elif spec.get("user"):
        kw["auth"] = (spec.get("user"), spec.get("password") or "")
    if spec.get("ssl_verify") is not None:
        v = spec.get("ssl_verify")
        kw["verify"] = to_bool(v, "ssl_verify") if v.lower() in ("true", "false") else v
    if spec.get("cert_path"):
        kw["cert"] = (spec.get("cert_path"), spec.get("key_path")) if spec.get("key_path") else spec.get("cert_path")
    if spec.get("timeout"):
        kw["timeout"] = float(spec.get("timeout"))
    return base, kw


def open_backend(spec: RemoteSpec, env: Env) -> FsspecBackend:
    from webdav4.fsspec import WebdavFileSystem

    base, kw = client_kwargs(spec)
    fs = WebdavFileSystem(base, skip_instance_cache=True, **kw)
    return FsspecBackend(fs, "", spec.url, CAPS, makedirs=True)
