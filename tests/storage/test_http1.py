"""The small HTTP/1.1 client under the plain S3 requests (storage/http1.py), against a raw socket
server that answers each request with scripted bytes: every framing a server may choose, interim
answers, connections closed early, and answers that are not HTTP."""

from __future__ import annotations

import socket
import ssl
import threading

import pytest

from tide.storage import http1
from tide.storage.errors import is_transient

TIMEOUTS = (5.0, 5.0)


class RawServer:
    """Answers the n-th request with ``script[n]``: ``(raw bytes, close after sending)``. Records
    each request as ``(connection number, head, body)``."""

    def __init__(self, script: list[tuple[bytes, bool]], tls: ssl.SSLContext | None = None) -> None:
        self.script = list(script)
        self.tls = tls
        self.requests: list[tuple[int, bytes, bytes]] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            if self.tls is not None:
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except (OSError, ssl.SSLError):  # a client that refused the certificate
                    conn.close()
                    continue
            threading.Thread(target=self._talk, args=(conn, self.connections), daemon=True).start()

    def _talk(self, conn: socket.socket, number: int) -> None:
        buf = b""
        with conn:
            while self.script:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                size = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        size = int(value)
                while len(buf) < size:
                    buf += conn.recv(65536)
                body, buf = buf[:size], buf[size:]
                self.requests.append((number, head, body))
                answer, close = self.script.pop(0)
                conn.sendall(answer)
                if close:
                    return

    def connect(self) -> http1.Connection:
        return http1.Connection("127.0.0.1", self.port, TIMEOUTS)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def serve():
    servers: list[RawServer] = []

    def start(*script: tuple[bytes, bool]) -> RawServer:
        servers.append(RawServer(list(script)))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def ok(body: bytes, extra: bytes = b"") -> tuple[bytes, bool]:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body), False


def test_a_request_carries_its_headers_and_body_and_the_connection_is_kept(serve):
    srv = serve(ok(b"first"), ok(b"second", b"ETag: \"abc\"\r\nX-Twice: 1\r\nx-twice: 2\r\n"))
    conn = srv.connect()
    resp = conn.request("PUT", "/b/k?x=1", {"Host": "h", "X-Amz-Date": "d"}, b"payload")
    assert (resp.status, resp.read()) == (200, b"first")
    assert resp.isclosed() and conn.idle
    resp = conn.request("GET", "/b/k", {"Host": "h"})
    assert resp.read() == b"second"
    assert resp.getheader("etag") == '"abc"' and resp.getheader("X-TWICE") == "1, 2"
    assert resp.getheader("missing", "d") == "d"
    (n1, head1, body1), (n2, head2, body2) = srv.requests
    assert n1 == n2 == 1 and srv.connections == 1
    assert head1.split(b"\r\n") == [b"PUT /b/k?x=1 HTTP/1.1", b"Host: h", b"X-Amz-Date: d",
                                    b"Accept-Encoding: identity", b"Content-Length: 7"]
    assert body1 == b"payload"
    assert head2.split(b"\r\n") == [b"GET /b/k HTTP/1.1", b"Host: h", b"Accept-Encoding: identity"]
    assert body2 == b""


def test_a_large_body_is_sent_whole(serve):
    big = bytes(range(256)) * (3 * http1.SMALL_BODY // 256 + 7)
    srv = serve(ok(b""))
    resp = srv.connect().request("PUT", "/k", {}, memoryview(big))
    assert resp.status == 200 and resp.read() == b""
    assert srv.requests[0][2] == big


def test_chunked_bodies_with_extensions_and_trailers(serve):
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5;name=x\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n")
    srv = serve((chunked, False), (chunked, False), ok(b"after"))
    conn = srv.connect()
    assert conn.request("GET", "/a", {}).read() == b"hello world"
    resp = conn.request("GET", "/a", {})
    buf = bytearray(4)
    got = b""
    while n := resp.readinto(buf):
        got += bytes(buf[:n])
    assert got == b"hello world" and resp.done and conn.idle
    assert conn.request("GET", "/c", {}).read() == b"after"
    assert srv.connections == 1


def test_small_reads_of_a_sized_body(serve):
    srv = serve(ok(b"0123456789"), ok(b"next"))
    conn = srv.connect()
    resp = conn.request("GET", "/a", {})
    assert resp.read(3) == b"012" and resp.length == 7
    assert resp.read(100) == b"3456789" and resp.length == 0
    assert resp.read(5) == b""
    assert conn.request("GET", "/b", {}).read() == b"next"


@pytest.mark.parametrize("answer", [
    b"HTTP/1.0 200 OK\r\n\r\nuntil the end",  # HTTP/1.0, no length: the body ends with the connection
    b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 13\r\n\r\nuntil the end",
])
def test_a_connection_the_server_closes_is_not_reused(serve, answer):
    srv = serve((answer, True), ok(b"fresh"))
    conn = srv.connect()
    assert conn.request("GET", "/a", {}).read() == b"until the end"
    assert not conn.idle
    with pytest.raises(http1.RemoteProtocolError):
        conn.request("GET", "/b", {})
    assert srv.connect().request("GET", "/b", {}).read() == b"fresh"


def test_interim_answers_are_skipped_and_bodyless_answers_read_nothing(serve):
    srv = serve((b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", False),
                (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", False),
                (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", False), ok(b"last"))
    conn = srv.connect()
    resp = conn.request("DELETE", "/a", {})
    assert resp.status == 204 and resp.read() == b"" and conn.idle
    resp = conn.request("HEAD", "/a", {})  # HEAD: the length describes a body that is not sent
    assert resp.status == 200 and resp.getheader("content-length") == "5" and resp.read() == b""
    assert conn.request("GET", "/a", {}).status == 304
    assert conn.request("GET", "/b", {}).read() == b"last"
    assert srv.connections == 1


def test_a_body_cut_short(serve):
    cut = (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123", True)
    srv = serve(cut, cut)
    resp = srv.connect().request("GET", "/a", {})
    assert resp.read(8) == b"0123" and resp.read(8) == b"" and resp.length == 6 and not resp.done
    with pytest.raises(http1.IncompleteRead) as err:
        srv.connect().request("GET", "/a", {}).read()
    assert is_transient(err.value)


def test_a_server_that_closes_without_answering(serve):
    srv = serve((b"", True))
    with pytest.raises(http1.RemoteClosed) as err:
        srv.connect().request("GET", "/a", {})
    assert is_transient(err.value)


@pytest.mark.parametrize("answer", [
    b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n",  # the head never ends
])
def test_answers_that_are_not_http_are_protocol_errors(serve, answer):
    srv = serve((answer, True))
    conn = srv.connect()
    with pytest.raises(http1.RemoteProtocolError) as err:
        conn.request("GET", "/a", {}).read()
    assert is_transient(err.value)
    assert not conn.idle


def test_an_unread_answer_makes_the_pool_open_a_new_connection(serve):
    from tide.storage.s3_http import _Connections

    srv = serve(ok(b"never read"), ok(b"second"))
    pool = _Connections(True, TIMEOUTS)
    netloc = f"127.0.0.1:{srv.port}"
    first = pool.send("http", netloc, "GET", "/a", b"", {})
    assert first.status == 200  # its body is left unread
    assert pool.send("http", netloc, "GET", "/b", b"", {}).read() == b"second"
    assert srv.connections == 2


def test_tls_with_the_ca_given_and_without_it(serve, tmp_path):
    from tests.storage.certs import self_signed
    from tide.storage.errors import translate
    from tide.storage.s3_http import _Connections

    certfile, keyfile = self_signed(tmp_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(certfile, keyfile)
    srv = RawServer([ok(b"over tls"), ok(b"again")], tls=server_ctx)
    try:
        netloc = f"127.0.0.1:{srv.port}"
        trusting = _Connections(certfile, TIMEOUTS)
        assert trusting.send("https", netloc, "GET", "/a", b"", {}).read() == b"over tls"
        assert trusting.send("https", netloc, "PUT", "/b", b"x" * 300_000, {}).read() == b"again"
        assert srv.connections == 1 and srv.requests[1][2] == b"x" * 300_000
        with pytest.raises(ssl.SSLCertVerificationError) as err:
            _Connections(True, TIMEOUTS).send("https", netloc, "GET", "/a", b"", {})
        assert "certificate" in str(translate(err.value, "download a"))
        assert not is_transient(err.value)
    finally:
        srv.close()
