"""``s3://bucket/path`` remotes (AWS and S3-compatible servers via ``endpointurl``), on s3fs.

DVC's option names map to s3fs/botocore settings as dvc-s3 maps them. Credentials come from the
options, a profile, ``credentialpath`` or botocore's usual chain (``AWS_*`` environment
variables, ``~/.aws``). A PUT (or completed multipart upload) is atomic on S3, so objects are
written under their final key directly.
"""

from __future__ import annotations

from typing import Any

from tide.core.config import Env, to_bool
from tide.storage.base import Capabilities, RemoteSpec, StorageNotFound
from tide.storage.fsbackend import FsspecBackend

CAPS = Capabilities(atomic_put=True, rename=False, cheap_listing=True, flat_listing=True, default_jobs=16)


def s3fs_kwargs(spec: RemoteSpec) -> dict[str, Any]:
    opt = spec.get
    kw: dict[str, Any] = {"skip_instance_cache": True}
    client: dict[str, Any] = {}
    config: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if opt("endpointurl"):
        client["endpoint_url"] = opt("endpointurl")
    if opt("region"):
        client["region_name"] = opt("region")
    if opt("ssl_verify") is not None:
        v = opt("ssl_verify")
        client["verify"] = to_bool(v, "ssl_verify") if v.lower() in ("true", "false") else v
    if opt("use_ssl") is not None:
        kw["use_ssl"] = to_bool(opt("use_ssl"), "use_ssl")
    if opt("profile"):
        kw["profile"] = opt("profile")
    if opt("access_key_id"):
        kw["key"] = opt("access_key_id")
    if opt("secret_access_key"):
        kw["secret"] = opt("secret_access_key")
    if opt("session_token"):
        kw["token"] = opt("session_token")
    if opt("allow_anonymous_login") and to_bool(opt("allow_anonymous_login"), "allow_anonymous_login"):
        kw["anon"] = True
    for name, key in (("read_timeout", "read_timeout"), ("connect_timeout", "connect_timeout")):
        if opt(name):
            config[key] = int(opt(name))
    # botocore retries once more itself; tide's retry wrapper does the patient retrying
    config.setdefault("retries", {"max_attempts": 2, "mode": "standard"})
    # a fixed User-Agent: botocore otherwise rebuilds it from ~40 components on every request
    # (a tenth of the client's CPU time when pushing 10,000 small files)
    config.setdefault("user_agent", f"tide/{_version()} {_botocore_ua()}")
    for name, key in (("sse", "ServerSideEncryption"), ("sse_kms_key_id", "SSEKMSKeyId"), ("acl", "ACL"),
                      ("sse_customer_algorithm", "SSECustomerAlgorithm"), ("sse_customer_key", "SSECustomerKey"),
                      ("grant_read", "GrantRead"), ("grant_read_acp", "GrantReadACP"),
                      ("grant_write_acp", "GrantWriteACP"), ("grant_full_control", "GrantFullControl")):
        if opt(name):
            extra[key] = opt(name)
    if client:
        kw["client_kwargs"] = client
    kw["config_kwargs"] = config
    if extra:
        kw["s3_additional_kwargs"] = extra
    return kw


def _version() -> str:
    from tide import __version__

    return __version__


def _botocore_ua() -> str:
    try:
        import botocore

        return f"botocore/{botocore.__version__}"
    except ImportError:
        return "botocore"


def split_url(url: str) -> tuple[str, str]:
    rest = url.split("://", 1)[1].strip("/")
    bucket, _, path = rest.partition("/")
    return bucket, path


class S3Backend(FsspecBackend):
    """One HEAD request per existence check (s3fs's ``exists`` also lists the key as a prefix).
    Large files go up as multipart uploads that resume and survive a lost answer (``s3_multipart.py``)."""

    part_size = 50 << 20  # as s3fs (and so dvc): 50 MiB parts, more for files above ~500 GB
    part_jobs = 4  # parts in flight per file (each holds one part in memory)

    def _s3(self, method: str, **kw: Any) -> Any:
        return self.fs.call_s3(method, **kw)

    def get_file(self, key: str, path: str) -> None:
        # one streamed GET. s3fs would fetch a large object as 50 MiB ranges, 10 at a time, each held in
        # memory until its batch is written: 1.1 GB of RSS for a 1 GB pull (85 MB streamed) and one
        # more request per range; the engine already downloads ``jobs`` objects at once
        from tide.storage.errors import translate

        try:
            self.fs.get_file(self._p(key), path, max_concurrency=1)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, f"download {key}")

    def put_file(self, path: str, key: str) -> None:
        import os

        from tide.storage.errors import translate

        bucket, _, obj = self._p(key).partition("/")
        try:
            size = os.path.getsize(path)
            if size < 2 * self.part_size:
                # one PutObject, straight to the client: s3fs's put_file adds ~0.3 ms of CPU per file
                # (content-type guess, cache invalidation up the tree) to 10,000 small uploads
                with open(path, "rb") as f:
                    data = f.read()
                self._s3("put_object", Bucket=bucket, Key=obj, Body=data)
            else:
                from tide.storage.s3_multipart import upload

                upload(self._s3, bucket, obj, path, size, self.part_size, self.part_jobs)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, f"upload {key}")
        if self.fs.dircache:
            self.fs.invalidate_cache(self._p(key))

    def exists(self, key: str) -> bool:
        bucket, _, path = self._p(key).partition("/")
        try:
            self.fs.call_s3("head_object", Bucket=bucket, Key=path)
            return True
        except FileNotFoundError:
            return False
        except Exception as exc:  # noqa: BLE001
            from tide.storage.errors import translate

            err = translate(exc, f"check {key}")
            if isinstance(err, StorageNotFound):
                return False
            raise err


def open_backend(spec: RemoteSpec, env: Env) -> FsspecBackend:
    import s3fs

    kw = s3fs_kwargs(spec)
    if spec.get("credentialpath") or spec.get("configpath"):
        from aiobotocore.session import AioSession

        session = AioSession(profile=spec.get("profile"))
        if spec.get("credentialpath"):
            session.set_config_variable("credentials_file", spec.get("credentialpath"))
        if spec.get("configpath"):
            session.set_config_variable("config_file", spec.get("configpath"))
        kw["session"] = session
        kw.pop("profile", None)
    fs = s3fs.S3FileSystem(**kw)
    bucket, path = split_url(spec.url)
    return S3Backend(fs, f"{bucket}/{path}" if path else bucket, spec.url, CAPS)
