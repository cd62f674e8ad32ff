"""A small, stateful HTTP server that stores uploads, for the http:// remote tests (push and pull).

It behaves like the servers dvc's http remote is used with (nginx with WebDAV PUT, Artifactory, a
custom upload endpoint): ``POST`` or ``PUT`` stores the request body (sent with ``Content-Length``
or chunked transfer encoding) at the path, atomically (temporary file, then rename); ``GET`` (with
``Range``) and ``HEAD`` serve it; ``DELETE`` removes it. Files live in a directory the tests can
look into.

The first path segment chooses the authentication a request needs:
``/basic/...`` (Basic), ``/digest/...`` (Digest, RFC 7616, MD5, qop=auth), ``/custom/...`` (the header
``X-Tide-Token: <TOKEN>``); anything else is open. Faults can be injected for the next uploads:
a status to answer with, or bodies stored cut in half (a proxy that truncated them).
"""

from __future__ import annotations

import hashlib
import http.server
import os
import re
import secrets
import threading
from email.utils import formatdate

USER = "tide"
PASSWORD = "s3cret-http"
TOKEN_HEADER = "X-Tide-Token"
TOKEN = "tok-123"
REALM = "tide-test"


class State:
    def __init__(self, root: str) -> None:
        self.root = root
        self.lock = threading.Lock()
        self.log: list[tuple[str, str, bool]] = []  # (method, path, chunked)
        self.fail_next: list[int] = []  # statuses to answer the next uploads with
        self.truncate_next = 0  # the next N uploads are stored cut in half
        self.refuse: set[str] = set()  # methods answered with 405
        self.nonces: set[str] = set()

    def uploads(self) -> list[tuple[str, str, bool]]:
        with self.lock:
            return [e for e in self.log if e[0] in ("POST", "PUT")]


def _digest_ok(header: str, method: str, nonces: set[str]) -> bool:
    fields = dict((k, v1 or v2) for k, v1, v2 in re.findall(r'(\w+)=(?:"([^"]*)"|([^\s,]*))', header))
    if fields.get("username") != USER or fields.get("realm") != REALM or fields.get("nonce") not in nonces:
        return False
    ha1 = hashlib.md5(f"{USER}:{REALM}:{PASSWORD}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{fields.get('uri', '')}".encode()).hexdigest()
    if fields.get("qop") == "auth":
        raw = f"{ha1}:{fields['nonce']}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:auth:{ha2}"
    else:
        raw = f"{ha1}:{fields['nonce']}:{ha2}"
    return hashlib.md5(raw.encode()).hexdigest() == fields.get("response")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: State  # set on the subclass each server makes

    def log_message(self, *args) -> None:
        pass

    # --- helpers -------------------------------------------------------------------------------
    def _local(self) -> str | None:
        path = self.path.split("?", 1)[0]
        from urllib.parse import unquote

        parts = [p for p in unquote(path).split("/") if p]
        if any(p in ("..", ".") for p in parts):
            return None
        return os.path.join(self.state.root, *parts)

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _read_body(self) -> tuple[bytes, bool]:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            out = bytearray()
            while True:
                line = self.rfile.readline()
                n = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(out), True
                out += self.rfile.read(n)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return (self.rfile.read(n) if n else b""), False

    def _authorized(self) -> bool:
        first = self.path.lstrip("/").split("/", 1)[0]
        header = self.headers.get("Authorization") or ""
        if first == "basic":
            import base64

            want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if header == want:
                return True
            self._challenge = {"WWW-Authenticate": f'Basic realm="{REALM}"'}
            return False
        if first == "digest":
            if header.startswith("Digest ") and _digest_ok(header[7:], self.command, self.state.nonces):
                return True
            nonce = secrets.token_hex(16)
            with self.state.lock:
                self.state.nonces.add(nonce)
            self._challenge = {"WWW-Authenticate": f'Digest realm="{REALM}", qop="auth", nonce="{nonce}", '
                                                   f'algorithm=MD5, opaque="{secrets.token_hex(8)}"'}
            return False
        if first == "custom":
            self._challenge = {}
            return self.headers.get(TOKEN_HEADER) == TOKEN
        return True

    def _deny(self) -> None:
        self._reply(401, b"unauthorized\n", self._challenge)

    # --- methods -------------------------------------------------------------------------------
    def do_HEAD(self) -> None:
        self._get(head=True)

    def do_GET(self) -> None:
        self._get(head=False)

    def _get(self, head: bool) -> None:
        with self.state.lock:
            self.state.log.append((self.command, self.path, False))
        if not self._authorized():
            return self._deny()
        p = self._local()
        if p is None or not os.path.isfile(p):
            return self._reply(404, b"not found\n")
        size = os.path.getsize(p)
        start, end, status = 0, size, 200
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if m:
            start = int(m.group(1))
            end = min(size, int(m.group(2)) + 1) if m.group(2) else size
            if start >= size and size:
                return self._reply(416, b"", {"Content-Range": f"bytes */{size}"})
            status = 206
        headers = {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream",
                   "Last-Modified": formatdate(os.path.getmtime(p), usegmt=True)}
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{max(start, end - 1)}/{size}"
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(end - start))
        self.end_headers()
        if head:
            return None
        with open(p, "rb") as f:
            f.seek(start)
            left = end - start
            while left > 0:
                chunk = f.read(min(left, 1 << 20))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
        return None

    def do_PUT(self) -> None:
        self._store()

    def do_POST(self) -> None:
        self._store()

    def _store(self) -> None:
        body, chunked = self._read_body()
        st = self.state
        with st.lock:
            st.log.append((self.command, self.path, chunked))
        if not self._authorized():
            return self._deny()
        if self.command in st.refuse:
            return self._reply(405, b"method not allowed\n", {"Allow": "GET, HEAD"})
        with st.lock:
            fail = st.fail_next.pop(0) if st.fail_next else None
            cut = st.truncate_next > 0
            if cut:
                st.truncate_next -= 1
        if fail is not None:
            return self._reply(fail, b"injected failure\n")
        p = self._local()
        if p is None or p == st.root:
            return self._reply(400, b"bad path\n")
        if cut:
            body = body[: len(body) // 2]
        os.makedirs(os.path.dirname(p), exist_ok=True)
        tmp = os.path.join(os.path.dirname(p), f".upload-{secrets.token_hex(8)}.part")
        with open(tmp, "wb") as f:
            f.write(body)
        os.replace(tmp, p)
        return self._reply(201, b"created\n")

    def do_DELETE(self) -> None:
        self._read_body()
        with self.state.lock:
            self.state.log.append((self.command, self.path, False))
        if not self._authorized():
            return self._deny()
        if "DELETE" in self.state.refuse:
            return self._reply(405, b"method not allowed\n")
        p = self._local()
        if p is None or not os.path.isfile(p):
            return self._reply(404, b"not found\n")
        os.unlink(p)
        return self._reply(204)


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128  # tide sends 16 requests at once; the default backlog of 5 resets connections
    daemon_threads = True


class UploadHttp:
    """The server on a free loopback port (a thread of the test process), with TLS when given a cert."""

    user, password, token_header, token = USER, PASSWORD, TOKEN_HEADER, TOKEN

    def __init__(self, root: str, certfile: str | None = None, keyfile: str | None = None) -> None:
        from tests.fakes.servers import free_port, wait_port

        os.makedirs(root, exist_ok=True)
        self.root = root
        self.state = State(root)
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.port = free_port()
        self.server = _Server(("127.0.0.1", self.port), handler)
        self.scheme = "http"
        if certfile:
            import ssl

            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(certfile, keyfile)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        wait_port(self.port)

    def url(self, sub: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/{sub}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
