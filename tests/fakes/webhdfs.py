"""A stateful fake of HDFS's WebHDFS REST API (no Hadoop can run here), for the webhdfs:// tests.

It follows the Apache Hadoop "WebHDFS REST API" documentation: a namenode on one loopback port
answers ``/webhdfs/v1/<path>?op=...``; data operations (CREATE, APPEND, OPEN) are answered with
``307 Temporary Redirect`` to a datanode on another port, which takes or serves the bytes. Both share
one in-memory namespace of directories and files with owners and modification times.

Operations: GETFILESTATUS, LISTSTATUS, OPEN (offset, length), GETHOMEDIRECTORY (GET); CREATE
(overwrite, noredirect; parents made as needed), MKDIRS, RENAME (the FileSystem#rename rules: false
when the source is missing, the destination exists as a file or its parent is missing; into a
directory when the destination is one) (PUT); APPEND (POST); DELETE (recursive) (DELETE). Errors
are ``RemoteException`` JSON bodies with the documented status codes (FileNotFoundException 404,
SecurityException 401, AccessControlException and IOExceptions 403, IllegalArgumentException 400).

Identity: ``user.name`` (simple auth), ``delegation=<token>`` (only tokens the fake issued are
accepted), HTTP Basic (a gateway such as Knox), ``doas`` (proxy user). ``/locked`` belongs to
``hdfs`` and refuses writes by anyone else. A file being written is visible (with the bytes
received so far) before its upload completes, as in HDFS. Faults can be injected per operation.
"""

from __future__ import annotations

import base64
import http.server
import json
import posixpath
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, quote, unquote, urlsplit

TOKEN = "HAAEaGRmcwRoZGZzAIoBjTestTokenForTide"
TOKEN_USER = "etl"
BASIC_USER, BASIC_PASSWORD = "knox", "gateway-pw"


@dataclass
class Node:
    is_dir: bool
    owner: str
    data: bytearray = field(default_factory=bytearray)
    mtime: int = field(default_factory=lambda: int(time.time() * 1000))
    file_id: int = 0


class RemoteError(Exception):
    def __init__(self, status: int, exception: str, message: str) -> None:
        super().__init__(message)
        self.status, self.exception, self.message = status, exception, message


_JAVA = {"FileNotFoundException": "java.io.FileNotFoundException", "SecurityException": "java.lang.SecurityException",
         "IllegalArgumentException": "java.lang.IllegalArgumentException"}


class Namespace:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.nodes: dict[str, Node] = {"/": Node(True, "hdfs")}
        self._ids = 16385
        self.faults: list[tuple[str, int, str]] = []  # (op, status, exception) for the next namenode call of op
        self.truncate_next = 0  # the next N datanode CREATEs store half of what they receive
        self.log: list[tuple[str, str, str, str]] = []  # (server, method, op, path)
        self.mkdirs("/locked", "hdfs")

    def _id(self) -> int:
        self._ids += 1
        return self._ids

    def get(self, path: str) -> Node:
        node = self.nodes.get(path)
        if node is None:
            raise RemoteError(404, "FileNotFoundException", f"File does not exist: {path}")
        return node

    def check_write(self, path: str, user: str) -> None:
        if (path == "/locked" or path.startswith("/locked/")) and user != "hdfs":
            raise RemoteError(403, "AccessControlException", f"Permission denied: user={user}, access=WRITE, "
                              "inode=\"/locked\":hdfs:supergroup:drwxr-xr-x")

    def mkdirs(self, path: str, user: str) -> None:
        with self.lock:
            cur = ""
            for part in [p for p in path.split("/") if p]:
                cur = f"{cur}/{part}"
                node = self.nodes.get(cur)
                if node is None:
                    self.nodes[cur] = Node(True, user, file_id=self._id())
                elif not node.is_dir:
                    raise RemoteError(403, "ParentNotDirectoryException", f"Parent path is not a directory: {cur}")

    def children(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        return sorted(p for p in self.nodes if p.startswith(prefix) and p != prefix and "/" not in p[len(prefix):])

    def status(self, path: str, suffix: str) -> dict:
        node = self.get(path)
        return {
            "accessTime": 0 if node.is_dir else node.mtime, "blockSize": 0 if node.is_dir else 134217728,
            "childrenNum": len(self.children(path)) if node.is_dir else 0, "fileId": node.file_id,
            "group": "supergroup", "length": 0 if node.is_dir else len(node.data), "modificationTime": node.mtime,
            "owner": node.owner, "pathSuffix": suffix, "permission": "755" if node.is_dir else "644",
            "replication": 0 if node.is_dir else 3, "storagePolicy": 0, "type": "DIRECTORY" if node.is_dir else "FILE",
        }

    def rename(self, src: str, dst: str) -> bool:
        with self.lock:
            if src not in self.nodes or src == "/":
                return False
            if src == dst:
                return True
            target = self.nodes.get(dst)
            if target is not None:
                if not target.is_dir:
                    return False
                dst = posixpath.join(dst, posixpath.basename(src))
                if dst in self.nodes:
                    return False
            parent = self.nodes.get(posixpath.dirname(dst))
            if parent is None or not parent.is_dir or dst.startswith(src + "/"):
                return False
            moved = {p: n for p, n in self.nodes.items() if p == src or p.startswith(src + "/")}
            for p in moved:
                del self.nodes[p]
            for p, n in moved.items():
                self.nodes[dst + p[len(src):]] = n
            return True

    def delete(self, path: str, recursive: bool) -> bool:
        with self.lock:
            node = self.nodes.get(path)
            if node is None or path == "/":
                return False
            if node.is_dir and self.children(path) and not recursive:
                raise RemoteError(403, "PathIsNotEmptyDirectoryException",
                                  f"`{path} is non empty': Directory is not empty")
            for p in [p for p in self.nodes if p == path or p.startswith(path + "/")]:
                del self.nodes[p]
            return True

    def files(self) -> dict[str, bytes]:
        with self.lock:
            return {p: bytes(n.data) for p, n in self.nodes.items() if not n.is_dir}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    ns: Namespace
    fake: FakeWebHdfs
    role = "namenode"

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: dict) -> None:
        self._send(status, json.dumps(obj).encode(), {"Content-Type": "application/json"})

    def _error(self, err: RemoteError) -> None:
        self._drain()
        self._json(err.status, {"RemoteException": {
            "exception": err.exception, "message": err.message,
            "javaClassName": _JAVA.get(err.exception, f"org.apache.hadoop.fs.{err.exception}")}})

    def _drain(self) -> None:
        if getattr(self, "_drained", False):
            return
        self._drained = True
        for _ in self._body():
            pass

    def _body(self):  # yields the request body in pieces (Content-Length or chunked)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            while True:
                n = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                yield self.rfile.read(n)
                self.rfile.readline()
        left = int(self.headers.get("Content-Length") or 0)
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk

    def _parse(self) -> tuple[str, dict[str, str]]:
        parts = urlsplit(self.path)
        if not parts.path.startswith("/webhdfs/v1"):
            raise RemoteError(404, "FileNotFoundException", f"no such resource {parts.path}")
        path = posixpath.normpath("/" + unquote(parts.path[len("/webhdfs/v1"):]).lstrip("/"))
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        return path, query

    def _user(self, q: dict[str, str]) -> str:
        auth = self.headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            pair = base64.b64decode(auth[6:]).decode()
            if pair != f"{BASIC_USER}:{BASIC_PASSWORD}":
                raise RemoteError(401, "SecurityException", "Authentication failed: bad credentials")
            user = BASIC_USER
        elif "delegation" in q:
            if q["delegation"] != TOKEN:
                raise RemoteError(401, "SecurityException", "Failed to obtain user group information: org.apache."
                                  "hadoop.security.token.SecretManager$InvalidToken: token can't be found in cache")
            user = TOKEN_USER
        else:
            user = q.get("user.name") or "dr.who"
        if self.fake.require_identity and user == "dr.who":
            raise RemoteError(401, "SecurityException", "Authentication required")
        return q.get("doas") or user

    def _handle(self) -> None:
        self._drained = False
        try:
            path, q = self._parse()
            op = (q.get("op") or "").upper()
            with self.ns.lock:
                self.ns.log.append((self.role, self.command, op, path))
            user = self._user(q)
            if self.role == "namenode":
                self._namenode(self.command, op, path, q, user)
            else:
                self._datanode(self.command, op, path, q, user)
        except RemoteError as err:
            self._error(err)

    do_GET = do_PUT = do_POST = do_DELETE = _handle

    def _fault(self, op: str) -> None:
        with self.ns.lock:
            for i, (fop, status, exception) in enumerate(self.ns.faults):
                if fop == op:
                    del self.ns.faults[i]
                    raise RemoteError(status, exception, f"injected {exception}")

    # --- namenode ------------------------------------------------------------------------------
    def _namenode(self, method: str, op: str, path: str, q: dict[str, str], user: str) -> None:
        ns = self.ns
        self._fault(op)
        if (method, op) == ("GET", "GETFILESTATUS"):
            with ns.lock:
                return self._json(200, {"FileStatus": ns.status(path, "")})
        if (method, op) == ("GET", "LISTSTATUS"):
            with ns.lock:
                node = ns.get(path)
                if not node.is_dir:
                    return self._json(200, {"FileStatuses": {"FileStatus": [ns.status(path, "")]}})
                items = [ns.status(c, posixpath.basename(c)) for c in ns.children(path)]
            return self._json(200, {"FileStatuses": {"FileStatus": items}})
        if (method, op) == ("GET", "GETHOMEDIRECTORY"):
            return self._json(200, {"Path": f"/user/{user}"})
        if (method, op) in (("GET", "OPEN"), ("PUT", "CREATE"), ("POST", "APPEND")):
            self._drain()  # the client must not send data to the namenode; ignore any
            if op == "OPEN":
                with ns.lock:
                    if ns.get(path).is_dir:
                        raise RemoteError(404, "FileNotFoundException", f"Path is not a file: {path}")
            else:
                ns.check_write(path, user)
            location = self.fake.datanode_url(path, q)
            if q.get("noredirect") == "true":
                return self._json(200, {"Location": location})
            return self._send(307, b"", {"Location": location, "Content-Type": "application/octet-stream"})
        if (method, op) == ("PUT", "MKDIRS"):
            ns.check_write(path, user)
            ns.mkdirs(path, user)
            return self._json(200, {"boolean": True})
        if (method, op) == ("PUT", "RENAME"):
            dst = q.get("destination")
            if not dst or not dst.startswith("/"):
                raise RemoteError(400, "IllegalArgumentException",
                                  f"Invalid value for webhdfs parameter \"destination\": {dst}")
            ns.check_write(path, user)
            ns.check_write(posixpath.normpath(dst), user)
            return self._json(200, {"boolean": ns.rename(path, posixpath.normpath(dst))})
        if (method, op) == ("DELETE", "DELETE"):
            ns.check_write(path, user)
            return self._json(200, {"boolean": ns.delete(path, q.get("recursive") == "true")})
        raise RemoteError(400, "IllegalArgumentException", f"Invalid value for webhdfs parameter \"op\": {op}")

    # --- datanode ------------------------------------------------------------------------------
    def _datanode(self, method: str, op: str, path: str, q: dict[str, str], user: str) -> None:
        ns = self.ns
        if "namenoderpcaddress" not in q:
            raise RemoteError(400, "IllegalArgumentException", "namenoderpcaddress is not specified.")
        if (method, op) == ("GET", "OPEN"):
            with ns.lock:
                node = ns.get(path)
                data = bytes(node.data)
            start = int(q.get("offset") or 0)
            end = len(data) if q.get("length") is None else min(len(data), start + int(q["length"]))
            if start > len(data):
                raise RemoteError(403, "IOException",
                                  f"Offset={start} out of the range [0, {len(data)}); OPEN, path={path}")
            return self._send(200, data[start:end], {"Content-Type": "application/octet-stream"})
        if (method, op) == ("PUT", "CREATE"):
            with ns.lock:
                existing = ns.nodes.get(path)
                if existing is not None and (existing.is_dir or q.get("overwrite", "false") != "true"):
                    raise RemoteError(403, "FileAlreadyExistsException", f"{path} for client 127.0.0.1 already exists")
                ns.mkdirs(posixpath.dirname(path), user)
                node = Node(False, user, file_id=ns._id())
                ns.nodes[path] = node  # visible, empty, while the data arrives (as in HDFS)
                cut = ns.truncate_next > 0
                if cut:
                    ns.truncate_next -= 1
            received = 0
            for chunk in self._body():
                received += len(chunk)
                with ns.lock:
                    node.data += chunk
            self._drained = True
            if cut:
                with ns.lock:
                    del node.data[received // 2:]
            return self._send(201, b"", {"Location": f"hdfs://127.0.0.1:{self.fake.port}{quote(path)}"})
        if (method, op) == ("POST", "APPEND"):
            with ns.lock:
                node = ns.get(path)
            for chunk in self._body():
                with ns.lock:
                    node.data += chunk
                    node.mtime = int(time.time() * 1000)
            self._drained = True
            return self._send(200)
        raise RemoteError(400, "IllegalArgumentException", f"Invalid operation {method} {op} on a datanode")


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128
    daemon_threads = True


class FakeWebHdfs:
    """Namenode and datanode on two free loopback ports (threads of the test process), one namespace."""

    token, token_user = TOKEN, TOKEN_USER
    basic_user, basic_password = BASIC_USER, BASIC_PASSWORD

    def __init__(self, require_identity: bool = False) -> None:
        from tests.fakes.servers import free_port, wait_port

        self.ns = Namespace()
        self.require_identity = require_identity
        self.port, self.dn_port = free_port(), free_port()
        self.servers = []
        for role, port in (("namenode", self.port), ("datanode", self.dn_port)):
            handler = type(f"{role}Handler", (_Handler,), {"ns": self.ns, "fake": self, "role": role})
            server = _Server(("127.0.0.1", port), handler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            self.servers.append(server)
            wait_port(port)

    def datanode_url(self, path: str, q: dict[str, str]) -> str:
        keep = {k: v for k, v in q.items() if k not in ("noredirect",)}
        keep["namenoderpcaddress"] = f"127.0.0.1:{self.port}"
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in keep.items())
        return f"http://127.0.0.1:{self.dn_port}/webhdfs/v1{quote(path)}?{query}"

    def url(self, path: str) -> str:
        return f"webhdfs://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def stop(self) -> None:
        for s in self.servers:
            s.shutdown()
            s.server_close()
