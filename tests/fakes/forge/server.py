"""A real HTTP server on loopback (http.server in a thread) that serves a stateful fake forge.

Each fake subclasses :class:`FakeForge`, registers routes and keeps its state in memory. The git
side of the fake is a real bare repository: branches and commits are read from it with git, as
the real forge would see the pushed refs.

Common behaviour the conformance suite relies on:
- ``token``: requests without the right credentials get the forge's documented 401 body;
- ``rate_limit_next``: the next N requests get the forge's rate-limit answer with ``Retry-After``;
- ``per_page``: default page size, so that more than one page of comments exists quickly;
- ``log``: every request as (method, path, query) plus the raw headers (to check no token leaks).
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Reply:
    def __init__(self, status: int = 200, body=None, headers: dict | None = None, raw: bytes | None = None):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.raw = raw


class FakeForge:
    per_page = 30
    max_per_page = 100
    outside_prefix: tuple[str, ...] = ()   # absolute paths served outside the API prefix

    def __init__(self, token: str, bare: str) -> None:
        self.token = token
        self.bare = bare
        self.base_url = ""          # set when served
        self.routes: list[tuple[str, re.Pattern, object]] = []
        self.rate_limit_next = 0
        self.log: list[tuple[str, str, dict]] = []
        self.raw_headers: list[dict] = []
        self.lock = threading.Lock()
        self.next_id = 1000
        self.setup()

    # subclass hooks ---------------------------------------------------------------------------
    def setup(self) -> None: ...

    def authorized(self, headers: dict) -> bool:
        raise NotImplementedError

    def unauthorized(self) -> Reply:
        raise NotImplementedError

    def rate_limited(self) -> Reply:
        raise NotImplementedError

    def not_found(self) -> Reply:
        return Reply(404, {"message": "Not Found"})

    # helpers ----------------------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler) -> None:
        self.routes.append((method, re.compile("^" + pattern + "$"), handler))

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def git(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(["git", "-C", self.bare, *args], capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise RuntimeError(proc.stderr)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    def branch_sha(self, branch: str) -> str:
        return self.git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False)

    def contains(self, head: str, sha: str) -> bool:
        return subprocess.run(["git", "-C", self.bare, "merge-base", "--is-ancestor", sha, head],
                              capture_output=True).returncode == 0

    def page(self, items: list, query: dict, path: str) -> tuple[list, int, int, int]:
        """(slice, page, per_page, last_page) for offset pagination."""
        per = min(int(query.get("per_page", query.get("limit", query.get("pagelen", self.per_page)))),
                  self.max_per_page)
        page = int(query.get("page", 1))
        last = max(1, -(-len(items) // per))
        return items[(page - 1) * per: page * per], page, per, last

    def link_header(self, path: str, query: dict, page: int, last: int) -> dict:
        if page >= last:
            return {}
        q = dict(query)
        q["page"] = str(page + 1)
        qs = "&".join(f"{k}={v}" for k, v in q.items())
        return {"Link": f'<{self.base_url}{path}?{qs}>; rel="next", <{self.base_url}{path}?page={last}>; rel="last"'}

    # dispatch ---------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict, headers: dict, body: bytes) -> Reply:
        with self.lock:
            self.log.append((method, path, query))
            self.raw_headers.append(headers)
            if self.rate_limit_next > 0:
                self.rate_limit_next -= 1
                return self.rate_limited()
            if not self.authorized(headers):
                return self.unauthorized()
            for m, pat, handler in self.routes:
                if m != method:
                    continue
                match = pat.match(path)
                if match:
                    data = None
                    ctype = headers.get("content-type", "")
                    if body and "json" in ctype:
                        data = json.loads(body)
                    elif body and "form-urlencoded" in ctype:
                        data = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                    elif body:
                        data = {"_raw": body, "_ctype": ctype}
                    return handler(match, query, data)  # type: ignore[operator]
            return self.not_found()


def multipart_file(data: dict) -> tuple[str, bytes]:
    """The (filename, content) of the first file part of a multipart/form-data body."""
    raw, ctype = data["_raw"], data["_ctype"]
    boundary = ctype.split("boundary=")[1].encode()
    for part in raw.split(b"--" + boundary):
        if b"filename=" in part:
            head, _, content = part.partition(b"\r\n\r\n")
            name = re.search(rb'filename="([^"]*)"', head).group(1).decode()
            return name, content[: -2] if content.endswith(b"\r\n") else content
    raise ValueError("no file part")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeForge
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _do(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        prefix = urlsplit(self.fake.base_url).path.rstrip("/")
        path = parts.path[len(prefix):] if prefix and parts.path.startswith(prefix) else parts.path
        outside = prefix and not parts.path.startswith(prefix) and parts.path not in self.fake.outside_prefix
        try:
            if outside:  # another application on the same host (a GitLab sub-path probe lands here)
                reply = Reply(404, raw=b"<html>Not Found</html>", headers={"Content-Type": "text/html"})
            else:
                reply = self.fake.handle(self.command, path, query, headers, body)
        except Exception as exc:  # a bug in the fake: answer 500 so the test sees it
            reply = Reply(500, {"message": f"fake error: {exc!r}"})
        if reply.raw is not None:
            out = reply.raw
            ctype = reply.headers.get("Content-Type", "application/octet-stream")
        else:
            out = b"" if reply.body is None else json.dumps(reply.body).encode()
            ctype = "application/json; charset=utf-8"
        self.send_response(reply.status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        for k, v in reply.headers.items():
            if k != "Content-Type":
                self.send_header(k, v)
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _do


class Served:
    """Serve ``fake`` on 127.0.0.1 at a free port under ``prefix`` (e.g. ``/api/v3``)."""

    def __init__(self, fake: FakeForge, prefix: str = "") -> None:
        handler = type("H", (_Handler,), {"fake": fake})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        host, port = self.httpd.server_address[:2]
        self.root = f"http://{host}:{port}"
        fake.base_url = self.root + prefix
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
