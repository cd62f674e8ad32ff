"""A stateful fake of the Google Drive v3 REST API with service-account sign-in, on loopback.

Google Drive cannot run here, so this follows the documented API closely enough for a client:
- ``POST /token``: OAuth 2 token endpoint; accepts ``urn:ietf:params:oauth:grant-type:jwt-bearer``
  assertions signed (RS256) by a service-account key this fake issued, and ``refresh_token`` grants.
- ``GET /drive/v3/files?q=...``: search with the query language subset clients use
  (``'ID' in parents``, ``name = '...'``, ``mimeType = '...'``, ``trashed = false`` joined by ``and``),
  paginated by ``pageSize``/``pageToken``.
- ``GET /drive/v3/files/ID`` (metadata, or content with ``alt=media``), ``POST /drive/v3/files``
  (metadata only: folders), ``PATCH /drive/v3/files/ID`` (``trashed``), ``DELETE /drive/v3/files/ID``.
- ``POST|PATCH /upload/drive/v3/files[/ID]?uploadType=multipart|resumable`` and the resumable
  session ``PUT``.
Every API call needs a valid bearer token (401 otherwise). Files keep md5Checksum and size.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import re
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

from tests.fakes.servers import free_port, wait_port

FOLDER = "application/vnd.google-apps.folder"


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class DriveState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.files: dict[str, dict] = {"root": {"id": "root", "name": "My Drive", "mimeType": FOLDER, "parents": [],
                                                "trashed": False}}
        self.content: dict[str, bytes] = {}
        self.tokens: dict[str, float] = {}
        self.sessions: dict[str, dict] = {}
        self.requests = 0

    def new_id(self) -> str:
        return uuid.uuid4().hex

    def public(self, f: dict) -> dict:
        out = {k: v for k, v in f.items() if k != "trashed"}
        if f["mimeType"] != FOLDER:
            data = self.content.get(f["id"], b"")
            out["size"] = str(len(data))
            out["md5Checksum"] = hashlib.md5(data).hexdigest()
        return out


_CLAUSE = re.compile(r"^\s*(?:'(?P<pid>(?:[^'\\]|\\.)*)'\s+in\s+parents|name\s*=\s*'(?P<name>(?:[^'\\]|\\.)*)'"
                     r"|mimeType\s*=\s*'(?P<mime>[^']*)'|mimeType\s*!=\s*'(?P<notmime>[^']*)'"
                     r"|trashed\s*=\s*(?P<trashed>true|false))\s*$")


def _unq(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def matcher(q: str):
    tests = []
    for clause in q.split(" and "):
        m = _CLAUSE.match(clause)
        if not m:
            raise ValueError(f"unsupported query clause {clause!r}")
        if m.group("pid") is not None:
            pid = _unq(m.group("pid"))
            tests.append(lambda f, pid=pid: pid in f.get("parents", []))
        elif m.group("name") is not None:
            name = _unq(m.group("name"))
            tests.append(lambda f, name=name: f["name"] == name)
        elif m.group("mime") is not None:
            mime = m.group("mime")
            tests.append(lambda f, v=mime: f["mimeType"] == v)
        elif m.group("notmime") is not None:
            notmime = m.group("notmime")
            tests.append(lambda f, v=notmime: f["mimeType"] != v)
        else:
            trashed = m.group("trashed") == "true"
            tests.append(lambda f, v=trashed: f["trashed"] == v)
    return lambda f: all(t(f) for t in tests)


class FakeDrive:
    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.state = DriveState()
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.email = "tide-test@fake-project.iam.gserviceaccount.com"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        handler = type("H", (_Handler,), {"drive": self})
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        wait_port(self.port)

    def new_folder(self) -> str:
        s = self.state
        with s.lock:
            fid = s.new_id()
            s.files[fid] = {"id": fid, "name": f"shared-{fid[:6]}", "mimeType": FOLDER, "parents": ["root"],
                            "trashed": False}
        return fid

    def service_account_file(self, path: str) -> str:
        from cryptography.hazmat.primitives import serialization

        pem = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode()
        data = {"type": "service_account", "project_id": "fake-project", "private_key_id": "k1",
                "private_key": pem, "client_email": self.email, "client_id": "1",
                "token_uri": f"{self.base}/token"}
        with open(path, "w") as f:
            json.dump(data, f)
        return path

    def check_jwt(self, assertion: str) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            head, claims, sig = assertion.split(".")
            self.key.public_key().verify(_unb64(sig), f"{head}.{claims}".encode(), padding.PKCS1v15(),
                                         hashes.SHA256())
            c = json.loads(_unb64(claims))
        except (ValueError, InvalidSignature):
            return False
        return c.get("iss") == self.email and c.get("aud") == f"{self.base}/token" and c.get("exp", 0) > time.time()

    def paths(self) -> list[str]:
        """Every non-trashed file as a folder path, for assertions."""
        s = self.state
        out = []
        with s.lock:
            for f in s.files.values():
                if f["mimeType"] == FOLDER or f["trashed"]:
                    continue
                parts, cur = [f["name"]], f
                while cur.get("parents"):
                    cur = s.files[cur["parents"][0]]
                    parts.append(cur["name"])
                out.append("/".join(reversed(parts)))
        return sorted(out)

    def stop(self) -> None:
        self.server.shutdown()


class _Handler(http.server.BaseHTTPRequestHandler):
    drive: FakeDrive
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        import socket

        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no delayed-ACK stalls

    # --- helpers -------------------------------------------------------------------------------
    def _send(self, code: int, body: bytes | dict | None = None, headers: dict | None = None) -> None:
        raw = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if isinstance(body, dict):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, code: int, reason: str) -> None:
        self._send(code, {"error": {"code": code, "message": reason, "errors": [{"reason": reason}]}})

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _authed(self) -> bool:
        auth = self.headers.get("Authorization", "")
        tok = auth[7:] if auth.startswith("Bearer ") else ""
        with self.drive.state.lock:
            ok = self.drive.state.tokens.get(tok, 0) > time.time()
        if not ok:
            self._error(401, "authError")
        return ok

    def _route(self, method: str) -> None:
        parts = urlsplit(self.path)
        qs = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        s = self.drive.state
        with s.lock:
            s.requests += 1
        if path == "/token" and method == "POST":
            return self._token(parse_qs(self._body().decode()))
        if path.startswith("/upload/session/") and method == "PUT":
            return self._session_put(path.rsplit("/", 1)[1])
        if not self._authed():
            return None
        m = re.fullmatch(r"/(upload/)?drive/v3/files(?:/([^/]+))?", path)
        if not m:
            return self._error(404, "notFound")
        upload, fid = bool(m.group(1)), m.group(2)
        if upload:
            return self._upload(method, fid, qs)
        if method == "GET" and fid is None:
            return self._list(qs)
        if method == "GET":
            return self._get(fid, qs)
        if method == "POST" and fid is None:
            meta = json.loads(self._body() or b"{}")
            return self._send(200, self._create(meta, b"" if meta.get("mimeType") != FOLDER else None))
        if method == "PATCH" and fid:
            return self._patch(fid, json.loads(self._body() or b"{}"))
        if method == "DELETE" and fid:
            with s.lock:
                if fid not in s.files:
                    return self._error(404, "notFound")
                self._delete_tree(fid)
            return self._send(204)
        return self._error(400, "badRequest")

    def _token(self, form: dict) -> None:
        grant = form.get("grant_type", [""])[0]
        ok = (grant == "urn:ietf:params:oauth:grant-type:jwt-bearer" and self.drive.check_jwt(
            form.get("assertion", [""])[0])) or (grant == "refresh_token" and form.get("refresh_token", [""])[0])
        if not ok:
            return self._send(400, {"error": "invalid_grant"})
        tok = uuid.uuid4().hex
        with self.drive.state.lock:
            self.drive.state.tokens[tok] = time.time() + 3600
        return self._send(200, {"access_token": tok, "expires_in": 3600, "token_type": "Bearer"})

    def _list(self, qs: dict) -> None:
        s = self.drive.state
        try:
            match = matcher(qs.get("q", "trashed = false"))
        except ValueError as exc:
            return self._error(400, str(exc))
        size = min(int(qs.get("pageSize", 100)), 1000)
        start = int(qs.get("pageToken", 0))
        with s.lock:
            hits = sorted((f for f in s.files.values() if f["id"] != "root" and match(f)), key=lambda f: f["id"])
            page = [s.public(f) for f in hits[start:start + size]]
        body: dict = {"files": page}
        if start + size < len(hits):
            body["nextPageToken"] = str(start + size)
        return self._send(200, body)

    def _get(self, fid: str, qs: dict) -> None:
        s = self.drive.state
        with s.lock:
            f = s.files.get(fid)
            data = s.content.get(fid)
            meta = s.public(f) if f else None
        if f is None:
            return self._error(404, "notFound")
        if qs.get("alt") == "media":
            return self._send(200, data or b"", {"Content-Type": "application/octet-stream"})
        return self._send(200, meta)

    def _create(self, meta: dict, data: bytes | None) -> dict:
        s = self.drive.state
        with s.lock:
            fid = s.new_id()
            parents = meta.get("parents") or ["root"]
            f = {"id": fid, "name": meta.get("name", "Untitled"), "mimeType": meta.get("mimeType") or
                 "application/octet-stream", "parents": parents, "trashed": False}
            s.files[fid] = f
            if data is not None:
                s.content[fid] = data
            return {"id": fid}

    def _patch(self, fid: str, meta: dict) -> None:
        s = self.drive.state
        with s.lock:
            f = s.files.get(fid)
            if f is None:
                return self._error(404, "notFound")
            for k in ("name", "trashed"):
                if k in meta:
                    f[k] = meta[k]
        return self._send(200, {"id": fid})

    def _delete_tree(self, fid: str) -> None:
        s = self.drive.state
        for child in [c["id"] for c in s.files.values() if fid in c.get("parents", [])]:
            self._delete_tree(child)
        s.files.pop(fid, None)
        s.content.pop(fid, None)

    def _upload(self, method: str, fid: str | None, qs: dict) -> None:
        kind = qs.get("uploadType")
        body = self._body()
        if kind == "multipart":
            ctype = self.headers.get("Content-Type", "")
            m = re.search(r"boundary=([^;]+)", ctype)
            if not m:
                return self._error(400, "badContent")
            parts = body.split(b"--" + m.group(1).encode())
            meta_part, media_part = parts[1], parts[2]
            meta = json.loads(meta_part.split(b"\r\n\r\n", 1)[1].strip())
            media = media_part.split(b"\r\n\r\n", 1)[1]
            media = media[:-2] if media.endswith(b"\r\n") else media
            return self._store(method, fid, meta, media)
        if kind == "resumable":
            sid = uuid.uuid4().hex
            with self.drive.state.lock:
                self.drive.state.sessions[sid] = {"method": method, "fid": fid, "meta": json.loads(body or b"{}")}
            return self._send(200, b"", {"Location": f"{self.drive.base}/upload/session/{sid}"})
        return self._error(400, "badUploadType")

    def _session_put(self, sid: str) -> None:
        with self.drive.state.lock:
            sess = self.drive.state.sessions.pop(sid, None)
        data = self._body()
        if sess is None:
            return self._error(404, "notFound")
        return self._store(sess["method"], sess["fid"], sess["meta"], data)

    def _store(self, method: str, fid: str | None, meta: dict, media: bytes) -> None:
        s = self.drive.state
        if method == "PATCH" and fid:
            with s.lock:
                if fid not in s.files:
                    return self._error(404, "notFound")
                s.content[fid] = media
            return self._send(200, {"id": fid})
        return self._send(200, self._create(meta, media))

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def do_DELETE(self) -> None:
        self._route("DELETE")
