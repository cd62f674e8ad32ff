"""``webhdfs://host[:port]/path`` remotes: HDFS over its WebHDFS REST API, as dvc's ``webhdfs`` remote.

The connection (user name, Kerberos/SPNEGO, delegation token, basic auth, proxy user, HTTPS) is set
up by fsspec's ``WebHDFS`` from dvc's options, exactly as dvc-webhdfs does; the requests are made
here, following the Apache Hadoop WebHDFS documentation, so that each does one thing:

- upload: ``PUT ?op=CREATE`` on the namenode answers ``307`` with a datanode URL, the file is
  ``PUT`` there in one streamed request, then ``PUT ?op=RENAME`` moves the temporary name
  (``.<random>.tmp`` in the same directory; HDFS shows a file while it is being written) onto the
  key. CREATE makes missing parent directories.
- download: ``GET ?op=OPEN`` (with ``offset`` to resume) redirects to a datanode that streams it.
- ``GETFILESTATUS`` for existence and size, ``LISTSTATUS`` per directory, ``DELETE``.

Options (dvc's names): ``user``, ``password`` (basic auth, e.g. through a Knox gateway),
``kerberos``, ``kerberos_principal`` (needs ``requests-kerberos``), ``token`` (delegation token),
``proxy_to`` (doas), ``use_https``, ``ssl_verify``, ``data_proxy_target``. The port defaults to
50070 as in dvc (Hadoop 3 namenodes usually listen on 9870: put it in the URL).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from collections.abc import Iterator
from typing import Any, BinaryIO
from urllib.parse import quote

from tide.core.config import Env, to_bool
from tide.core.errors import ConfigError
from tide.storage.base import (
    Backend,
    Capabilities,
    RemoteSpec,
    StorageNotFound,
    StoragePermanent,
    StorageTransient,
    join_key,
)
from tide.storage.errors import translate as _translate

CAPS = Capabilities(atomic_put=False, rename=True, cheap_listing=True, default_jobs=8)
CHUNK = 1 << 20
SMALL = 16 << 20
TIMEOUT = (60, 300)  # connect, read (seconds); requests has no limit of its own
_NOT_FOUND = ("FileNotFoundException",)
_DENIED = ("AccessControlException", "SecurityException", "AuthorizationException", "InvalidToken")
_RETRY = ("RetriableException", "StandbyException", "SafeModeException")
_PERMANENT = ("FileAlreadyExistsException", "ParentNotDirectoryException", "IllegalArgumentException",
              "UnsupportedOperationException", "QuotaExceededException", "DSQuotaExceededException",
              "NSQuotaExceededException", "PathIsNotEmptyDirectoryException", "InvalidPathException")


def translate(exc: BaseException, what: str) -> Exception:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return StoragePermanent(f"{what}: the namenode's TLS certificate is not trusted; set the remote's "
                                "ssl_verify to the path of a CA bundle (or false)")
    return _translate(exc, what)


def _flag(spec: RemoteSpec, name: str, default: bool = False) -> bool:
    value = spec.get(name)
    return default if value is None else to_bool(value, name)


def fs_kwargs(spec: RemoteSpec) -> tuple[dict[str, Any], str]:
    """fsspec ``WebHDFS`` arguments for the remote (as dvc-webhdfs builds them) and the root path."""
    from fsspec.utils import infer_storage_options

    parts = infer_storage_options(spec.url)
    if not parts.get("host"):
        raise ConfigError(f"webhdfs URL '{spec.url}' names no namenode host (webhdfs://host:port/path)")
    kw: dict[str, Any] = {"host": parts["host"], "port": int(parts.get("port") or 50070)}
    user = spec.get("user") or parts.get("username")
    kerberos = _flag(spec, "kerberos")
    token = spec.get("token")
    name = spec.name or spec.url
    if token and (user or spec.get("proxy_to")):
        raise ConfigError(f"remote '{name}': a delegation 'token' carries the user; do not set 'user' or "
                          "'proxy_to' (or a user in the URL) with it")
    if kerberos and user:
        raise ConfigError(f"remote '{name}': with 'kerberos' the user comes from kinit; do not set 'user'")
    if spec.get("password") and not user:
        raise ConfigError(f"remote '{name}': 'password' (basic auth) needs 'user' too")
    if kerberos:
        import importlib.util

        if importlib.util.find_spec("requests_kerberos") is None:
            raise ConfigError("webhdfs 'kerberos' needs requests-kerberos (and a kinit session): "
                              "pip install requests-kerberos")
        kw["kerberos"] = True
        if spec.get("kerberos_principal"):
            kw["kerb_kwargs"] = {"principal": spec.get("kerberos_principal")}
    for option in ("token", "proxy_to", "password"):
        if spec.get(option):
            kw[option] = spec.get(option)
    if user:
        kw["user"] = user
    https = _flag(spec, "use_https")
    kw["use_https"] = https
    verify = spec.get("ssl_verify")
    if verify is not None and verify.strip().lower() not in ("true", "false", "yes", "no", "1", "0", "on", "off"):
        if not os.path.isfile(os.path.expanduser(verify)):
            raise ConfigError(f"ssl_verify: no CA bundle at '{verify}' (give true, false or the path of a PEM file)")
        kw["session_verify"] = os.path.expanduser(verify)
    else:
        kw["session_verify"] = _flag(spec, "ssl_verify", default=True)
    if spec.get("data_proxy_target"):
        source = f"{'https' if https else 'http'}://{kw['host']}:{kw['port']}/webhdfs/v1"
        kw["data_proxy"] = {source: spec.get("data_proxy_target")}
    root = "/" + parts.get("path", "").strip("/")
    return kw, root


def _tmp_key(key: str) -> str:
    head, _, _ = key.rpartition("/")
    tmp = f".{secrets.token_urlsafe(16)}.tmp"
    return f"{head}/{tmp}" if head else tmp


class WebHdfsBackend(Backend):
    def __init__(self, fs: Any, root: str, url: str) -> None:
        self.fs = fs  # fsspec WebHDFS: its session carries the authentication, its pars the query parameters
        self.root = root.rstrip("/") or "/"
        self.url = url
        self.capabilities = CAPS
        self._lock = threading.Lock()

    # --- requests ------------------------------------------------------------------------------
    def _path(self, key: str) -> str:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise StoragePermanent(f"invalid key {key!r}")
        return join_key(self.root, key) if self.root != "/" else "/" + key

    def _call(self, op: str, method: str, path: str, what: str, *, stream: bool = False, data: Any = None,
              headers: dict[str, str] | None = None, url: str | None = None, **params: Any) -> Any:
        """One request to the namenode (or to ``url``, a datanode): the response, or a storage error."""
        fs = self.fs
        if url is None:
            url = fs._apply_proxy(fs.url + quote(path, safe="/"))  # fsspec's data_proxy mapping
            params = {**params, **fs.pars, "op": op}
        try:
            r = fs.session.request(method, url, params=params or None, data=data, headers=headers,
                                   allow_redirects=False, stream=stream, timeout=TIMEOUT)
        except Exception as exc:  # requests' errors are translated at the boundary
            raise translate(exc, what)
        if r.status_code >= 400:
            _raise_remote(r, what)
        return r

    def _redirected(self, r: Any, what: str) -> str:
        location = r.headers.get("Location")
        if r.status_code not in (301, 302, 303, 307, 308) or not location:
            with contextlib.suppress(Exception):
                location = r.json().get("Location")  # noredirect=true style answers
        if not location:
            raise StoragePermanent(f"{what}: the namenode gave no datanode to send the data to "
                                   f"(HTTP {r.status_code})")
        return self.fs._apply_proxy(location)

    def _status(self, key: str, what: str) -> dict | None:
        try:
            r = self._call("GETFILESTATUS", "GET", self._path(key), what)
        except StorageNotFound:
            return None
        return r.json()["FileStatus"]

    # --- Backend -------------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        st = self._status(key, f"check {key}")
        return st is not None and st.get("type") == "FILE"

    def size(self, key: str) -> int:
        st = self._status(key, f"stat {key}")
        if st is None or st.get("type") != "FILE":
            raise StorageNotFound(f"stat {key}: not found")
        return int(st["length"])

    def modified(self, key: str) -> float | None:
        st = self._status(key, f"stat {key}")
        if st is None or st.get("modificationTime") is None:
            return None
        return float(st["modificationTime"]) / 1000.0

    def _listdir(self, path: str, what: str) -> list[dict]:
        try:
            r = self._call("LISTSTATUS", "GET", path, what)
        except StorageNotFound:
            return []
        return r.json()["FileStatuses"]["FileStatus"]

    def list(self, prefix: str = "") -> Iterator[str]:
        start = prefix.strip("/")
        pending = [start]
        found: list[str] = []
        while pending:
            rel = pending.pop()
            path = join_key(self.root, rel) if rel else self.root
            for st in self._listdir(path, f"list {prefix or '/'}"):
                name = st.get("pathSuffix") or ""
                if not name:  # LISTSTATUS of a file lists the file itself
                    continue
                child = f"{rel}/{name}" if rel else name
                if st.get("type") == "DIRECTORY":
                    pending.append(child)
                elif not (name.startswith(".") and name.endswith(".tmp")):
                    found.append(child)
        yield from sorted(found)

    def open(self, key: str) -> BinaryIO:
        try:
            return self.fs.open(self._path(key), "rb")  # ranged reads (OPEN with offset), seekable
        except Exception as exc:
            raise translate(exc, f"read {key}")

    def get_file(self, key: str, path: str) -> None:
        what = f"download {key}"
        r = self._call("OPEN", "GET", self._path(key), what, stream=True)
        if r.is_redirect:
            r.close()
            r = self._call("", "GET", "", what, stream=True, url=self._redirected(r, what))
        try:
            with open(path, "wb") as out:
                for chunk in r.iter_content(CHUNK):
                    out.write(chunk)
        except Exception as exc:
            raise translate(exc, what)
        finally:
            r.close()

    def _create(self, data: Any, key: str, size: int) -> None:
        what = f"upload {key}"
        r = self._call("CREATE", "PUT", self._path(key), what, overwrite="true")
        location = self._redirected(r, what)
        headers = {"Content-Type": "application/octet-stream"}
        done = self._call("", "PUT", "", what, data=data, headers=headers, url=location)
        if done.status_code not in (200, 201):
            raise StoragePermanent(f"{what}: the datanode answered HTTP {done.status_code}")

    def _rename(self, tmp: str, key: str) -> None:
        what = f"rename into {key}"
        for attempt in range(2):
            r = self._call("RENAME", "PUT", self._path(tmp), what, destination=self._path(key))
            if r.json().get("boolean"):
                return
            # HDFS does not rename onto an existing file: replace it (the key is briefly absent, never partial)
            if attempt == 0 and self._status(key, what) is not None:
                self._call("DELETE", "DELETE", self._path(key), what, recursive="false")
                continue
            break
        raise StoragePermanent(f"{what}: the namenode refused to rename the uploaded file")

    def _put(self, data: Any, key: str, size: int) -> None:
        tmp = _tmp_key(key)
        try:
            self._create(data, tmp, size)
            held = self.size(tmp)
            if held != size:
                raise StorageTransient(f"upload {key}: HDFS holds {held} bytes after the upload, {size} were sent")
            self._rename(tmp, key)
        except BaseException:
            with contextlib.suppress(Exception):
                self._call("DELETE", "DELETE", self._path(tmp), f"delete {tmp}", recursive="false")
            raise

    def put_file(self, path: str, key: str) -> None:
        size = os.path.getsize(path)  # a missing source is the caller's OSError, nothing is sent
        if size == 0:
            self._put(b"", key, 0)
            return
        with open(path, "rb") as f:
            self._put(f, key, size)

    def put_stream(self, stream: BinaryIO, key: str, size: int, sha256: str | None = None) -> None:
        # a body of known length (datanodes need not take chunked bodies): small streams in memory,
        # others through a temporary file
        if size <= SMALL:
            self._put(stream.read(), key, size)
            return
        import shutil
        import tempfile

        with tempfile.TemporaryFile() as tmp:
            shutil.copyfileobj(stream, tmp, CHUNK)
            size = tmp.tell()
            tmp.seek(0)
            self._put(tmp, key, size)

    def delete(self, key: str) -> None:
        with contextlib.suppress(StorageNotFound):
            self._call("DELETE", "DELETE", self._path(key), f"delete {key}", recursive="false")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.fs.session.close()


def _raise_remote(r: Any, what: str) -> None:
    """A storage error for a WebHDFS error answer (a ``RemoteException`` JSON body, or a bare status)."""
    exc_name, message = "", ""
    with contextlib.suppress(Exception):
        remote = r.json()["RemoteException"]
        exc_name, message = remote.get("exception", ""), remote.get("message", "")
    status = r.status_code
    r.close()
    detail = f"{exc_name}: {message}" if exc_name else f"HTTP {status}"
    if status == 404 or exc_name in _NOT_FOUND:
        raise StorageNotFound(f"{what}: not found")
    if status in (401, 403) and (exc_name in _DENIED or not exc_name):
        raise StoragePermanent(f"{what}: access refused ({detail}); check the remote's user, token or kerberos")
    if exc_name in _DENIED:
        raise StoragePermanent(f"{what}: access refused ({detail})")
    if exc_name in _RETRY or (exc_name not in _PERMANENT and (status >= 500 or status in (408, 429))):
        raise StorageTransient(f"{what}: {detail}")
    raise StoragePermanent(f"{what}: {detail}")


def open_backend(spec: RemoteSpec, env: Env) -> WebHdfsBackend:
    from fsspec.implementations.webhdfs import WebHDFS
    from requests.adapters import HTTPAdapter

    kw, root = fs_kwargs(spec)
    try:
        fs = WebHDFS(skip_instance_cache=True, **kw)
    except ValueError as exc:
        raise ConfigError(f"remote '{spec.name or spec.url}': {exc}") from None
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32)  # one connection per transfer thread
    fs.session.mount("http://", adapter)
    fs.session.mount("https://", adapter)
    return WebHdfsBackend(fs, root, spec.url)
