"""``http://`` and ``https://`` remotes, on fsspec's HTTP filesystem (aiohttp), as dvc's http remote.

Reading needs only a web server that serves the remote's tree (GET, HEAD). Pushing needs a server
that stores the body of a ``POST`` (dvc's default) or ``PUT`` (``method = PUT``, e.g. Artifactory)
to ``<url>/files/md5/ab/cdef...``; like dvc, the body is sent with chunked transfer encoding.
HTTP cannot list a tree, so existence is checked per object, and it cannot rename: an upload goes
straight to its key, then one ``HEAD`` checks that the server holds exactly the bytes sent. An
upload that failed, or that the server holds at another size, is removed (``DELETE``, where the
server allows it) and reported; a server that exposes half-received uploads is the server's
problem, as with dvc.

Options (dvc's names): ``auth`` = ``basic`` | ``digest`` | ``custom`` with ``user``/``password``
(``custom`` sends ``custom_auth_header: password``); without ``auth``, ``user`` means basic and
``custom_auth_header`` means custom, as earlier tide releases did. ``method``, ``ssl_verify``
(false, or a CA bundle path), ``read_timeout``/``connect_timeout`` (60 s each, as dvc). A user
name in the URL (``https://me@host/path``) is used when ``user`` is not set.
"""

from __future__ import annotations

import io
import os
import threading
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit, urlunsplit

from tide.core.config import Env, to_bool
from tide.core.errors import ConfigError
from tide.storage.base import Capabilities, RemoteSpec, StorageNotFound, StoragePermanent, StorageTransient
from tide.storage.errors import translate as _translate
from tide.storage.fsbackend import FsspecBackend

CAPS = Capabilities(atomic_put=False, rename=False, writable=True, listable=False, cheap_listing=False,
                    default_jobs=16)
DEFAULT_TIMEOUT = 60.0  # dvc's read_timeout and connect_timeout
AUTH_METHODS = ("basic", "digest", "custom")


def split_url(spec: RemoteSpec) -> tuple[str, str | None, str | None]:
    """The URL without user info, and the user name and password it held (if any)."""
    parts = urlsplit(spec.url)
    if parts.username is None and parts.password is None:
        return spec.url, None, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    bare = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return (bare, unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None)


def _auth(spec: RemoteSpec) -> tuple[str | None, str | None, str | None]:
    """(method, user, password) of the remote; method None means no authentication."""
    _, url_user, url_password = split_url(spec)
    user = spec.get("user") or url_user
    password = spec.get("password")
    if password is None:
        password = url_password
    method = (spec.get("auth") or "").strip().lower() or None
    name = spec.name or spec.url
    if method is None:  # earlier tide: the options alone chose the scheme
        if spec.get("custom_auth_header"):
            method = "custom"
        elif user:
            method = "basic"
    if method is not None and method not in AUTH_METHODS:
        raise ConfigError(f"remote '{name}': auth '{spec.get('auth')}' is not one of {', '.join(AUTH_METHODS)}")
    if password is None and method is not None and spec.get("ask_password") \
            and to_bool(spec.get("ask_password"), "ask_password"):
        password = _ask_password(spec.url, user or "custom")
    if method in ("basic", "digest") and (user is None or password is None):
        raise ConfigError(f"remote '{name}': HTTP '{method}' authentication needs both 'user' and 'password' "
                          f"(tide remote modify --local {spec.name or 'NAME'} password ...)")
    if method == "custom" and (not spec.get("custom_auth_header") or password is None):
        raise ConfigError(f"remote '{name}': HTTP 'custom' authentication needs both 'custom_auth_header' and "
                          "'password'")
    return method, user, password


def _ask_password(url: str, user: str) -> str:
    import getpass
    import sys

    if not sys.stdin.isatty():
        raise ConfigError(f"ask_password is set for {url} but there is no terminal to ask on; "
                          "set 'password' with 'tide remote modify --local'")
    return getpass.getpass(f"Enter a password for host '{url}' user '{user}':\n")


def ssl_option(spec: RemoteSpec) -> Any:
    """aiohttp's ``ssl`` argument for ``ssl_verify``: None (default checks), False, or a context with a CA file."""
    value = spec.get("ssl_verify")
    if value is None:
        return None
    if value.strip().lower() in ("true", "false", "yes", "no", "1", "0", "on", "off"):
        return None if to_bool(value, "ssl_verify") else False
    path = os.path.expanduser(value)
    if not os.path.isfile(path):
        raise ConfigError(f"ssl_verify: no CA bundle at '{value}' (give true, false or the path of a PEM file)")
    import ssl

    return ssl.create_default_context(cafile=path)


def _seconds(spec: RemoteSpec, option: str) -> float:
    value = spec.get(option)
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(f"option '{option}' must be a number of seconds, not '{value}'") from None
    if seconds < 0:
        raise ConfigError(f"option '{option}' must not be negative")
    return seconds


def upload_method(spec: RemoteSpec) -> str:
    method = (spec.get("method") or "POST").strip().upper()
    if method not in ("POST", "PUT"):
        raise ConfigError(f"remote '{spec.name or spec.url}': method '{spec.get('method')}' is not POST or PUT")
    return method


def client_kwargs(spec: RemoteSpec) -> dict[str, Any]:
    """Keyword arguments of fsspec's ``HTTPFileSystem`` for this remote."""
    import aiohttp

    kw: dict[str, Any] = {"skip_instance_cache": True}
    client: dict[str, Any] = {"trust_env": True}  # proxies from the environment, as dvc
    method, user, password = _auth(spec)
    if method == "basic":
        import base64

        pair = base64.b64encode(f"{user}:{password}".encode()).decode()
        client["headers"] = {"Authorization": f"Basic {pair}"}
    elif method == "digest":
        digest = getattr(aiohttp, "DigestAuthMiddleware", None)
        if digest is None:
            raise ConfigError("HTTP 'digest' authentication needs aiohttp 3.12 or newer: "
                              "pip install -U 'tide-ml[http]'")
        client["middlewares"] = (digest(user or "", password or ""),)
    elif method == "custom":
        client["headers"] = {spec.get("custom_auth_header"): password or ""}
    connect = _seconds(spec, "connect_timeout")
    # no total limit: a large object may take longer than aiohttp's default 5 minutes
    client["timeout"] = aiohttp.ClientTimeout(total=None, connect=connect or None, sock_connect=connect or None,
                                              sock_read=_seconds(spec, "read_timeout") or None)
    ssl = ssl_option(spec)
    if ssl is not None:
        kw["ssl"] = ssl
    kw["client_kwargs"] = client
    return kw


class HttpBackend(FsspecBackend):
    """Reads through fsspec; existence, size, uploads and deletes are plain requests on its aiohttp session."""

    def __init__(self, fs: Any, root: str, url: str, method: str, digest: bool) -> None:
        super().__init__(fs, root, url, CAPS)
        self.method = method
        self._digest_primed = not digest
        self._prime_lock = threading.Lock()

    # --- requests ------------------------------------------------------------------------------
    def _request(self, method: str, key: str, **kw: Any) -> tuple[int, dict[str, str]]:
        """One request on fsspec's session: (status, headers); the body is not read."""
        from fsspec.asyn import sync
        from multidict import CIMultiDict

        fs = self.fs

        async def call() -> tuple[int, dict[str, str]]:
            session = await fs.set_session()
            args = {**fs.kwargs, **kw}
            async with session.request(method, fs.encode_url(self._p(key)), allow_redirects=True, **args) as r:
                if method == "GET":
                    r.release()
                return r.status, CIMultiDict(r.headers)  # names as any case (aiohttp gives "Etag")

        return sync(fs.loop, call)

    def _head(self, key: str, what: str, *, get_if_refused: bool = False) -> dict[str, str] | None:
        """The response headers for ``key`` (None when absent) from one HEAD, or with
        ``get_if_refused`` from a GET for servers that refuse HEAD; errors say ``<what> <key>``."""
        try:
            status, headers = self._request("HEAD", key)
            if get_if_refused and status in (405, 501):
                status, headers = self._request("GET", key)
        except Exception as exc:
            raise translate(exc, f"{what} {key}")
        if status in (404, 410):
            return None
        _raise_for(status, f"{what} {key}")
        return headers

    def _stat(self, key: str) -> int | None:
        """The size of ``key`` (None when absent); HEAD, or GET for servers that refuse HEAD."""
        headers = self._head(key, "check", get_if_refused=True)
        if headers is None:
            return None
        length = headers.get("Content-Length")
        if length is None:
            return -1  # present, size not told
        return int(length)

    def exists(self, key: str) -> bool:
        return self._stat(key) is not None

    def size(self, key: str) -> int:
        n = self._stat(key)
        if n is None:
            raise StorageNotFound(f"stat {key}: not found")
        if n < 0:
            raise StoragePermanent(f"stat {key}: the server reports no size (Content-Length)")
        return n

    def etag(self, key: str) -> str | None:
        headers = self._head(key, "stat")
        tag = headers.get("ETag") if headers is not None else None
        return tag.strip('"') if tag else None

    def checksum(self, key: str) -> str | None:
        headers = self._head(key, "stat")
        if headers is None:
            return None
        return headers.get("ETag") or headers.get("Content-MD5") or None

    def modified(self, key: str) -> float | None:
        headers = self._head(key, "stat")
        stamp = headers.get("Last-Modified") if headers is not None else None
        if not stamp:
            return None
        from email.utils import parsedate_to_datetime

        try:
            return parsedate_to_datetime(stamp).timestamp()
        except (TypeError, ValueError):
            return None

    # --- writes --------------------------------------------------------------------------------
    def _prime(self, key: str) -> None:
        """Digest authentication answers a challenge; a streamed body cannot be sent twice, so the
        first upload is preceded by one HEAD that lets the client learn the challenge."""
        if self._digest_primed:
            return
        with self._prime_lock:
            if not self._digest_primed:
                self._stat(key)
                self._digest_primed = True

    def _upload(self, source: str | BinaryIO, key: str, size: int) -> None:
        self._prime(key)
        try:
            self.fs.put_file(source, self._p(key), method=self.method)
        except Exception as exc:
            err = _upload_error(exc, key, self.method)
            self._discard_unless(key, size)
            raise err from None
        held = self._stat(key)
        if held == size or (held == -1 and size >= 0):
            return
        if held is None:
            raise StoragePermanent(f"upload {key}: the server accepted the {self.method} but does not serve the "
                                   "object back (check the remote URL and its 'method')")
        self._discard_unless(key, size)
        raise StorageTransient(f"upload {key}: the server holds {held} bytes after the upload, {size} were sent")

    def _discard_unless(self, key: str, size: int) -> None:
        """Remove what a failed upload may have left at ``key``, unless it is the complete object."""
        try:
            held = self._stat(key)
            if held is not None and held != size:
                self.delete(key)
        except Exception:  # best effort: the error being reported matters more
            pass

    def put_file(self, path: str, key: str) -> None:
        size = os.path.getsize(path)  # a missing source is the caller's OSError, nothing is sent
        self._upload(path, key, size)

    def put_stream(self, stream: BinaryIO, key: str, size: int, sha256: str | None = None) -> None:
        src = stream if isinstance(stream, io.IOBase) else _Reader(stream)
        self._upload(src, key, size)

    def delete(self, key: str) -> None:
        try:
            status, _ = self._request("DELETE", key)
        except Exception as exc:
            raise translate(exc, f"delete {key}")
        if status in (404, 410):
            return
        if status in (405, 501):
            raise StoragePermanent(f"delete {key}: the server does not allow DELETE (HTTP {status})")
        _raise_for(status, f"delete {key}")


class _Reader(io.RawIOBase):
    """A file object over any ``read()``-able stream (fsspec sends ``io.IOBase`` objects as they are)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._s = stream

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        return self._s.read(n)


_CERT_ERRORS = ("ClientConnectorCertificateError", "SSLCertVerificationError")


def translate(exc: BaseException, what: str) -> Exception:
    """``storage.errors.translate``, except that an untrusted certificate is permanent (not a network blip)."""
    cur: BaseException | None = exc
    while cur is not None:
        if any(c.__name__ in _CERT_ERRORS for c in type(cur).__mro__):
            return StoragePermanent(f"{what}: the server's TLS certificate is not trusted; set the remote's "
                                    "ssl_verify to the path of a CA bundle (or false)")
        cur = cur.__cause__ or cur.__context__
    return _translate(exc, what)


def _raise_for(status: int, what: str) -> None:
    if status < 400:
        return
    if status in (401, 403):
        raise StoragePermanent(f"{what}: access refused (HTTP {status}); check the remote's auth, user and password")
    if status >= 500 or status in (408, 429):
        raise StorageTransient(f"{what}: HTTP {status}")
    raise StoragePermanent(f"{what}: HTTP {status}")


def _upload_error(exc: Exception, key: str, method: str) -> Exception:
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        if status in (405, 501):
            return StoragePermanent(f"upload {key}: the server does not accept {method} (HTTP {status}): it is "
                                    "read-only, or needs the other method (tide remote modify NAME method PUT|POST)")
        if status == 411:
            return StoragePermanent(f"upload {key}: the server refuses chunked uploads (HTTP 411 Length Required)")
        try:
            _raise_for(status, f"upload {key}")
        except (StoragePermanent, StorageTransient) as err:
            return err
    return translate(exc, f"upload {key}")


def open_backend(spec: RemoteSpec, env: Env) -> HttpBackend:
    from fsspec.implementations.http import HTTPFileSystem

    kw = client_kwargs(spec)
    method = upload_method(spec)
    digest = "middlewares" in kw["client_kwargs"]
    fs = HTTPFileSystem(**kw)
    url, _, _ = split_url(spec)
    return HttpBackend(fs, url.rstrip("/"), spec.url, method, digest)
