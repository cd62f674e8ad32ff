"""A small HTTP/1.1 client connection: one request out, one response in, on a kept-alive socket.

It exists for the plain S3 requests (``s3_http.py``), where ``http.client`` cost more than the
request itself: its headers go through the ``email`` parser (~0.1 ms a response), and a request
with a body takes ~20 system calls, each one a chance for another of the many upload threads to
take the GIL (a push of 10,000 small files made 23 thread switches per file). Here a request is
one ``sendall`` (head and body together when the body is small) and a small response one ``recv``.

What it speaks: requests with a ``Content-Length`` body (or none); responses framed by
``Content-Length``, ``Transfer-Encoding: chunked`` or the end of the connection; interim ``1xx``
answers skipped; ``Connection: close`` and HTTP/1.0 honoured. No proxies, no pipelining, no
``Expect: 100-continue``. A response must be read to its end (or the connection closed) before
the connection sends its next request.
"""

from __future__ import annotations

import socket
from typing import Any

SMALL_BODY = 256 << 10  # bodies up to this size are sent in the same buffer as the head
_MAX_HEAD = 64 << 10
_NO_BODY = (204, 304)


class RemoteClosed(ConnectionResetError):
    """The server closed the connection without answering (a kept-alive one it had dropped)."""


class RemoteProtocolError(ConnectionError):
    """The answer is not HTTP/1.x."""


class IncompleteRead(ConnectionError):
    """The connection ended before the body did."""


class Connection:
    """One socket to ``host:port`` (TLS when ``tls`` is an ``ssl.SSLContext``)."""

    def __init__(self, host: str, port: int, timeouts: tuple[float, float], tls: Any = None) -> None:
        connect, read = timeouts
        sock = socket.create_connection((host, port), timeout=connect)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                sock = tls.wrap_socket(sock, server_hostname=host)
            sock.settimeout(read)
        except BaseException:
            sock.close()
            raise
        self.sock: socket.socket | None = sock
        self._buf = bytearray()  # received and not yet handed out
        self.current: Response | None = None

    @property
    def idle(self) -> bool:
        """Open, with the last response read to its end: ready for the next request."""
        return self.sock is not None and (self.current is None or self.current.done)

    def request(self, method: str, target: str, headers: dict[str, str], body: Any = b"") -> Response:
        """Send one request and read the head of its answer."""
        if not self.idle:
            raise RemoteProtocolError("the connection is closed or its last response was not read to its end")
        size = len(body) if body else 0
        lines = [f"{method} {target} HTTP/1.1"]
        lines.extend(f"{k}: {v}" for k, v in headers.items())
        lines.append("Accept-Encoding: identity")  # as http.client sends: no compressed answers
        if size or method in ("PUT", "POST"):
            lines.append(f"Content-Length: {size}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        assert self.sock is not None
        try:
            if size and size <= SMALL_BODY:
                self.sock.sendall(head + body)
            else:
                self.sock.sendall(head)
                if size:
                    self.sock.sendall(body)
            resp = self._response(method)
        except BaseException:
            self.close()
            raise
        self.current = resp
        if resp.done:
            resp._finish()
        return resp

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self._buf.clear()

    # --- receiving --------------------------------------------------------------------------------
    def _response(self, method: str) -> Response:
        first = True
        while True:
            head = self._head(first)
            first = False
            status, version, headers = _parse_head(head)
            if 100 <= status < 200 and status != 101:
                continue  # an interim answer: the real one follows
            break
        resp = Response(self, status, headers)
        conn_hdr = headers.get("connection", "").lower()
        resp.will_close = "close" in conn_hdr or (version == "HTTP/1.0" and "keep-alive" not in conn_hdr)
        if method == "HEAD" or status in _NO_BODY or status < 200:
            resp.length = 0
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            resp._chunked = True
        elif "content-length" in headers:
            try:
                resp.length = int(headers["content-length"].split(",")[0])
            except ValueError:
                raise RemoteProtocolError(f"bad Content-Length {headers['content-length']!r}") from None
            if resp.length < 0:
                raise RemoteProtocolError(f"bad Content-Length {headers['content-length']!r}")
        else:
            resp.will_close = True  # the body ends with the connection
        return resp

    def _head(self, first: bool) -> bytes:
        head = self._until(b"\r\n\r\n", "the response's head is longer than 64 KiB")
        if head is None:
            if first and not self._buf:
                raise RemoteClosed("the server closed the connection without answering")
            raise RemoteProtocolError("the connection closed inside the response's head")
        return head

    def _line(self) -> bytes:
        """One CRLF-terminated line of a chunked body (without its end)."""
        line = self._until(b"\r\n", "a chunk-size line is longer than 64 KiB")
        if line is None:
            raise IncompleteRead("the connection closed inside a chunked body")
        return line

    def _until(self, sep: bytes, too_long: str) -> bytes | None:
        """The bytes before the next ``sep`` (both taken from the buffer); None if the connection
        ends first (what arrived stays buffered)."""
        while True:
            end = self._buf.find(sep)
            if end >= 0:
                out = bytes(self._buf[:end])
                del self._buf[:end + len(sep)]
                return out
            if len(self._buf) > _MAX_HEAD:
                raise RemoteProtocolError(too_long)
            data = self.sock.recv(1 << 16) if self.sock is not None else b""
            if not data:
                return None
            self._buf += data

    def _read_into(self, view: memoryview) -> int:
        """Up to ``len(view)`` bytes, buffered ones first; 0 at the end of the connection."""
        if self._buf:
            n = min(len(view), len(self._buf))
            view[:n] = self._buf[:n]
            del self._buf[:n]
            return n
        if self.sock is None:
            return 0
        return self.sock.recv_into(view)


def _parse_head(head: bytes) -> tuple[int, str, dict[str, str]]:
    lines = head.split(b"\r\n")
    parts = lines[0].split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise RemoteProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise RemoteProtocolError(f"malformed header line {line[:80]!r}")
        key = name.strip().decode("latin-1").lower()
        val = value.strip().decode("latin-1")
        headers[key] = f"{headers[key]}, {val}" if key in headers else val
    return int(parts[1]), parts[0].decode("ascii"), headers


class Response:
    """The answer to one request; its body is read from the connection as asked."""

    def __init__(self, conn: Connection, status: int, headers: dict[str, str]) -> None:
        self._conn: Connection | None = conn
        self.status = status
        self.headers = headers
        self.length: int | None = None  # body bytes still to come, when known
        self.will_close = False
        self._done = False  # read to its end (see ``done``)
        self._chunked = False
        self._chunk_left = 0
        self.conn_key: Any = None

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    @property
    def done(self) -> bool:
        return self._done or self.length == 0

    def isclosed(self) -> bool:
        return self._conn is None

    def readinto(self, buf: Any) -> int:
        """Body bytes into ``buf``, filling it unless the body ends first; 0 at the end of the
        body, or when the connection ended first (``length`` then still counts what is missing)."""
        view = memoryview(buf).cast("B")
        got = 0
        while got < len(view) and (n := self._readinto_once(view[got:])):
            got += n
        return got

    def _readinto_once(self, view: memoryview) -> int:
        if self.done or not len(view) or self._conn is None:
            return 0
        conn = self._conn
        try:
            if self._chunked:
                if not self._chunk_left and not self._next_chunk():
                    return 0
                view = view[:self._chunk_left]
            elif self.length is not None:
                view = view[:self.length]
            n = conn._read_into(view)
        except BaseException:
            self.close()
            raise
        if not n:  # the connection ended: the body too, if nothing framed it
            self._done = self.length is None and not self._chunked
            self._conn = None
            conn.close()
            return 0
        if self._chunked:
            self._chunk_left -= n
            if not self._chunk_left:
                self._end_chunk()
        elif self.length is not None:
            self.length -= n
            if not self.length:
                self._finish()
        return n

    def read(self, amt: int | None = None) -> bytes:
        """``amt`` bytes at most (b"" at the end); everything left when ``amt`` is None, raising
        ``IncompleteRead`` if the connection ends first."""
        if amt is not None:
            if self.length is not None:
                amt = min(amt, self.length)  # a 1 MiB read of a 1 KB body allocates 1 KB
            buf = bytearray(amt)
            n = self.readinto(buf)
            return bytes(buf[:n]) if n < amt else bytes(buf)
        parts = []
        if self.length is not None:  # one buffer, filled
            buf = bytearray(self.length)
            n = self.readinto(buf)
            parts.append(bytes(buf[:n]) if n < len(buf) else bytes(buf))
        else:
            buf = bytearray(1 << 16)
            while n := self._readinto_once(memoryview(buf)):
                parts.append(bytes(buf[:n]))
        if not self.done:
            raise IncompleteRead(f"the connection closed {self.length or 'some'} bytes before the body's end")
        return b"".join(parts)

    def close(self) -> None:
        """Stop reading: a body not read to its end closes the connection."""
        conn, self._conn = self._conn, None
        if conn is not None and not self.done:
            conn.close()

    def _next_chunk(self) -> bool:
        assert self._conn is not None
        line = self._conn._line()
        size = line.split(b";", 1)[0].strip()
        try:
            self._chunk_left = int(size, 16)
        except ValueError:
            raise RemoteProtocolError(f"bad chunk size {line[:40]!r}") from None
        if self._chunk_left:
            return True
        while self._conn._line():  # trailers, up to the empty line
            pass
        self._finish()
        return False

    def _end_chunk(self) -> None:
        assert self._conn is not None
        if self._conn._line():
            raise RemoteProtocolError("a chunk is longer than its size")

    def _finish(self) -> None:
        """The body has been read: the connection can carry the next request (or closes)."""
        self._done = True
        conn, self._conn = self._conn, None
        if conn is not None and self.will_close:
            conn.close()
