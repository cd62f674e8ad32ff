"""``gs://bucket/path`` remotes (Google Cloud Storage), on gcsfs.

Options: ``projectname``, ``credentialpath`` (a service-account JSON file), ``endpointurl``
(an emulator or a private endpoint), ``allow_anonymous_login``. Without a credential path,
gcsfs uses Google's default credentials chain (``GOOGLE_APPLICATION_CREDENTIALS``...).
"""

from __future__ import annotations

from typing import Any

from tide.core.config import Env, to_bool
from tide.storage.base import Capabilities, RemoteSpec
from tide.storage.fsbackend import FsspecBackend

CAPS = Capabilities(atomic_put=True, rename=False, cheap_listing=True, flat_listing=True, default_jobs=16)


def gcsfs_kwargs(spec: RemoteSpec) -> dict[str, Any]:
    kw: dict[str, Any] = {"skip_instance_cache": True}
    if spec.get("projectname"):
        kw["project"] = spec.get("projectname")
    if spec.get("credentialpath"):
        kw["token"] = spec.get("credentialpath")
    if spec.get("allow_anonymous_login") and to_bool(spec.get("allow_anonymous_login"), "allow_anonymous_login"):
        kw["token"] = "anon"
    if spec.get("endpointurl"):
        kw["endpoint_url"] = spec.get("endpointurl")
    return kw


def open_backend(spec: RemoteSpec, env: Env) -> FsspecBackend:
    # the plain JSON-API filesystem: newer gcsfs releases otherwise probe each bucket's layout over
    # gRPC first, which private endpoints and emulators do not serve
    from gcsfs.core import GCSFileSystem

    fs = GCSFileSystem(**gcsfs_kwargs(spec))
    root = spec.url.split("://", 1)[1].strip("/")
    return FsspecBackend(fs, root, spec.url, CAPS)
