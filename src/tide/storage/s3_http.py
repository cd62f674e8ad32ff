"""Plain HTTP for the S3 requests a transfer repeats once per object (PUT of a small object, GET and
HEAD of one object) and for the listings that find what a remote holds.

Through s3fs each of these costs ~2 ms of the client's CPU (aiobotocore's request pipeline, then
a hop onto fsspec's event-loop thread, where every request of every worker queues behind the
others). Here a request is signed by ``sign`` (AWS Signature Version 4, checked against botocore's
signer in the tests; botocore's costs 0.15 ms a request and 0.3 s to import) and sent as one
exchange on a connection the worker thread keeps alive (``http1.py``: one send and, for a small
answer, one receive; the GIL is released while it waits). Pushing or pulling many small objects is
far less bound by the client's CPU, and a push or pull that needs nothing else never imports s3fs
(~1 s of CPU with its client). Multipart uploads go the same way (``s3_calls.py``), and so do the
size, age and deletion of one object (``gc -c``).

``S3Http.for_spec`` returns ``None`` where these requests would not be exactly what s3fs sends:
server-side encryption, ACL or grant options (extra headers on every PUT), or a proxy named for the
endpoint. A bucket in another region than the configured one (``region``, AWS_DEFAULT_REGION or the
profile's, else us-east-1) is asked again in the region S3 names, as botocore does. Credentials are
resolved once (``has_credentials``, when the remote is opened) in botocore's order (options,
``AWS_*`` variables, then botocore's own chain: profile, ``credentialpath``, ``~/.aws``, container
and instance roles); without any, s3fs serves the remote and reports the error as before. The
environment comes in as ``core.config.Env``; this module never reads ``os.environ``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import io
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO
from urllib.parse import quote

from tide.core.config import Env
from tide.core.errors import StorageError
from tide.storage.base import RemoteSpec, StorageNotFound, StoragePermanent, StorageTransient

_EXTRA_OPTIONS = ("sse", "sse_kms_key_id", "acl", "sse_customer_algorithm", "sse_customer_key", "grant_read",
                  "grant_read_acp", "grant_write_acp", "grant_full_control")
_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
DELETE_BATCH = 1000  # keys per DeleteObjects request, S3's limit
_CODE = re.compile(rb"<Code>([^<]*)</Code>")
_MESSAGE = re.compile(rb"<Message>([^<]*)</Message>")
_UNSET = object()


class S3Http:
    def __init__(self, endpoint: str | None, bucket: str, region: str, spec: RemoteSpec, use_ssl: bool,
                 verify: bool | str, timeouts: tuple[float, float], anonymous: bool, env: Env | None = None) -> None:
        self.custom_endpoint = endpoint
        self.bucket = bucket
        self.use_ssl = use_ssl
        self._set_region(region)
        self._spec = spec
        self._verify = verify
        self._timeouts = timeouts
        self._anonymous = anonymous
        self._env = env or Env()
        self._creds: Any = _UNSET
        self._conns: Any = None
        self._lock = threading.Lock()
        self.user_agent = "tide"

    @classmethod
    def for_spec(cls, spec: RemoteSpec, bucket: str, user_agent: str, env: Env | None = None) -> S3Http | None:
        """The client for the remote, or None where s3fs must send its requests (see the module)."""
        from tide.core.config import to_bool

        env = env or Env()

        opt = spec.get
        if any(opt(name) for name in _EXTRA_OPTIONS):
            return None
        anon = opt("allow_anonymous_login")
        anonymous = bool(anon) and to_bool(anon, "allow_anonymous_login")
        use_ssl = to_bool(opt("use_ssl"), "use_ssl") if opt("use_ssl") is not None else True
        region = opt("region") or _configured_region(spec, env) or "us-east-1"  # S3 redirects to the right one
        verify: bool | str = True
        if opt("ssl_verify") is not None:
            v = opt("ssl_verify")
            verify = to_bool(v, "ssl_verify") if v.lower() in ("true", "false") else v
        timeouts = (float(opt("connect_timeout") or 60), float(opt("read_timeout") or 60))
        http = cls(opt("endpointurl"), bucket, region, spec, use_ssl, verify, timeouts, anonymous, env)
        http.user_agent = user_agent
        scheme, netloc, _ = http._where("")
        if _proxied(scheme, netloc, env):
            return None  # these requests do not go through proxies; s3fs's do (as botocore's, for dvc)
        return http

    # -- the three requests ---------------------------------------------------------------------

    def etag(self, key: str) -> str | None:
        """The object's ETag without quotes; None if ``key`` is absent."""
        resp = self._head(key, f"stat {key}")
        tag = resp.getheader("ETag") if resp is not None else None
        return tag.strip('"') if tag else None

    def version_id(self, key: str) -> str | None:
        """The current object's ``x-amz-version-id`` (None: absent, or a bucket without versioning)."""
        resp = self._head(key, f"stat {key}")
        vid = resp.getheader("x-amz-version-id") if resp is not None else None
        return vid if vid and vid != "null" else None

    def head(self, key: str) -> bool:
        """True if ``key`` (bucket-relative) exists."""
        return self._head(key, f"check {key}") is not None

    def stat(self, key: str) -> tuple[int | None, float | None] | None:
        """``(size, last modified as seconds since the epoch)``, either None when the answer does not
        say; None if ``key`` is absent."""
        import email.utils

        resp = self._head(key, f"stat {key}")
        if resp is None:
            return None
        size = resp.getheader("Content-Length")
        when = resp.getheader("Last-Modified")
        try:
            stamp = email.utils.parsedate_to_datetime(when).timestamp() if when else None
        except (TypeError, ValueError):
            stamp = None
        return (int(size) if size and size.isdigit() else None), stamp

    def _head(self, key: str, what: str) -> Any:
        """The answer to a HEAD of ``key``; None if it is absent."""
        resp = self._request("HEAD", key, what=what)
        resp.read()
        if resp.status == 404:
            return None
        self._check(resp, what)
        return resp

    def delete(self, key: str) -> None:
        """One DeleteObject (S3 answers 204 whether or not the key existed)."""
        resp = self._request("DELETE", key, what=f"delete {key}")
        try:
            self._check(resp, f"delete {key}")
        except StorageNotFound:
            return  # some S3-compatible servers answer NoSuchKey where S3 answers 204
        resp.read()

    def delete_many(self, keys: list[str]) -> None:
        """One DeleteObjects request for up to 1,000 ``keys``; a key S3 could not delete raises."""
        from xml.sax.saxutils import escape

        if len(keys) > DELETE_BATCH:
            raise ValueError(f"DeleteObjects takes at most {DELETE_BATCH} keys")
        body = ("<Delete><Quiet>true</Quiet>" + "".join(f"<Object><Key>{escape(k)}</Key></Object>" for k in keys)
                + "</Delete>").encode()
        md5 = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
        what = f"delete {len(keys)} objects"
        resp = self._request("POST", "", body, {"Content-MD5": md5, "Content-Type": "application/xml"},
                             what=what, query={"delete": ""})
        self._check(resp, what)
        for el in xml_answer(resp.read(), what):
            code = xml_text(el, "Code")
            if xml_name(el.tag) == "Error" and code != "NoSuchKey":  # NoSuchKey: gone, what a delete wants
                raise error_for(403 if code == "AccessDenied" else 400, code, xml_text(el, "Message"),
                                f"delete {xml_text(el, 'Key') or '?'}")  # only the code says the status

    def put(self, key: str, data: bytes, sha256: str | None = None) -> None:
        """One PutObject; S3 checks the body against its Content-MD5. ``sha256``: the body's SHA-256
        (hex) when the caller has it: signed as is, not computed again."""
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        resp = self._request("PUT", key, data, {"Content-MD5": md5, "Content-Type": "application/octet-stream"},
                             what=f"upload {key}", sha256=sha256)
        self._check(resp, f"upload {key}")
        resp.read()

    def get_to(self, key: str, path: str) -> None:
        """Stream ``key`` into the new file ``path``. A transfer cut short leaves what arrived in
        ``path`` (the engine resumes from it) and raises ``StorageTransient``."""
        from tide.storage.errors import translate

        what = f"download {key}"
        resp = self._request("GET", key, what=what)
        try:
            self._check(resp, what)
            with open(path, "wb") as out:
                while chunk := resp.read(1 << 20):
                    out.write(chunk)
            if resp.length:  # read() gives b"" at a premature end of a sized body, raising nothing
                raise StorageTransient(f"{what}: the connection closed {resp.length} bytes before the end")
        except (OSError, StorageError) as exc:
            self._conns.drop(resp)
            if isinstance(exc, (StorageError, FileNotFoundError, PermissionError)):
                raise
            raise translate(exc, what) from exc
        except Exception as exc:  # http1.RemoteProtocolError and the like
            self._conns.drop(resp)
            raise translate(exc, what) from exc

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        """``length`` bytes of ``key`` from ``offset`` (fewer at its end) with one bounded Range GET:
        the connection stays reusable (an open-ended one would have to be dropped)."""
        from tide.storage.errors import translate

        if length <= 0:
            return b""
        what = f"read {key}"
        resp = self._request("GET", key, headers={"Range": f"bytes={offset}-{offset + length - 1}"}, what=what)
        if resp.status == 416:  # nothing at this offset
            resp.read()
            return b""
        try:
            self._check(resp, what)
            data = resp.read()
            if resp.length:
                raise StorageTransient(f"{what}: the connection closed {resp.length} bytes before the end")
        except StorageError:
            self._conns.drop(resp)
            raise
        except Exception as exc:  # a connection lost midway, http1.RemoteProtocolError and the like
            self._conns.drop(resp)
            raise translate(exc, what) from exc
        return data if resp.status == 206 else data[offset:offset + length]  # a server that ignored Range

    def list(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix`` (bucket-relative), 1,000 per ListObjectsV2 request."""
        return (key for key, _ in self.list_ages(prefix))

    def list_ages(self, prefix: str) -> Iterator[tuple[str, float | None]]:
        """``(key, last modified as seconds since the epoch)`` for every key under ``prefix``."""
        from datetime import datetime

        token = None
        while True:
            query = {"list-type": "2", "prefix": prefix, **({"continuation-token": token} if token else {})}
            resp = self._request("GET", "", query=query, what=f"list {prefix or '/'}")
            self._check(resp, f"list {prefix or '/'}")
            token, truncated = None, False
            for el in xml_answer(resp.read(), f"list {prefix or '/'}"):
                tag = xml_name(el.tag)
                if tag == "Contents":
                    try:
                        when = datetime.fromisoformat(xml_text(el, "LastModified")).timestamp()
                    except ValueError:
                        when = None
                    yield xml_text(el, "Key"), when
                elif tag == "NextContinuationToken":
                    token = el.text
                elif tag == "IsTruncated":
                    truncated = (el.text or "").strip() == "true"
            if not (truncated and token):
                return

    def open(self, key: str, version_id: str | None = None) -> BinaryIO:
        """A reader of ``key`` (its version ``version_id``): one GET on the first read, from the position
        a ``seek`` before it set (a Range request: resuming a download asks only for the bytes after what
        arrived)."""
        return _Body(self, key, version_id)

    # -- plumbing -------------------------------------------------------------------------------

    def _set_region(self, region: str) -> None:
        self.region = region
        scheme = "https" if self.use_ssl else "http"
        if self.custom_endpoint:
            self.endpoint, self.path_style = self.custom_endpoint.rstrip("/"), True
        elif "." in self.bucket:  # a virtual host with dots fails TLS name checks
            self.endpoint, self.path_style = f"{scheme}://s3.{region}.amazonaws.com", True
        else:
            self.endpoint, self.path_style = f"{scheme}://{self.bucket}.s3.{region}.amazonaws.com", False

    def _where(self, key: str) -> tuple[str, str, str]:
        """The scheme, host and path of ``key``'s URL (path-style or virtual-hosted)."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.endpoint)
        path = quote(key, safe="/~")
        path = f"{parts.path}/{self.bucket}/{path}" if self.path_style else f"{parts.path}/{path}"
        return parts.scheme, parts.netloc, path

    def _request(self, method: str, key: str, body: bytes = b"", headers: dict[str, str] | None = None,
                 what: str = "", query: dict[str, str] | None = None, sha256: str | None = None) -> Any:
        """Send one signed request; the response's body is left to the caller. A bucket found to
        live in another region is asked again there."""
        from tide.storage.errors import translate

        creds = self.ready()
        qs = "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in sorted(query.items())) if query else ""
        for _ in range(2):
            scheme, host, path = self._where(key)
            hdrs = {"Host": host, "User-Agent": self.user_agent, **(headers or {})}
            if creds is not None:
                hdrs.update(sign(method, host, path, qs, hdrs, body, creds(), self.region, payload=sha256))
            try:
                resp = self._conns.send(scheme, host, method, f"{path}?{qs}" if qs else path, body, hdrs)
            except (StorageError, FileNotFoundError, PermissionError):
                raise
            except Exception as exc:  # socket, TLS and HTTP framing errors
                raise translate(exc, what) from exc
            region = resp.getheader("x-amz-bucket-region")
            if resp.status not in (301, 307, 400) or not region or region == self.region:
                return resp
            resp.read()
            with self._lock:
                self._set_region(region)  # the bucket lives elsewhere: as botocore, ask there
        return resp

    def has_credentials(self) -> bool:
        """Whether credentials were found (or none are needed: anonymous); resolved now, once."""
        try:
            self.ready()
        except NoCredentials:
            return False
        return True

    def ready(self) -> Any:
        """The credentials (``None`` when anonymous), resolved on first use."""
        if self._creds is not _UNSET:
            return self._creds
        with self._lock:
            if self._creds is _UNSET:
                creds = None if self._anonymous else _credentials(self._spec, self._env)
                if creds is None and not self._anonymous:
                    raise NoCredentials
                self._conns = _Connections(self._verify, self._timeouts)
                self._creds = creds
        return self._creds

    def _check(self, resp: Any, what: str) -> None:
        """Raise the storage error a response that is not a success stands for (its body read)."""
        status = resp.status
        if 200 <= status < 300:
            return
        body = resp.read() if status != 304 else b""
        m = _CODE.search(body)
        code = m.group(1).decode(errors="replace") if m else ""
        m = _MESSAGE.search(body)
        raise error_for(status, code, m.group(1).decode(errors="replace") if m else "", what)


def error_for(status: int, code: str, message: str, what: str) -> StorageError:
    """The storage error for an S3 error answer: its HTTP status, error code and message."""
    detail = ": ".join(x for x in (code or f"HTTP {status}", message) if x)
    if status == 404 and code in ("", "NoSuchKey"):
        return StorageNotFound(f"{what}: not found")
    if status in _TRANSIENT_STATUS or code in ("SlowDown", "InternalError", "RequestTimeout"):
        return StorageTransient(f"{what}: {detail}")
    if status == 403:
        return StoragePermanent(f"{what}: access denied ({detail})")
    return StoragePermanent(f"{what}: {detail}")


class _Body(io.RawIOBase):
    """A streamed object body (``S3Http.open``)."""

    def __init__(self, http: S3Http, key: str, version_id: str | None = None) -> None:
        super().__init__()
        self._http, self._key, self._pos, self._resp = http, key, 0, None
        self._query = {"versionId": version_id} if version_id else None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence != 0:
            raise OSError("only absolute positions")
        if offset != self._pos:
            self._drop()
            self._pos = offset
        return self._pos

    def readinto(self, buf: Any) -> int:
        return self._read(lambda resp: resp.readinto(buf))

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (fewer only at the end), copied once from the socket's buffer."""
        if size is None or size < 0:
            return self.readall()
        return self._read(lambda resp: resp.read(size))

    def _read(self, take: Callable[[Any], Any]) -> Any:
        from tide.storage.errors import translate

        what = f"read {self._key}"
        if self._resp is None:
            headers = {"Range": f"bytes={self._pos}-"} if self._pos else {}
            resp = self._http._request("GET", self._key, headers=headers, what=what, query=self._query)
            if resp.status == 416:  # nothing after this position
                resp.read()
                return take(io.BytesIO())  # reads as nothing
            self._http._check(resp, what)
            self._resp = resp
        try:
            got = take(self._resp)
        except Exception as exc:  # a connection lost midway
            self._drop()
            raise translate(exc, what) from exc
        n = got if isinstance(got, int) else len(got)
        if not n and self._resp.length:
            self._drop()
            raise StorageTransient(f"{what}: the connection closed before the end")
        self._pos += n
        return got

    def _drop(self) -> None:
        if self._resp is not None:
            if self._resp.length or not self._resp.isclosed():
                self._http._conns.drop(self._resp)  # a body not read to the end
            self._resp = None

    def close(self) -> None:
        self._drop()
        super().close()


class NoCredentials(Exception):
    """No credentials found: s3fs serves the remote instead, and reports it as before."""


def _session(spec: RemoteSpec) -> Any:
    import botocore.session

    session = botocore.session.Session(profile=spec.get("profile"))
    if spec.get("credentialpath"):
        session.set_config_variable("credentials_file", spec.get("credentialpath"))
    if spec.get("configpath"):
        session.set_config_variable("config_file", spec.get("configpath"))
    return session


def _configured_region(spec: RemoteSpec, env: Env) -> str | None:
    """As botocore: the environment's AWS_DEFAULT_REGION, else the profile's (without loading
    botocore, ~0.3 s, when the environment says)."""
    if env.get("AWS_DEFAULT_REGION"):
        return env.get("AWS_DEFAULT_REGION")
    try:
        return _session(spec).get_config_variable("region")
    except Exception:  # an unreadable profile: s3fs reports it
        return None


Creds = Callable[[], tuple[str, str, str | None]]


def _credentials(spec: RemoteSpec, env: Env) -> Creds | None:
    """A function giving the current (key id, secret, token), in botocore's order: the remote's
    options, then (without an explicit profile) the AWS_* variables, then botocore's chain
    (profiles, ``credentialpath``, container and instance roles, refreshed when they expire)."""
    if spec.get("access_key_id") and spec.get("secret_access_key"):
        fixed = (spec.get("access_key_id"), spec.get("secret_access_key"), spec.get("session_token"))
        return lambda: fixed
    if not spec.get("profile") and env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        fixed = (env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY"),
                 env.get("AWS_SESSION_TOKEN") or env.get("AWS_SECURITY_TOKEN"))
        return lambda: fixed
    found = _session(spec).get_credentials()
    if found is None:
        return None

    def current() -> tuple[str, str, str | None]:
        c = found.get_frozen_credentials()
        return c.access_key, c.secret_key, c.token

    return current


_SIGNED = frozenset({"host", "content-md5", "content-type", "range"})


def sign(method: str, host: str, path: str, query: str, headers: dict[str, str], body: bytes,
         creds: tuple[str, str, str | None], region: str, now: time.struct_time | None = None,
         payload: str | None = None) -> dict[str, str]:
    """The headers that sign a request with AWS Signature Version 4 for S3 (the payload's SHA-256
    signed too: ``payload``, its hex digest when the caller has it, else computed here). ``path``
    and ``query`` as sent: URI-encoded, the query's pairs sorted."""
    key_id, secret, token = creds
    amzdate = time.strftime("%Y%m%dT%H%M%SZ", now or time.gmtime())
    payload = payload or hashlib.sha256(body).hexdigest()
    out = {"X-Amz-Date": amzdate, "X-Amz-Content-SHA256": payload}
    if token:
        out["X-Amz-Security-Token"] = token
    signed = {k.lower(): " ".join(v.split()) for k, v in headers.items() if k.lower() in _SIGNED}
    signed.update({"host": host, **{k.lower(): v for k, v in out.items()}})
    names = sorted(signed)
    canonical = "\n".join((method, path, query, "".join(f"{n}:{signed[n]}\n" for n in names), ";".join(names),
                           payload))
    scope = f"{amzdate[:8]}/{region}/s3/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amzdate}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    signature = hmac.new(_signing_key(secret, amzdate[:8], region), to_sign.encode(), hashlib.sha256).hexdigest()
    out["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders={';'.join(names)}, "
                            f"Signature={signature}")
    return out


@functools.lru_cache(maxsize=8)
def _signing_key(secret: str, date: str, region: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


class _Connections:
    """One kept-alive connection per thread and host (``http1``: each worker thread sends its own
    requests, and nothing is shared between threads but the TLS context)."""

    def __init__(self, verify: bool | str, timeouts: tuple[float, float]) -> None:
        self._local = threading.local()
        self._timeouts = timeouts
        self._tls: Any = None
        self._verify = verify

    def _context(self) -> Any:
        if self._tls is None:
            import ssl

            if self._verify is False:
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            elif isinstance(self._verify, str):
                ctx = ssl.create_default_context(cafile=self._verify)
            else:
                try:
                    import certifi

                    ctx = ssl.create_default_context(cafile=certifi.where())  # as botocore
                except ImportError:
                    ctx = ssl.create_default_context()
            self._tls = ctx
        return self._tls

    def send(self, scheme: str, netloc: str, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
        from tide.storage import http1

        conns = self._local.__dict__.setdefault("conns", {})
        key = (scheme, netloc)
        conn = conns.get(key)
        if conn is not None and not conn.idle:  # closed by the server, or an answer left unread
            conn.close()
            conn = None
        for attempt in range(2):
            reused = conn is not None
            if conn is None:
                host, port = _host_port(netloc, 443 if scheme == "https" else 80)
                conn = http1.Connection(host, port, self._timeouts,
                                        self._context() if scheme == "https" else None)
                conns[key] = conn
            try:
                resp = conn.request(method, path, headers, body)
                resp.conn_key = key
                return resp
            except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
                conn.close()
                conns.pop(key, None)
                conn = None
                if not reused or attempt:  # a kept-alive connection the server had closed: once more
                    raise
            except BaseException:
                conn.close()
                conns.pop(key, None)
                raise
        raise AssertionError("unreachable")

    def drop(self, resp: Any) -> None:
        """Close this thread's connection that ``resp`` came on (its body was not read to the end)."""
        conn = self._local.__dict__.get("conns", {}).pop(getattr(resp, "conn_key", None), None)
        if conn is not None:
            conn.close()


def _host_port(netloc: str, default: int) -> tuple[str, int]:
    from urllib.parse import urlsplit

    parts = urlsplit(f"//{netloc}")
    return parts.hostname or netloc, parts.port or default


def _proxied(scheme: str, netloc: str, env: Env) -> bool:
    """Whether the environment sends requests to ``netloc`` through a proxy (``HTTPS_PROXY``,
    ``HTTP_PROXY``, ``ALL_PROXY`` and ``NO_PROXY``, in either case, as botocore reads them)."""
    wanted = {f"{scheme}_proxy", "all_proxy"}
    if not any(name.lower() in wanted and value for name, value in env.values.items()):
        return False
    import urllib.request  # only here: ~8 ms to import

    proxies = _proxies(env)
    if not (proxies.get(scheme) or proxies.get("all")):
        return False
    return not urllib.request.proxy_bypass_environment(netloc, proxies)  # NO_PROXY; it strips the port


def _proxies(env: Env) -> dict[str, str]:
    """``urllib.request.getproxies_environment()`` over ``env`` instead of ``os.environ``, step for step:
    ``<scheme>_proxy`` in any case, a lower-case name winning; ``no`` holds NO_PROXY."""
    proxies: dict[str, str] = {}
    for name, value in env.values.items():
        low = name.lower()
        if value and low[-6:] == "_proxy":
            proxies[low[:-6]] = value
    if "REQUEST_METHOD" in env.values:  # CVE-2016-1000110: a CGI script ignores HTTP_PROXY
        proxies.pop("http", None)
    for name, value in env.values.items():
        if name[-6:] == "_proxy":
            low = name.lower()
            if value:
                proxies[low[:-6]] = value
            else:
                proxies.pop(low[:-6], None)
    return proxies


def xml_answer(data: bytes, what: str) -> Any:
    """An S3 answer's XML document. One that is not XML (a proxy's error page, a body cut short)
    is transient."""
    from xml.etree import ElementTree

    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise StorageTransient(f"{what}: the answer is not XML ({exc})") from exc


def xml_name(tag: str) -> str:
    """A tag without its namespace (``{http://s3.amazonaws.com/doc/2006-03-01/}Key`` -> ``Key``)."""
    return tag.rsplit("}", 1)[-1]


def xml_text(el: Any, name: str) -> str:
    """The text of ``el``'s first child called ``name`` ("" if none)."""
    for sub in el:
        if xml_name(sub.tag) == name:
            return (sub.text or "").strip()
    return ""
