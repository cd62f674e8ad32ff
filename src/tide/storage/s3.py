"""``s3://bucket/path`` remotes (AWS and S3-compatible servers via ``endpointurl``).

One of two implementations serves a remote, chosen once when it is opened (``open_backend``), and
each serves every operation of the ``Backend`` contract by itself:

- ``S3PlainBackend`` (``s3_plain.py``): tide's own signed HTTP requests (``s3_http.py``), the
  default: ~0.2 ms of CPU a request where s3fs costs ~2 ms, and s3fs is never imported.
- ``S3FsBackend`` (here): s3fs/botocore, where the plain requests would not be exactly what dvc
  sends (``sse*``, ``acl``, ``grant_*`` options add headers), where the environment names a proxy
  for the endpoint (botocore speaks to proxies, tide's requests do not), and where tide finds no
  credentials itself (s3fs then reports that, as dvc would).

DVC's option names map to s3fs/botocore settings as dvc-s3 maps them. Credentials come from the
options, a profile, ``credentialpath`` or botocore's usual chain (``AWS_*`` environment
variables, ``~/.aws``). A PUT (or completed multipart upload) is atomic on S3, so objects are
written under their final key directly; files of 100 MiB and more go up in resumable parts
(``s3_multipart.py``).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any, BinaryIO

from tide.core.config import Env, to_bool
from tide.storage.base import Backend, Capabilities, RemoteSpec
from tide.storage.fsbackend import FsspecBackend

# s3fs: ages need one request per object, deletes one per key (gc -c runs them on its threads)
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
    # one attempt per call: the retry wrapper (storage/wrappers.py) is the one place calls are repeated
    config.setdefault("retries", {"total_max_attempts": 1, "mode": "standard"})  # botocore: no retries
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


class S3Puts(Backend):
    """The upload both implementations share: a file below ``2 * part_size`` is one PutObject
    (``_put_small``), a larger one a resumable multipart upload through ``_multipart_calls()``.
    A subclass also gives ``_p(key)``, the key's ``bucket/path`` (checked)."""

    part_size = 50 << 20  # as s3fs (and so dvc): 50 MiB parts, more for files above ~500 GB
    part_jobs = 4  # parts in flight per file (each holds one part in memory)

    def _put_small(self, bucket: str, obj: str, data: bytes, sha256: str | None = None) -> None:
        """One PutObject of ``data`` (``sha256``: its SHA-256 hex when known, for the signature)."""
        raise NotImplementedError

    def _multipart_calls(self) -> MultipartCalls:
        raise NotImplementedError

    def _written(self, key: str) -> None:
        """Called after ``key`` was written or deleted (s3fs: forget what its listing cache says)."""

    def put_file(self, path: str, key: str) -> None:
        from tide.core.fsutil import read_small
        from tide.storage.errors import translate

        bucket, _, obj = self._p(key).partition("/")
        try:
            data, size = read_small(path, 2 * self.part_size - 1)
            if data is not None:
                self._put_small(bucket, obj, data)
            else:
                from tide.storage.s3_multipart import upload

                calls = self._multipart_calls()
                upload(calls.call, bucket, obj, path, size, self.part_size, self.part_jobs, calls.takes_buffers)
        except Exception as exc:
            raise translate(exc, f"upload {key}")
        self._written(key)


class MultipartCalls:
    """The S3 calls of a multipart upload (``call(method, **params)``, boto3's names) and whether a
    part's body may be a view of a buffer its thread reuses (only if ``call`` sends it before returning)."""

    __slots__ = ("call", "takes_buffers")

    def __init__(self, call: Callable[..., Any], takes_buffers: bool) -> None:
        self.call = call
        self.takes_buffers = takes_buffers


class S3FsBackend(S3Puts, FsspecBackend):
    """s3fs for every operation. One HEAD per existence check (s3fs's ``exists`` also lists the key
    as a prefix); a download is one streamed GET; small uploads go straight to the client."""

    def __init__(self, make_fs: Callable[[], Any], root: str, url: str) -> None:
        """``make_fs`` builds the s3fs filesystem, on first use (importing s3fs and making its
        client take ~1 s of CPU)."""
        self._make_fs = make_fs
        self._fs_lock = threading.Lock()
        FsspecBackend.__init__(self, None, root, url, CAPS)

    @property
    def fs(self) -> Any:
        fs = self.__dict__.get("_fs")
        if fs is None:
            with self._fs_lock:
                if self.__dict__.get("_fs") is None:
                    self.__dict__["_fs"] = self._make_fs()
                fs = self.__dict__["_fs"]
        return fs

    @fs.setter
    def fs(self, value: Any) -> None:
        self.__dict__["_fs"] = value

    def _s3(self, method: str, **kw: Any) -> Any:
        return self.fs.call_s3(method, **kw)

    def _put_small(self, bucket: str, obj: str, data: bytes, sha256: str | None = None) -> None:
        # one PutObject, straight to the client: s3fs's put_file adds ~0.3 ms of CPU per file
        # (content-type guess, cache invalidation up the tree) to 10,000 small uploads
        self._s3("put_object", Bucket=bucket, Key=obj, Body=data)

    def _multipart_calls(self) -> MultipartCalls:
        return MultipartCalls(self._s3, False)

    def _written(self, key: str) -> None:
        fs = self.__dict__.get("_fs")
        if fs is not None and fs.dircache:
            fs.invalidate_cache(self._p(key))

    def get_file(self, key: str, path: str) -> None:
        # one streamed GET. s3fs would fetch a large object as 50 MiB ranges, 10 at a time, each held in
        # memory until its batch is written: 1.1 GB of RSS for a 1 GB pull (85 MB streamed) and one
        # more request per range; the engine already downloads ``jobs`` objects at once
        from tide.storage.errors import translate

        try:
            self.fs.get_file(self._p(key), path, max_concurrency=1)
        except Exception as exc:
            raise translate(exc, f"download {key}")

    def delete(self, key: str) -> None:
        super().delete(key)
        self._written(key)

    def _head(self, key: str, what: str) -> dict | None:
        """HeadObject's answer, or None when there is no such object."""
        from tide.storage.base import StorageNotFound
        from tide.storage.errors import translate

        bucket, _, path = self._p(key).partition("/")
        try:
            return self._s3("head_object", Bucket=bucket, Key=path)
        except FileNotFoundError:
            return None
        except Exception as exc:
            err = translate(exc, f"{what} {key}")
            if isinstance(err, StorageNotFound):
                return None
            raise err

    def version_id(self, key: str) -> str | None:
        resp = self._head(key, "stat")
        vid = (resp or {}).get("VersionId")
        return vid if vid and vid != "null" else None

    def open_version(self, key: str, version_id: str) -> BinaryIO:
        """One GetObject of that version, its body read as it is consumed."""
        import io

        from tide.storage.errors import translate

        bucket, _, path = self._p(key).partition("/")
        try:
            resp = self._s3("get_object", Bucket=bucket, Key=path, VersionId=version_id)
        except Exception as exc:
            raise translate(exc, f"read {key}")
        return io.BufferedReader(_AsyncBody(self.fs, resp["Body"], key))

    def exists(self, key: str) -> bool:
        return self._head(key, "check") is not None


class _AsyncBody(io.RawIOBase):
    """aiobotocore's streamed body read from synchronous code, on s3fs's event loop."""

    def __init__(self, fs: Any, body: Any, key: str) -> None:
        super().__init__()
        self._fs, self._body, self._key = fs, body, key

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        from fsspec.asyn import sync

        from tide.storage.errors import translate

        try:
            data = sync(self._fs.loop, self._body.read, len(buf))
        except Exception as exc:
            raise translate(exc, f"read {self._key}")
        buf[:len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._body.close()
        finally:
            super().close()


def open_backend(spec: RemoteSpec, env: Env | None) -> Backend:
    """The implementation that serves this remote, decided now (see the module's docstring)."""
    kw = s3fs_kwargs(spec)  # option errors show now, before any request
    plain = open_plain(spec, env or Env())
    return plain if plain is not None else open_with_s3fs(spec, kw)


def root_of(spec: RemoteSpec) -> str:
    bucket, path = split_url(spec.url)
    return f"{bucket}/{path}" if path else bucket


def open_plain(spec: RemoteSpec, env: Env) -> Backend | None:
    """``S3PlainBackend`` for the remote, or None where s3fs must serve it."""
    from tide.storage.s3_http import S3Http

    bucket, _ = split_url(spec.url)
    http = S3Http.for_spec(spec, bucket, f"tide/{_version()}", env)
    if http is None or not http.has_credentials():
        return None
    from tide.storage.s3_plain import S3PlainBackend

    return S3PlainBackend(http, root_of(spec), spec.url)


def open_with_s3fs(spec: RemoteSpec, kw: dict[str, Any] | None = None) -> S3FsBackend:
    kw = s3fs_kwargs(spec) if kw is None else kw
    return S3FsBackend(lambda: _filesystem(spec, kw), root_of(spec), spec.url)


def _filesystem(spec: RemoteSpec, kw: dict[str, Any]) -> Any:
    import s3fs

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
    fs.retries = 1  # s3fs repeats calls itself (5 times by default): the retry wrapper is the one place
    return fs
