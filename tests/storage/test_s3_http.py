"""The plain-HTTP path of S3 remotes (storage/s3_http.py): against moto for what it sends, and against a
small scripted HTTP server for what moto cannot answer (region redirects, throttling, refused
access, connections closed under it, bodies cut short)."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.reliability import canaries
from tide.core.errors import StorageError
from tide.storage.base import RemoteSpec, StorageNotFound, StoragePermanent, StorageTransient
from tide.storage.s3 import S3FsBackend, open_backend
from tide.storage.s3_http import S3Http
from tide.storage.s3_plain import S3PlainBackend

SECRET = canaries.user_value("S3_SECRET")  # the canary run fails a test that prints it


def _spec(url: str, endpoint: str, **opts: str) -> RemoteSpec:
    options = {"endpointurl": endpoint, "access_key_id": "testing", "secret_access_key": SECRET, **opts}
    return RemoteSpec("s3", url, tuple(options.items()))


def test_small_objects_go_out_as_plain_requests(moto_s3, tmp_path):
    bucket = moto_s3.new_bucket("plain")
    backend = open_backend(_spec(f"s3://{bucket}/store", moto_s3.endpoint), None)
    small = tmp_path / "small"
    small.write_bytes(os.urandom(3000))
    assert not backend.exists("files/md5/ab/cd")
    backend.put_file(str(small), "files/md5/ab/cd")
    assert isinstance(backend, S3PlainBackend)  # chosen when opened: s3fs serves nothing of it
    assert backend.exists("files/md5/ab/cd")
    body = moto_s3.client().get_object(Bucket=bucket, Key="store/files/md5/ab/cd")["Body"].read()
    assert body == small.read_bytes()
    got = tmp_path / "got"
    backend.get_file("files/md5/ab/cd", str(got))
    assert got.read_bytes() == small.read_bytes()
    with pytest.raises(StorageNotFound):
        backend.get_file("files/md5/ab/missing", str(tmp_path / "none"))
    # so does any file below the multipart size (20 MiB here), sent apart from its head
    big = tmp_path / "big"
    big.write_bytes(os.urandom(20 << 20))
    backend.put_file(str(big), "files/md5/ef/01")
    backend.get_file("files/md5/ef/01", str(got))
    assert got.read_bytes() == big.read_bytes()


def test_extra_put_options_keep_s3fs(moto_s3, tmp_path):
    bucket = moto_s3.new_bucket("sse")
    backend = open_backend(_spec(f"s3://{bucket}", moto_s3.endpoint, sse="AES256"), None)
    f = tmp_path / "f"
    f.write_bytes(b"encrypted at rest")
    backend.put_file(str(f), "files/md5/00/11")
    assert isinstance(backend, S3FsBackend)
    head = moto_s3.client().head_object(Bucket=bucket, Key="files/md5/00/11")
    assert head["ServerSideEncryption"] == "AES256"
    # sizes, ages and deletes go through s3fs too; no batch delete (gc -c deletes one by one on threads)
    assert backend.size("files/md5/00/11") == len(b"encrypted at rest")
    assert backend.modified("files/md5/00/11") is not None
    assert not backend.capabilities.batch_delete and not backend.capabilities.listing_ages
    [(key, when)] = backend.list_ages()  # complete all the same: one request per key for the age
    assert key == "files/md5/00/11" and when is not None
    backend.delete_many(["files/md5/00/11"])
    assert not backend.exists("files/md5/00/11")


def test_no_credentials_falls_back_to_s3fs_and_its_error(moto_s3, monkeypatch):
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    spec = RemoteSpec("s3", "s3://nobody", (("endpointurl", moto_s3.endpoint),))
    backend = open_backend(spec, None)
    assert isinstance(backend, S3FsBackend)  # decided when opened
    with pytest.raises(StorageError, match="(?i)credentials"):
        backend.exists("files/md5/00/11")


@pytest.mark.parametrize("env, plain", [
    ({}, True),
    ({"HTTP_PROXY": "http://127.0.0.1:9"}, False),
    ({"http_proxy": "http://127.0.0.1:9"}, False),
    ({"ALL_PROXY": "http://127.0.0.1:9"}, False),
    ({"HTTPS_PROXY": "http://127.0.0.1:9"}, True),  # the endpoint is http://
    ({"HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1"}, True),
    ({"HTTP_PROXY": "http://127.0.0.1:9", "no_proxy": "*"}, True),
    ({"HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "example.org"}, False),
])
def test_a_proxy_in_the_environment_leaves_the_requests_to_s3fs(moto_s3, monkeypatch, tmp_path, env, plain):
    """The plain requests do not speak to proxies; botocore (under s3fs, as under dvc) does."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = _spec("s3://proxied", moto_s3.endpoint)
    assert (S3Http.for_spec(spec, "proxied", "tide/test") is not None) is plain
    if plain:  # and it works, not only chooses
        moto_s3.client().create_bucket(Bucket="proxied")
        backend = open_backend(spec, None)
        src = tmp_path / "o"
        src.write_bytes(b"direct")
        backend.put_file(str(src), "files/md5/00/aa")
        assert backend.exists("files/md5/00/aa") and isinstance(backend, S3PlainBackend)
    else:
        assert isinstance(open_backend(spec, None), S3FsBackend)


# --- a scripted server -------------------------------------------------------------------------------


class _Script(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    plan: dict  # set per server

    def log_message(self, *args) -> None:
        pass

    def _answer(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        plan = self.server.plan
        plan["seen"].append((self.command, self.path, self.headers.get("Authorization", ""), body,
                             self.headers.get("Content-MD5")))
        status, headers, payload, after = plan["answer"](self, body)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()
        if after == "close":  # keep-alive promised, then the socket goes away (as idle servers do)
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True

    do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _answer


@pytest.fixture
def scripted():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Script)
    server.daemon_threads = True
    server.plan = {"seen": [], "answer": lambda h, b: (200, {}, b"", None)}
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    http = S3Http.for_spec(_spec("s3://bkt", endpoint), "bkt", "tide-test")
    yield server.plan, http
    server.shutdown()
    server.server_close()


def _error(code: str, message: str) -> bytes:
    return f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()


def test_a_bucket_in_another_region_is_asked_there(scripted):
    plan, http = scripted

    def answer(h, body):
        if "/eu-west-1/s3/" not in h.headers.get("Authorization", ""):
            return 301, {"x-amz-bucket-region": "eu-west-1"}, _error("PermanentRedirect", "elsewhere"), None
        return 200, {}, b"", None

    plan["answer"] = answer
    http.put("store/files/md5/aa/bb", b"data")
    assert http.region == "eu-west-1"
    assert [s[0] for s in plan["seen"]] == ["PUT", "PUT"]
    assert plan["seen"][-1][3] == b"data"


@pytest.mark.parametrize(("status", "code", "error", "words"), [
    (403, "AccessDenied", StoragePermanent, "access denied"),
    (503, "SlowDown", StorageTransient, "SlowDown"),
    (500, "InternalError", StorageTransient, "InternalError"),
    (404, "NoSuchBucket", StoragePermanent, "NoSuchBucket"),
    (400, "InvalidRequest", StoragePermanent, "InvalidRequest"),
])
def test_error_answers_become_storage_errors(scripted, status, code, error, words):
    plan, http = scripted
    plan["answer"] = lambda h, b: (status, {"Content-Type": "application/xml"}, _error(code, "said the server"), None)
    with pytest.raises(error) as info:
        http.put("store/files/md5/aa/bb", b"data")
    assert words in str(info.value)
    assert "said the server" in str(info.value)
    assert SECRET not in str(info.value)
    with pytest.raises(error) as info:
        http.delete("store/files/md5/aa/bb")
    assert words in str(info.value) and "delete store/files/md5/aa/bb" in str(info.value)


def test_missing_keys(scripted, tmp_path):
    plan, http = scripted
    plan["answer"] = lambda h, b: (404, {}, b"" if h.command == "HEAD" else _error("NoSuchKey", "no"), None)
    assert http.head("store/files/md5/aa/bb") is False
    assert http.stat("store/files/md5/aa/bb") is None
    with pytest.raises(StorageNotFound):
        http.get_to("store/files/md5/aa/bb", str(tmp_path / "x"))
    http.delete("store/files/md5/aa/bb")  # a missing key is no error (S3 itself answers 204)


def test_size_age_and_delete_without_s3fs(moto_s3, tmp_path):
    """What ``gc -c`` and the engine's checks ask of one object, as plain requests against moto."""
    import time

    bucket = moto_s3.new_bucket("stat")
    backend = open_backend(_spec(f"s3://{bucket}/store", moto_s3.endpoint), None)
    src = tmp_path / "o"
    src.write_bytes(b"x" * 1234)
    before = time.time()
    backend.put_file(str(src), "files/md5/12/34")
    assert backend.size("files/md5/12/34") == 1234
    assert before - 5 <= backend.modified("files/md5/12/34") <= time.time() + 5
    assert backend.modified("files/md5/12/35") is None
    with pytest.raises(StorageNotFound):
        backend.size("files/md5/12/35")
    backend.delete("files/md5/12/34")
    backend.delete("files/md5/12/34")  # gone already: no error
    assert not backend.exists("files/md5/12/34")
    assert moto_s3.client().list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    assert isinstance(backend, S3PlainBackend)  # s3fs was never needed


def test_deletes_go_a_thousand_to_a_request(moto_s3, tmp_path, monkeypatch):
    """gc -c's deletes: DeleteObjects batches (3 keys each here), missing keys no error, no s3fs."""
    from tide.storage import s3_http

    monkeypatch.setattr(s3_http, "DELETE_BATCH", 3)
    bucket = moto_s3.new_bucket("batch")
    backend = open_backend(_spec(f"s3://{bucket}/store", moto_s3.endpoint), None)
    src = tmp_path / "o"
    src.write_bytes(b"obsolete")
    keys = [f"files/md5/0{i}/{i:030x}" for i in range(7)]
    for k in keys:
        backend.put_file(str(src), k)
    backend.put_file(str(src), "files/md5/ff/kept")
    assert backend.capabilities.batch_delete
    backend.delete_many([*keys, "files/md5/ee/never-there"])
    left = [o["Key"] for o in moto_s3.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert left == ["store/files/md5/ff/kept"]
    with pytest.raises(ValueError):
        backend.http.delete_many(["a", "b", "c", "d"])  # more than a request may carry


def test_the_listing_tells_every_objects_age(moto_s3, tmp_path):
    """gc -c's grace period on S3 reads ages from ListObjectsV2, not one HEAD per object."""
    import time

    from tide.objects.ref import ObjRef
    from tide.objects.remote import DvcLayoutStore
    from tide.storage.local import LocalBackend
    from tide.storage.wrappers import RetryingBackend

    bucket = moto_s3.new_bucket("ages")
    backend = open_backend(_spec(f"s3://{bucket}/store", moto_s3.endpoint), None)
    src = tmp_path / "o"
    src.write_bytes(b"aged")
    oid = "0123456789abcdef0123456789abcdef"
    backend.put_file(str(src), f"files/md5/{oid[:2]}/{oid[2:]}")
    backend.put_file(str(src), "files/md5/01/not-an-object")
    backend.put_file(str(src), "tide-gc-epoch")
    store = DvcLayoutStore(RetryingBackend(backend))
    assert store.capabilities.listing_ages
    ages = store.ages()
    assert list(ages) == [ObjRef(oid, False)]
    assert abs(ages[ObjRef(oid, False)] - time.time()) < 120
    assert not DvcLayoutStore(RetryingBackend(LocalBackend(str(tmp_path / "local")))).capabilities.listing_ages


def test_a_key_s3_could_not_delete_is_named(scripted):
    plan, http = scripted
    answer = (b'<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
              b"<Error><Key>store/files/md5/aa/gone</Key><Code>NoSuchKey</Code><Message>x</Message></Error>"
              b"<Error><Key>store/files/md5/aa/locked</Key><Code>AccessDenied</Code><Message>Access Denied"
              b"</Message></Error></DeleteResult>")
    plan["answer"] = lambda h, b: (200, {"Content-Type": "application/xml"}, answer, None)
    with pytest.raises(StoragePermanent, match="delete store/files/md5/aa/locked: access denied"):
        http.delete_many(["store/files/md5/aa/gone", "store/files/md5/aa/locked"])
    method, path, _, body = plan["seen"][-1][:4]
    assert method == "POST" and "delete" in path
    assert body.startswith(b"<Delete><Quiet>true</Quiet><Object><Key>store/files/md5/aa/gone</Key>")


def test_a_connection_closed_by_the_server_is_opened_again(scripted):
    plan, http = scripted
    plan["answer"] = lambda h, b: (200, {}, b"", "close")
    for i in range(5):
        http.put(f"store/k{i}", b"x" * i)
    assert len(plan["seen"]) == 5


def test_a_body_cut_short_is_transient_and_keeps_what_arrived(scripted, tmp_path):
    plan, http = scripted
    plan["answer"] = lambda h, b: (200, {"Content-Length": "100"}, b"y" * 40, "close")
    dst = tmp_path / "part"
    with pytest.raises(StorageTransient):
        http.get_to("store/files/md5/aa/bb", str(dst))
    assert dst.read_bytes() == b"y" * 40
    plan["answer"] = lambda h, b: (200, {}, b"z" * 100, None)
    http.get_to("store/files/md5/aa/bb", str(dst))  # the next request gets a fresh connection
    assert dst.read_bytes() == b"z" * 100


def test_requests_are_signed_and_carry_the_body_md5(scripted):
    plan, http = scripted
    http.put("store/files/md5/aa/bb", b"payload")
    method, path, auth, body, md5 = plan["seen"][0]
    assert (method, path, body) == ("PUT", "/bkt/store/files/md5/aa/bb", b"payload")
    assert md5 == base64.b64encode(hashlib.md5(b"payload").digest()).decode()
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=testing/") and SECRET not in auth


def test_listing_and_reading_without_s3fs(moto_s3, tmp_path):
    bucket = moto_s3.new_bucket("list")
    client = moto_s3.client()
    data = os.urandom(5000)
    for key in ("store/files/md5/ab/c1", "store/files/md5/ab/c2", "store/files/md5/ab/.x.tmp", "store/runs/r",
                "other/files/md5/ab/c3"):
        client.put_object(Bucket=bucket, Key=key, Body=data)
    backend = open_backend(_spec(f"s3://{bucket}/store", moto_s3.endpoint), None)
    assert list(backend.list("files/md5/ab/")) == ["files/md5/ab/c1", "files/md5/ab/c2"]  # no temporary names
    assert sorted(backend.list()) == ["files/md5/ab/c1", "files/md5/ab/c2", "runs/r"]
    assert list(backend.list("files/md5/zz/")) == []
    with backend.open("files/md5/ab/c1") as f:
        assert f.read() == data
    with backend.open("files/md5/ab/c1") as f:
        f.seek(4000)  # a resumed download asks for the rest only
        assert f.read() == data[4000:]
    with pytest.raises(StorageNotFound), backend.open("files/md5/ab/none") as f:
        f.read()
    assert isinstance(backend, S3PlainBackend)  # s3fs was never needed


def test_listing_follows_continuation_tokens(scripted):
    plan, http = scripted
    ns = "http://s3.amazonaws.com/doc/2006-03-01/"

    def answer(h, body):
        if "continuation-token=tok%2F1" not in h.path:
            xml = (f'<ListBucketResult xmlns="{ns}"><IsTruncated>true</IsTruncated>'
                   "<Contents><Key>p/a&amp;b</Key></Contents><NextContinuationToken>tok/1</NextContinuationToken>"
                   "</ListBucketResult>")
        else:
            xml = (f'<ListBucketResult xmlns="{ns}"><IsTruncated>false</IsTruncated>'
                   "<Contents><Key>p/c</Key></Contents></ListBucketResult>")
        return 200, {"Content-Type": "application/xml"}, xml.encode(), None

    plan["answer"] = answer
    assert list(http.list("p/")) == ["p/a&b", "p/c"]
    assert [s[1] for s in plan["seen"]] == ["/bkt/?list-type=2&prefix=p%2F",
                                            "/bkt/?continuation-token=tok%2F1&list-type=2&prefix=p%2F"]


@pytest.mark.parametrize("token", [None, "session-token/with+chars="])
@pytest.mark.parametrize(("method", "path", "query", "headers", "body"), [
    ("PUT", "/bkt/store/files/md5/ab/cdef", "", {"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg==",
                                               "Content-Type": "application/octet-stream"}, b"payload"),
    ("GET", "/bkt/k%20with%20spaces/%C3%A9t%C3%A9~x", "", {"Range": "bytes=5-"}, b""),
    ("HEAD", "/key", "", {}, b""),
    ("GET", "/bkt/", "continuation-token=a%2Bb%2F%3D&list-type=2&prefix=store%2Ffiles%2F", {}, b""),
])
def test_signatures_match_botocores(method, path, query, headers, body, token):
    import time

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from tide.storage.s3_http import sign

    host = "127.0.0.1:9000"
    url = f"http://{host}{path}" + (f"?{query}" if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    S3SigV4Auth(Credentials("AKIDEXAMPLE", SECRET, token), "s3", "eu-west-3").add_auth(req)
    amzdate = req.headers["X-Amz-Date"]
    ours = sign(method, host, path, query, {"Host": host, "User-Agent": "tide", **headers}, body,
                ("AKIDEXAMPLE", SECRET, token), "eu-west-3", time.strptime(amzdate, "%Y%m%dT%H%M%SZ"))
    assert ours["Authorization"] == req.headers["Authorization"]
    assert ours["X-Amz-Content-SHA256"] == req.headers["X-Amz-Content-SHA256"]
    assert ours.get("X-Amz-Security-Token") == req.headers.get("X-Amz-Security-Token")
    # the payload's hash given (a chunked pack's name), the body is not hashed again: the same signature
    given = sign(method, host, path, query, {"Host": host, "User-Agent": "tide", **headers}, b"not hashed",
                 ("AKIDEXAMPLE", SECRET, token), "eu-west-3", time.strptime(amzdate, "%Y%m%dT%H%M%SZ"),
                 payload=hashlib.sha256(body).hexdigest())
    assert given == ours


# --- the transfer engine over the streamed GET (objects/transfer.py: _download_streamed) -----------------
BIG = 3 * (1 << 20) + 17  # more than the two 1 MiB chunks read before a download is called large


def _serving(plan: dict, objects: dict[str, bytes], cut_first_at: int | None = None) -> list[str | None]:
    """Answer GETs of ``store/<object key>`` from ``objects`` (a Range honoured); with ``cut_first_at``,
    the first answer of a large object stops after that many bytes. Returns the Range headers seen."""
    ranges: list[str | None] = []

    def answer(h, body):
        key = h.path.removeprefix("/bkt/store/")
        data = objects.get(key)
        if data is None:
            return 404, {}, _error("NoSuchKey", "no"), None
        rng = h.headers.get("Range")
        ranges.append(rng)
        start = int(rng.removeprefix("bytes=").rstrip("-")) if rng else 0
        if cut_first_at is not None and len(data) > 1 << 20 and len(ranges) == 1:
            return 200, {"Content-Length": str(len(data))}, data[:cut_first_at], "close"
        return (206 if rng else 200), {}, data[start:], None

    plan["answer"] = answer
    return ranges


def _s3_store(scripted):
    from tide.objects.remote import DvcLayoutStore
    from tide.storage.wrappers import RetryingBackend

    backend = open_backend(_spec("s3://bkt/store", scripted[1].endpoint), None)
    return DvcLayoutStore(RetryingBackend(backend))


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _objects(*blobs: bytes):
    from tide.objects.remote import ObjRef, object_key

    refs = [ObjRef(hashlib.md5(b).hexdigest()) for b in blobs]
    return refs, {object_key(r): b for r, b in zip(refs, blobs, strict=True)}


def test_a_large_s3_download_is_hashed_as_it_streams_and_leaves_a_workspace_spare(scripted, tmp_path):
    from tide.objects.cache import ObjectCache
    from tide.objects.transfer import fetch

    big, small = os.urandom(BIG), b"tiny object"
    (rb, rs), objects = _objects(big, small)
    _serving(scripted[0], objects)
    cache = ObjectCache(str(tmp_path / "cache"), ("copy",))
    res = fetch(cache, _s3_store(scripted), [rb, rs], [], jobs=2, spares=[rb, rs])
    assert res.ok and sorted(res.confirmed) == sorted([rb, rs])
    assert _read(cache.path(rb.oid)) == big and _read(cache.path(rs.oid)) == small
    assert cache.spares[cache.path(rs.oid)] == small  # a small one stays in memory for the checkout
    spare = cache.spares[cache.path(rb.oid)]  # a large one was written twice as it arrived
    assert _read(spare) == big and os.stat(spare).st_mode & 0o200
    dst = tmp_path / "ws" / "big.bin"
    cache.link(rb.oid, str(dst))
    assert dst.read_bytes() == big and not os.path.exists(spare)
    assert os.stat(cache.path(rb.oid)).st_mode & 0o777 == 0o444
    assert [f for _, _, fs in os.walk(cache.root) for f in fs if f.endswith(".tmp")] == []


def test_a_corrupt_large_s3_object_is_named_and_leaves_nothing(scripted, tmp_path):
    from tide.objects.cache import ObjectCache
    from tide.objects.transfer import fetch

    big = os.urandom(BIG)
    (ref,), objects = _objects(big)
    objects = {k: big[:-1] + b"!" for k in objects}  # one byte changed on the remote
    _serving(scripted[0], objects)
    cache = ObjectCache(str(tmp_path / "cache"), ("copy",))
    res = fetch(cache, _s3_store(scripted), [ref], [], jobs=1, spares=[ref])
    assert res.corrupt == [ref] and not cache.exists(ref.oid) and not cache.spares
    assert [f for _, _, fs in os.walk(cache.root) for f in fs] == []  # no partial file, no spare


def test_a_large_s3_download_cut_short_resumes_after_what_arrived(scripted, tmp_path):
    from tide.objects.cache import ObjectCache
    from tide.objects.transfer import fetch

    big = os.urandom(BIG)
    (ref,), objects = _objects(big)
    ranges = _serving(scripted[0], objects, cut_first_at=(2 << 20) + 5000)
    cache = ObjectCache(str(tmp_path / "cache"), ("copy",))
    res = fetch(cache, _s3_store(scripted), [ref], [], jobs=1, spares=[ref])
    assert res.ok and _read(cache.path(ref.oid)) == big
    assert ranges[0] is None and len(ranges) == 2
    assert int(ranges[1].removeprefix("bytes=").rstrip("-")) >= 2 << 20  # only the rest was asked for
    assert not cache.spares  # the spare of an interrupted stream is dropped
    assert [f for _, _, fs in os.walk(cache.root) for f in fs if f.endswith(".tmp")] == []


def test_multipart_calls_as_plain_requests_map_errors_as_s3fs_does(scripted):
    """What moto cannot show: a CompleteMultipartUpload answered 200 with an error in its body (S3
    does this when assembling fails late), and NoSuchUpload becoming FileNotFoundError."""
    from tide.storage.s3_calls import PlainCalls

    plan, http = scripted
    calls = PlainCalls(http)
    plan["answer"] = lambda h, b: (200, {}, _error("InternalError", "try again"), None)
    with pytest.raises(StorageTransient, match="InternalError"):
        calls("complete_multipart_upload", Bucket="bkt", Key="store/k", UploadId="u1",
              MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"abc"'}]})
    method, path, _, body, _ = plan["seen"][-1]
    assert (method, path) == ("POST", "/bkt/store/k?uploadId=u1")
    assert b'<Part><PartNumber>1</PartNumber><ETag>"abc"</ETag></Part>' in body
    plan["answer"] = lambda h, b: (404, {}, _error("NoSuchUpload", "gone"), None)
    with pytest.raises(FileNotFoundError):
        calls("list_parts", Bucket="bkt", Key="store/k", UploadId="u1", MaxParts=1)
    plan["answer"] = lambda h, b: (403, {}, _error("AccessDenied", "no"), None)
    with pytest.raises(StoragePermanent, match="access denied"):
        calls("create_multipart_upload", Bucket="bkt", Key="store/k")
