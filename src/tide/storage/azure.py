"""``azure://container/path`` remotes (Azure Blob Storage), on adlfs.

Options as DVC names them: ``account_name``, ``account_key``, ``connection_string``,
``sas_token``, ``tenant_id``/``client_id``/``client_secret`` (service principal),
``allow_anonymous_login``. ``AZURE_STORAGE_CONNECTION_STRING`` and ``AZURE_STORAGE_ACCOUNT`` are
honoured as dvc-azure does. A block-blob upload is atomic, so objects go to their final name.
"""

from __future__ import annotations

from typing import Any

from tide.core.config import Env, to_bool
from tide.storage.base import Capabilities, RemoteSpec
from tide.storage.fsbackend import FsspecBackend

CAPS = Capabilities(atomic_put=True, rename=False, cheap_listing=True, flat_listing=True, default_jobs=16)


def adlfs_kwargs(spec: RemoteSpec, env: Env) -> dict[str, Any]:
    kw: dict[str, Any] = {"skip_instance_cache": True}
    conn = spec.get("connection_string") or env.get("AZURE_STORAGE_CONNECTION_STRING")
    if conn:
        kw["connection_string"] = conn
    account = spec.get("account_name") or env.get("AZURE_STORAGE_ACCOUNT")
    if account:
        kw["account_name"] = account
    for opt in ("account_key", "sas_token", "tenant_id", "client_id", "client_secret"):
        if spec.get(opt):
            kw[opt] = spec.get(opt)
    if spec.get("allow_anonymous_login") and to_bool(spec.get("allow_anonymous_login"), "allow_anonymous_login"):
        kw["anon"] = True
    return kw


def open_backend(spec: RemoteSpec, env: Env) -> FsspecBackend:
    import adlfs

    fs = adlfs.AzureBlobFileSystem(**adlfs_kwargs(spec, env))
    root = spec.url.split("://", 1)[1].strip("/")
    return FsspecBackend(fs, root, spec.url, CAPS)
