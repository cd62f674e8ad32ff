"""``gdrive://FOLDER_ID/path`` remotes on the Google Drive v3 REST API (httpx), as DVC lays them out.

The URL's first part is a folder id, ``root`` (My Drive) or ``appDataFolder``; the rest is a
folder path under it. Keys become nested folders (``files`` / ``md5`` / ``ab``) holding a file
named ``cdef...``: exactly DVC's layout, so dvc and tide share a Drive remote.

Authentication (DVC's option names):
- service account: ``gdrive_use_service_account = true`` with the key file in
  ``gdrive_service_account_json_file_path`` or its JSON text in ``GDRIVE_CREDENTIALS_DATA``;
  ``gdrive_service_account_user_email`` impersonates a user (domain-wide delegation). A signed
  JWT is exchanged at the key's ``token_uri``.
- OAuth user credentials: a JSON file with ``refresh_token``, ``client_id``, ``client_secret``
  (``gdrive_user_credentials_file`` or ``GDRIVE_CREDENTIALS_DATA``), refreshed at its
  ``token_uri``. tide does not run the browser consent flow: create the file once with dvc.

``TIDE_GDRIVE_API_URL`` points the client at another endpoint (the test suite's Drive fake).
Uploads create the file in one request (multipart, or a resumable session for large files);
Drive shows a file only once its upload completes.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any, BinaryIO

from tide.core.config import Env, to_bool
from tide.storage.base import (
    Backend,
    Capabilities,
    RemoteSpec,
    StorageNotFound,
    StoragePermanent,
    StorageTransient,
    join_key,
)
from tide.storage.errors import translate

FOLDER = "application/vnd.google-apps.folder"
SCOPE = "https://www.googleapis.com/auth/drive"
DEFAULT_API = "https://www.googleapis.com"
RESUMABLE_MIN = 2 << 20
CAPS = Capabilities(atomic_put=True, rename=False, cheap_listing=True, default_jobs=8)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _q(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


class _Token:
    """An access token, refreshed before it expires (service-account JWT or OAuth refresh token)."""

    def __init__(self, http: Any, creds: dict[str, Any], service: bool, subject: str | None) -> None:
        self.http, self.creds, self.service, self.subject = http, creds, service, subject
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._token is None or time.time() > self._expires - 60:
                self._refresh()
            return self._token  # type: ignore[return-value]

    def _refresh(self) -> None:
        uri = self.creds.get("token_uri") or "https://oauth2.googleapis.com/token"
        if self.service:
            data = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": self._jwt(uri)}
        else:
            data = {"grant_type": "refresh_token", "refresh_token": self.creds["refresh_token"],
                    "client_id": self.creds.get("client_id", ""), "client_secret": self.creds.get("client_secret", "")}
        try:
            r = self.http.post(uri, data=data)
        except Exception as exc:
            raise translate(exc, "Google Drive sign-in")
        if r.status_code >= 500:
            raise StorageTransient(f"Google Drive sign-in: HTTP {r.status_code}")
        if r.status_code != 200:
            raise StoragePermanent(f"Google Drive sign-in refused (HTTP {r.status_code}): check the credentials")
        body = r.json()
        self._token = body["access_token"]
        self._expires = time.time() + float(body.get("expires_in", 3600))

    def _jwt(self, aud: str) -> str:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding

        now = int(time.time())
        claims = {"iss": self.creds["client_email"], "scope": SCOPE, "aud": aud, "iat": now, "exp": now + 3600}
        if self.subject:
            claims["sub"] = self.subject
        head = {"alg": "RS256", "typ": "JWT"}
        if self.creds.get("private_key_id"):
            head["kid"] = self.creds["private_key_id"]
        signing = f"{_b64(json.dumps(head).encode())}.{_b64(json.dumps(claims).encode())}".encode()
        try:
            key = serialization.load_pem_private_key(self.creds["private_key"].encode(), password=None)
        except (ValueError, TypeError) as exc:
            raise StoragePermanent(f"the service account key is not a valid PEM private key ({exc})")
        sig = key.sign(signing, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr]
        return f"{signing.decode()}.{_b64(sig)}"


class GDriveBackend(Backend):
    capabilities = CAPS

    def __init__(self, url: str, api: str, token: _Token, http: Any, trash_only: bool = False,
                 acknowledge_abuse: bool = False) -> None:
        rest = url.split("://", 1)[1].strip("/")
        self.root_id, _, self.base_path = rest.partition("/")
        if not self.root_id:
            raise StoragePermanent(f"'{url}': a gdrive URL needs a folder id, 'root' or 'appDataFolder'")
        self.url = url
        self.api = api.rstrip("/")
        self.token = token
        self.http = http
        self.trash_only = trash_only
        self.acknowledge_abuse = "true" if acknowledge_abuse else "false"
        self._ids: dict[str, str] = {"": self.root_id}
        self._lock = threading.Lock()

    # --- HTTP --------------------------------------------------------------------------------
    def _req(self, method: str, path: str, what: str, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}))
        headers["Authorization"] = f"Bearer {self.token.get()}"
        url = path if path.startswith("http") else f"{self.api}{path}"
        params = dict(kw.pop("params", {}))
        params.setdefault("supportsAllDrives", "true")
        try:
            r = self.http.request(method, url, headers=headers, params=params, **kw)
        except Exception as exc:
            raise translate(exc, what)
        if r.status_code == 404:
            raise StorageNotFound(f"{what}: not found")
        if r.status_code == 429 or r.status_code >= 500 or (r.status_code == 403 and b"ateLimit" in r.content):
            raise StorageTransient(f"{what}: HTTP {r.status_code}")
        if r.status_code == 401:
            self.token._token = None
            raise StoragePermanent(f"{what}: Google Drive refused the credentials (HTTP 401)")
        if r.status_code >= 400:
            raise StoragePermanent(f"{what}: HTTP {r.status_code} {r.text[:200]}")
        return r

    def _children(self, parent: str, name: str | None = None, folders_only: bool = False) -> list[dict[str, Any]]:
        q = [f"'{_q(parent)}' in parents", "trashed = false"]
        if name is not None:
            q.append(f"name = '{_q(name)}'")
        if folders_only:
            q.append(f"mimeType = '{FOLDER}'")
        out: list[dict[str, Any]] = []
        token = None
        while True:
            params = {"q": " and ".join(q), "fields": "nextPageToken, files(id, name, mimeType, size)",
                      "pageSize": "1000", "includeItemsFromAllDrives": "true"}
            if token:
                params["pageToken"] = token
            body = self._req("GET", "/drive/v3/files", f"list {parent}", params=params).json()
            out.extend(body.get("files", []))
            token = body.get("nextPageToken")
            if not token:
                return out

    # --- paths -------------------------------------------------------------------------------
    def _folder(self, path: str, create: bool) -> str | None:
        """The id of folder ``path`` (relative to the remote's root folder), creating it if asked."""
        with self._lock:
            if path in self._ids:
                return self._ids[path]
        parent_path, _, name = path.rpartition("/")
        parent = self._folder(parent_path, create)
        if parent is None:
            return None
        with self._lock:  # one creator at a time, so concurrent uploads never make twin folders
            if path in self._ids:
                return self._ids[path]
            found = self._children(parent, name, folders_only=True)
            if found:
                fid = found[0]["id"]
            elif create:
                meta = {"name": name, "mimeType": FOLDER, "parents": [parent]}
                fid = self._req("POST", "/drive/v3/files", f"create folder {path}", json=meta,
                                params={"fields": "id"}).json()["id"]
            else:
                return None
            self._ids[path] = fid
            return fid

    def _file(self, key: str) -> dict[str, Any] | None:
        full = join_key(self.base_path, key)
        parent_path, _, name = full.rpartition("/")
        parent = self._folder(parent_path, create=False)
        if parent is None:
            return None
        hits = [f for f in self._children(parent, name) if f.get("mimeType") != FOLDER]
        return hits[0] if hits else None

    # --- Backend -----------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        return self._file(key) is not None

    def list(self, prefix: str = "") -> Iterator[str]:
        start = join_key(self.base_path, prefix.rstrip("/"))
        fid = self._folder(start, create=False)
        if fid is None:
            return
        stack = [(fid, prefix.rstrip("/"))]
        keys: list[str] = []
        while stack:
            folder, rel = stack.pop()
            for f in self._children(folder):
                k = f"{rel}/{f['name']}" if rel else f["name"]
                if f.get("mimeType") == FOLDER:
                    stack.append((f["id"], k))
                else:
                    keys.append(k)
        yield from sorted(set(keys))

    def size(self, key: str) -> int:
        f = self._file(key)
        if f is None:
            raise StorageNotFound(f"{key}: not found")
        return int(f.get("size") or 0)

    def _download(self, key: str, out: BinaryIO) -> None:
        f = self._file(key)
        if f is None:
            raise StorageNotFound(f"{key}: not found")
        headers = {"Authorization": f"Bearer {self.token.get()}"}
        url = f"{self.api}/drive/v3/files/{f['id']}"
        try:
            with self.http.stream("GET", url, params={"alt": "media", "acknowledgeAbuse": self.acknowledge_abuse},
                                  headers=headers) as r:
                if r.status_code == 404:
                    raise StorageNotFound(f"{key}: not found")
                if r.status_code == 429 or r.status_code >= 500:
                    raise StorageTransient(f"download {key}: HTTP {r.status_code}")
                if r.status_code >= 400:
                    raise StoragePermanent(f"download {key}: HTTP {r.status_code}")
                for chunk in r.iter_bytes(1 << 20):
                    out.write(chunk)
        except (StorageNotFound, StorageTransient, StoragePermanent):
            raise
        except Exception as exc:
            raise translate(exc, f"download {key}")

    def open(self, key: str) -> BinaryIO:
        buf = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115
        try:
            self._download(key, buf)
        except BaseException:
            buf.close()
            raise
        buf.seek(0)
        return buf  # type: ignore[return-value]

    def get_file(self, key: str, path: str) -> None:
        with open(path, "wb") as out:
            self._download(key, out)

    def put_stream(self, stream: BinaryIO, key: str, size: int, sha256: str | None = None) -> None:
        full = join_key(self.base_path, key)
        parent_path, _, name = full.rpartition("/")
        parent = self._folder(parent_path, create=True)
        old = self._file(key)
        data = stream.read() if size < RESUMABLE_MIN else None
        meta: dict[str, Any] = {"name": name} if old else {"name": name, "parents": [parent]}
        method, path = ("PATCH", f"/upload/drive/v3/files/{old['id']}") if old else ("POST", "/upload/drive/v3/files")
        if data is not None:
            boundary = f"tide{os.urandom(8).hex()}"
            body = (f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{json.dumps(meta)}\r\n"
                    f"--{boundary}\r\nContent-Type: application/octet-stream\r\n\r\n").encode() + data + \
                f"\r\n--{boundary}--".encode()
            self._req(method, path, f"upload {key}", content=body, params={"uploadType": "multipart", "fields": "id"},
                      headers={"Content-Type": f"multipart/related; boundary={boundary}"})
            return
        r = self._req(method, path, f"upload {key}", json=meta, params={"uploadType": "resumable"},
                      headers={"X-Upload-Content-Length": str(size)})
        session = r.headers.get("Location")
        if not session:
            raise StoragePermanent(f"upload {key}: Drive returned no upload session")
        self._req("PUT", session, f"upload {key}", content=_iter(stream),
                  headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"})

    def put_file(self, path: str, key: str) -> None:
        try:
            size = os.stat(path).st_size
            f = open(path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise translate(exc, f"upload {key}")
        with f:
            self.put_stream(f, key, size)

    def delete(self, key: str) -> None:
        f = self._file(key)
        if f is None:
            return
        try:
            if self.trash_only:
                self._req("PATCH", f"/drive/v3/files/{f['id']}", f"trash {key}", json={"trashed": True})
            else:
                self._req("DELETE", f"/drive/v3/files/{f['id']}", f"delete {key}")
        except StorageNotFound:
            pass

    def close(self) -> None:
        self.http.close()


def _iter(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(1 << 20):
        yield chunk


def _credentials(spec: RemoteSpec, env: Env, service: bool) -> dict[str, Any]:
    data = env.get("GDRIVE_CREDENTIALS_DATA")
    path = spec.get("gdrive_service_account_json_file_path") if service else spec.get("gdrive_user_credentials_file")
    if data:
        where = "GDRIVE_CREDENTIALS_DATA"
        text = data
    elif path:
        where = path
        try:
            with open(os.path.expanduser(path), encoding="utf-8") as f:
                text = f.read()
        except OSError as exc:
            raise StoragePermanent(f"cannot read Google Drive credentials '{path}': {exc.strerror}")
    else:
        opt = "gdrive_service_account_json_file_path" if service else "gdrive_user_credentials_file"
        raise StoragePermanent(f"Google Drive needs credentials: set GDRIVE_CREDENTIALS_DATA or "
                               f"'tide remote modify --local {spec.name or 'NAME'} {opt} PATH'")
    try:
        creds = json.loads(text)
    except ValueError:
        raise StoragePermanent(f"Google Drive credentials in {where} are not valid JSON")
    need = ("client_email", "private_key") if service else ("refresh_token",)
    missing = [k for k in need if not creds.get(k)]
    if missing or not isinstance(creds, dict):
        kind = "service account key" if service else "OAuth user credentials"
        raise StoragePermanent(f"Google Drive {kind} in {where} lack {', '.join(missing) or 'fields'}")
    return creds


def open_backend(spec: RemoteSpec, env: Env) -> GDriveBackend:
    import httpx

    service = to_bool(spec.get("gdrive_use_service_account") or "false", "gdrive_use_service_account")
    creds = _credentials(spec, env, service)
    http = httpx.Client(timeout=httpx.Timeout(60.0, connect=15.0), follow_redirects=True,
                        limits=httpx.Limits(max_connections=32, max_keepalive_connections=32))
    token = _Token(http, creds, service, spec.get("gdrive_service_account_user_email"))
    trash = to_bool(spec.get("gdrive_trash_only") or "false", "gdrive_trash_only")
    abuse = to_bool(spec.get("gdrive_acknowledge_abuse") or "false", "gdrive_acknowledge_abuse")
    return GDriveBackend(spec.url, env.get("TIDE_GDRIVE_API_URL") or DEFAULT_API, token, http, trash, abuse)
