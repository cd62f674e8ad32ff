"""``s3://bucket/path`` remotes (AWS and S3-compatible servers via ``endpointurl``), on s3fs.

DVC's option names map to s3fs/botocore settings as dvc-s3 maps them. Credentials come from the
options, a profile, ``credentialpath`` or botocore's usual chain (``AWS_*`` environment
variables, ``~/.aws``). A PUT (or completed multipart upload) is atomic on S3, so objects are
written under their final key directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from tide.core.config import Env, to_bool
from tide.storage.base import Capabilities, RemoteSpec, StorageNotFound, StoragePermanent, join_key
from tide.storage.fsbackend import FsspecBackend

if TYPE_CHECKING:
    from tide.storage.s3_http import S3Http

T = TypeVar("T")
_UNSET = object()

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
    Large files go up as multipart uploads that resume and survive a lost answer (``s3_multipart.py``).
    Small PUTs, GETs and HEADs go out as plain HTTP requests where that is equivalent (``s3_http.py``)."""

    part_size = 50 << 20  # as s3fs (and so dvc): 50 MiB parts, more for files above ~500 GB
    part_jobs = 4  # parts in flight per file (each holds one part in memory)

    def __init__(self, make_fs: Callable[[], Any], root: str, url: str, capabilities: Capabilities,
                 spec: RemoteSpec | None = None) -> None:
        """``make_fs`` builds the s3fs filesystem, on first use: importing s3fs and making its client
        take ~1 s of CPU that a push or pull of small objects over plain HTTP never needs.
        ``spec``: the remote's options, for the plain-HTTP path (none: s3fs for everything)."""
        self._make_fs = make_fs
        self._fs_lock = threading.Lock()
        super().__init__(None, root, url, capabilities)
        self.spec = spec

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

    def _plain(self, call: Callable[[S3Http], T]) -> T | None:
        """``call`` on the plain-HTTP client; ``None`` when s3fs has to do it (not applicable, or no
        credentials: s3fs then reports that error as it always did)."""
        http = self.__dict__.get("_http", _UNSET)
        if http is _UNSET:
            from tide.storage.s3_http import S3Http

            with self._lock:
                if "_http" not in self.__dict__:
                    bucket = self.root.partition("/")[0]
                    self._http = None if self.spec is None else S3Http.for_spec(
                        self.spec, bucket, f"tide/{_version()}")
            http = self._http
        if http is None:
            return None
        from tide.storage.s3_http import NoCredentials

        try:
            return call(http)
        except NoCredentials:
            self._http = None
            return None

    def get_file(self, key: str, path: str) -> None:
        # one streamed GET. s3fs would fetch a large object as 50 MiB ranges, 10 at a time, each held in
        # memory until its batch is written: 1.1 GB of RSS for a 1 GB pull (85 MB streamed) and one
        # more request per range; the engine already downloads ``jobs`` objects at once
        from tide.storage.errors import translate

        if self._plain(lambda h: h.get_to(self._p(key).partition("/")[2], path) or True):
            return
        try:
            self.fs.get_file(self._p(key), path, max_concurrency=1)
        except Exception as exc:
            raise translate(exc, f"download {key}")

    def put_file(self, path: str, key: str) -> None:
        from tide.core.fsutil import read_small
        from tide.storage.errors import translate

        bucket, _, obj = self._p(key).partition("/")
        try:
            data, size = read_small(path, 2 * self.part_size - 1)
            if data is not None:
                # one PutObject, straight to the client: s3fs's put_file adds ~0.3 ms of CPU per file
                # (content-type guess, cache invalidation up the tree) to 10,000 small uploads
                if not self._plain(lambda h: h.put(obj, data) or True):
                    self._s3("put_object", Bucket=bucket, Key=obj, Body=data)
            else:
                from tide.storage.s3_multipart import upload

                upload(self._multipart_calls(), bucket, obj, path, size, self.part_size, self.part_jobs)
        except Exception as exc:
            raise translate(exc, f"upload {key}")
        fs = self.__dict__.get("_fs")
        if fs is not None and fs.dircache:
            fs.invalidate_cache(self._p(key))

    def _multipart_calls(self) -> Callable[..., Any]:
        """The S3 calls of a multipart upload: plain HTTP (``s3_calls.py``) where it applies, else s3fs's."""

        def plain(http: S3Http) -> Callable[..., Any]:
            from tide.storage.s3_calls import PlainCalls

            http.ready()  # no credentials: s3fs, decided now rather than halfway
            return PlainCalls(http)

        return self._plain(plain) or self._s3

    def list(self, prefix: str = "") -> Iterator[str]:
        listed = self.list_ages(prefix)
        if listed is None:
            yield from super().list(prefix)
            return
        for key, _ in listed:
            yield key

    def list_ages(self, prefix: str = "") -> list[tuple[str, float | None]] | None:
        """The keys under ``prefix`` with when each was last written, from the listing itself
        (``gc -c`` then needs no request per object to tell its age); None where s3fs lists."""
        bucket, _, base = (join_key(self.root, prefix.rstrip("/")) if prefix else self.root).partition("/")
        found = self._plain(lambda h: list(h.list_ages(base + "/" if base else "")))
        if found is None:
            return None
        out = []
        for k, when in sorted(found, key=lambda kw: kw[0]):
            name = k.rsplit("/", 1)[-1]
            if not (name.startswith(".") and name.endswith(".tmp")):
                out.append((self._rel(f"{bucket}/{k}"), when))
        return out

    def open(self, key: str) -> BinaryIO:
        body = self.stream(key)
        return body if body is not None else super().open(key)

    def stream(self, key: str) -> BinaryIO | None:
        """One streamed GET (no request before the first read); None when s3fs has to read it."""
        return self._plain(lambda h: h.open(self._p(key).partition("/")[2]))

    def _stat(self, key: str) -> tuple[int | None, float | None] | bool | None:
        """``(size, modified)`` from one plain HEAD, False if absent, None when s3fs has to answer."""
        return self._plain(lambda h: h.stat(self._p(key).partition("/")[2]) or False)

    def size(self, key: str) -> int:
        found = self._stat(key)
        if found is None:
            return super().size(key)
        if not found:
            raise StorageNotFound(f"{key}: not found")
        if found[0] is None:
            raise StoragePermanent(f"stat {key}: the remote reports no size")
        return found[0]

    def modified(self, key: str) -> float | None:
        found = self._stat(key)
        if found is None:
            return super().modified(key)
        return found[1] if found else None

    def delete(self, key: str) -> None:
        if self._plain(lambda h: h.delete(self._p(key).partition("/")[2]) or True) is None:
            super().delete(key)
            return
        fs = self.__dict__.get("_fs")
        if fs is not None and fs.dircache:
            fs.invalidate_cache(self._p(key))

    def delete_many(self, keys: list[str]) -> bool:
        """Delete ``keys``, 1,000 to a DeleteObjects request; False (nothing deleted) where s3fs has
        to send the requests: the caller then deletes one key per request on its threads."""
        from tide.storage.s3_http import DELETE_BATCH

        for i in range(0, len(keys), DELETE_BATCH):
            paths = [self._p(k).partition("/")[2] for k in keys[i:i + DELETE_BATCH]]
            if self._plain(lambda h, paths=paths: h.delete_many(paths) or True) is None:
                return False  # decided once per remote (options, credentials): so at the first batch
        return True

    def exists(self, key: str) -> bool:
        bucket, _, path = self._p(key).partition("/")
        found = self._plain(lambda h: h.head(path))
        if found is not None:
            return found
        try:
            self.fs.call_s3("head_object", Bucket=bucket, Key=path)
            return True
        except FileNotFoundError:
            return False
        except Exception as exc:
            from tide.storage.errors import translate

            err = translate(exc, f"check {key}")
            if isinstance(err, StorageNotFound):
                return False
            raise err


def open_backend(spec: RemoteSpec, env: Env) -> FsspecBackend:
    kw = s3fs_kwargs(spec)  # option errors show now, before any request
    bucket, path = split_url(spec.url)
    return S3Backend(lambda: _filesystem(spec, kw), f"{bucket}/{path}" if path else bucket, spec.url, CAPS, spec)


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
    return s3fs.S3FileSystem(**kw)
