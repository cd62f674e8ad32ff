"""Issue 21: one explicit contract for storage backends, one retry layer, shared state with an owner:
behaviour against failing servers (the static checks are in test_contract_lint.py)."""

from __future__ import annotations

import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tide.core.config import Env
from tide.storage.base import RemoteSpec, StorageTransient
from tide.storage.wrappers import RetryPolicy, open_retrying


def test_issue21_s3_credentials_and_proxies_come_from_env(monkeypatch):
    """What the S3 client decides at open time follows the ``Env`` it is given, not ``os.environ``."""
    from tide.storage.s3_http import S3Http

    for name in list(os.environ):
        if name.upper().startswith("AWS_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    spec = RemoteSpec("s3", "s3://bkt/p", (("endpointurl", "http://127.0.0.1:9"), ("region", "us-east-1")))
    keys = {"AWS_ACCESS_KEY_ID": "id-from-env", "AWS_SECRET_ACCESS_KEY": "secret-from-env",
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_CONFIG_FILE": os.devnull}
    assert S3Http.for_spec(spec, "bkt", "t", Env(keys)).has_credentials()
    assert not S3Http.for_spec(spec, "bkt", "t", Env({"AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                                                       "AWS_CONFIG_FILE": os.devnull,
                                                       "AWS_EC2_METADATA_DISABLED": "true"})).has_credentials()
    assert S3Http.for_spec(spec, "bkt", "t", Env({**keys, "HTTP_PROXY": "http://127.0.0.1:1"})) is None
    assert S3Http.for_spec(spec, "bkt", "t", Env({**keys, "HTTP_PROXY": "http://127.0.0.1:1",
                                                  "NO_PROXY": "127.0.0.1"})) is not None


def test_issue21_the_s3_implementation_is_chosen_once_when_the_remote_is_opened():
    from tide.storage.s3 import S3FsBackend, open_backend
    from tide.storage.s3_plain import S3PlainBackend

    keys = {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
    base = (("endpointurl", "http://127.0.0.1:9"), ("region", "us-east-1"))
    plain = open_backend(RemoteSpec("s3", "s3://bkt/p", base), Env(keys))
    assert isinstance(plain, S3PlainBackend)
    assert plain.capabilities.listing_ages and plain.capabilities.batch_delete
    s3fs = open_backend(RemoteSpec("s3", "s3://bkt/p", (*base, ("sse", "AES256"))), Env(keys))
    assert isinstance(s3fs, S3FsBackend)
    assert not s3fs.capabilities.listing_ages and not s3fs.capabilities.batch_delete
    proxied = open_backend(RemoteSpec("s3", "s3://bkt/p", base), Env({**keys, "ALL_PROXY": "http://127.0.0.1:1"}))
    assert isinstance(proxied, S3FsBackend)


# --- the retry budget against failing servers -------------------------------------------------------


class _Failing(BaseHTTPRequestHandler):
    """Answers every request with 503 SlowDown (S3's throttling), counting them."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _answer(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        with self.server.lock:
            self.server.seen.append((self.command, self.path))
        body = b"<?xml version='1.0'?><Error><Code>SlowDown</Code><Message>reduce</Message></Error>"
        self.send_response(503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _answer


@pytest.fixture
def failing():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    server.daemon_threads = True
    server.seen, server.lock = [], threading.Lock()
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def dead():
    """A server that accepts each connection and closes it at once (a remote that is down behind
    a load balancer), counting the connections."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    count = [0]
    stop = threading.Event()

    def serve() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            count[0] += 1
            conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield count, f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop.set()
    t.join()
    sock.close()


ATTEMPTS = 3
ENV = Env({"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"})


def _open(endpoint: str, *extra: tuple[str, str]):
    spec = RemoteSpec("s3", "s3://bkt/store", (("endpointurl", endpoint), ("region", "us-east-1"), *extra))
    return open_retrying(spec, ENV, RetryPolicy(attempts=ATTEMPTS), sleep=lambda s: None)


def test_issue21_a_failing_remote_is_asked_the_stated_number_of_times(failing, tmp_path):
    """docs/storage.md, "Retries": ``attempts`` requests per operation, and one more for a download
    whose streamed GET failed; nothing below the wrapper repeats a request."""
    from tide.objects.cache import ObjectCache
    from tide.objects.ref import ObjRef
    from tide.objects.remote import DvcLayoutStore
    from tide.objects.transfer import fetch

    server, endpoint = failing
    backend = _open(endpoint)
    small = tmp_path / "small"
    small.write_bytes(b"x" * 100)
    big = tmp_path / "big"
    big.write_bytes(b"y" * 300)
    backend.inner.part_size = 100  # a multipart upload, without sending 100 MiB

    def count(fn) -> list[str]:
        server.seen.clear()
        with pytest.raises(StorageTransient, match=f"gave up after {ATTEMPTS} attempts"):
            fn()
        return [m for m, _ in server.seen]

    assert count(lambda: backend.exists("files/md5/aa/bb")) == ["HEAD"] * ATTEMPTS
    assert count(lambda: backend.put_file(str(small), "files/md5/aa/bb")) == ["PUT"] * ATTEMPTS
    assert count(lambda: backend.put_file(str(big), "files/md5/aa/cc")) == ["GET"] * ATTEMPTS  # ListMultipartUploads
    assert count(lambda: list(backend.list("files/"))) == ["GET"] * ATTEMPTS
    assert count(lambda: backend.delete_many(["files/md5/aa/bb"])) == ["POST"] * ATTEMPTS
    # a download through the engine: one streamed GET, then the resumable download's attempts
    server.seen.clear()
    cache = ObjectCache(str(tmp_path / "cache"))
    res = fetch(cache, DvcLayoutStore(backend), [ObjRef("0" * 32)], [], jobs=1)
    assert [r for r, _ in res.failed] == [ObjRef("0" * 32)]
    assert [m for m, _ in server.seen] == ["GET"] * (1 + ATTEMPTS)


def test_issue21_a_dead_remote_gets_one_connection_per_attempt(dead):
    count, endpoint = dead
    backend = _open(endpoint)
    with pytest.raises(StorageTransient, match=f"gave up after {ATTEMPTS} attempts"):
        backend.exists("files/md5/aa/bb")
    assert count[0] == ATTEMPTS


def test_issue21_s3fs_and_botocore_do_not_retry_under_the_wrapper(failing, monkeypatch):
    """The s3fs implementation (here: an ``sse`` option) makes one request per attempt too: botocore's
    and s3fs's own retries are turned off."""
    from tide.storage.s3 import S3FsBackend

    for k, v in ENV.values.items():
        monkeypatch.setenv(k, v)
    server, endpoint = failing
    backend = _open(endpoint, ("sse", "AES256"))
    assert isinstance(backend.inner, S3FsBackend)
    with pytest.raises(StorageTransient):
        backend.exists("files/md5/aa/bb")
    assert [m for m, _ in server.seen] == ["HEAD"] * ATTEMPTS


def test_issue21_opening_a_remote_is_retried_by_the_same_policy(monkeypatch):
    """Connecting (an SSH handshake) is an attempt of the one policy, not a loop of its own."""
    from tide.storage import registry

    calls = []

    def flaky_open(spec, env):
        calls.append(spec.url)
        raise StorageTransient("connect: Connection reset by peer")

    monkeypatch.setattr(registry, "open_backend", flaky_open)
    with pytest.raises(StorageTransient, match=f"gave up after {ATTEMPTS} attempts"):
        open_retrying(RemoteSpec("r", "ssh://h/p"), ENV, RetryPolicy(attempts=ATTEMPTS), sleep=lambda s: None)
    assert len(calls) == ATTEMPTS


# --- shared state with an owner ---------------------------------------------------------------------


def test_issue21_spares_stay_within_their_budget_under_threads(tmp_path):
    """Download threads offer small spares at once: the budget is checked and used up under one lock."""
    from tide.objects.cache import ObjectCache

    cache = ObjectCache(str(tmp_path / "cache"))
    cache.spare_budget = 1000
    barrier = threading.Barrier(8)
    kept = []

    def offer(i: int) -> None:
        barrier.wait()
        for j in range(50):
            if cache.offer_spare(f"/obj/{i}/{j}", b"z" * 10):
                kept.append(1)

    threads = [threading.Thread(target=offer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(kept) == 100 and len(cache.spares) == 100 and cache.spare_budget == 0
    assert cache.take_spare("/obj/0/0") in (b"z" * 10, None)
    cache.drop_spares()
    assert cache.spares == {} and cache.spare_budget > 1000


