"""Multipart uploads to S3 (storage/s3_multipart.py) against the moto server: a lost answer to
CompleteMultipartUpload, a vanished upload, and resuming an interrupted upload from its parts. Each
test runs twice: with the calls as plain signed requests (storage/s3_calls.py, tide's default) and
through s3fs (remotes whose options need it, or no credentials tide can read itself)."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

from tide.storage.base import StorageTransient
from tide.storage.s3_multipart import multipart_etag

MIB = 1 << 20
PART = 5 * MIB  # S3's (and moto's) smallest part but the last
KEY = "files/md5/ab/cdef"


class Calls:
    """Wraps the backend's S3 calls: counts them and lets a test fail or alter one."""

    def __init__(self, backend, hook=None):
        from tide.storage.s3 import MultipartCalls

        real = backend._multipart_calls()
        self.real = real.call
        self.hook = hook or (lambda method, kw, real: real(method, **kw))
        self.count: dict[str, int] = {}
        self.lock = threading.Lock()
        backend._multipart_calls = lambda: MultipartCalls(self, real.takes_buffers)

    def __call__(self, method, **kw):
        with self.lock:
            self.count[method] = self.count.get(method, 0) + 1
        return self.hook(method, kw, self.real)


@pytest.fixture(params=["plain", "s3fs"])
def s3(make_case, tmp_path, request):
    from tide.storage.s3 import open_with_s3fs

    case = make_case("s3")
    backend = case.open()  # the plain requests: tide's default
    if request.param == "s3fs":
        backend = open_with_s3fs(case.spec())
    else:
        from tide.storage.s3_calls import PlainCalls

        assert isinstance(backend._multipart_calls().call, PlainCalls)
    backend.side = open_with_s3fs(case.spec())  # the tests' own client, behind tide's back
    backend.part_size = PART
    backend.part_jobs = 1  # parts in order, so a test knows which ones arrived
    data = os.urandom(3 * PART + 12345)  # four parts
    path = tmp_path / "big"
    path.write_bytes(data)
    yield backend, str(path), data
    backend.close()


def _read(backend, key=KEY) -> bytes:
    with backend.open(key) as f:
        return f.read()


def _bucket_key(backend, key=KEY) -> tuple[str, str]:
    bucket, _, obj = backend._p(key).partition("/")
    return bucket, obj


def _open_uploads(backend) -> list:
    bucket, obj = _bucket_key(backend)
    return backend.side.fs.call_s3("list_multipart_uploads", Bucket=bucket).get("Uploads") or []


def test_large_file_goes_up_in_parts(s3):
    backend, path, data = s3
    calls = Calls(backend)
    backend.put_file(path, KEY)
    assert _read(backend) == data
    assert calls.count["upload_part"] == 4 and calls.count["complete_multipart_upload"] == 1
    assert calls.count["list_multipart_uploads"] == 1 and "list_parts" not in calls.count  # nothing to resume
    assert _open_uploads(backend) == []


@pytest.mark.parametrize("answer", [
    TimeoutError("Read timed out (the server took too long to assemble the object)"),
    FileNotFoundError("NoSuchUpload: the specified upload does not exist"),  # botocore's retry, on AWS
])
def test_a_lost_answer_to_complete_is_not_a_failure(s3, answer):
    """The server completes the upload but its answer is lost (or the client's retry is told the
    upload no longer exists): the object is checked with one HEAD and accepted."""
    backend, path, data = s3

    def hook(method, kw, real):
        out = real(method, **kw)
        if method == "complete_multipart_upload":
            raise answer
        return out

    calls = Calls(backend, hook)
    backend.put_file(path, KEY)
    assert _read(backend) == data
    assert calls.count["complete_multipart_upload"] == 1 and calls.count["head_object"] == 1
    assert calls.count["create_multipart_upload"] == 1 and calls.count["upload_part"] == 4  # nothing sent twice


def test_a_vanished_upload_whose_object_is_not_ours_starts_over(s3):
    """NoSuchUpload, and the key holds something else (same size, other bytes): upload again."""
    backend, path, data = s3
    bucket, obj = _bucket_key(backend)
    client = backend.side.fs.call_s3
    state = {"done": False}

    def hook(method, kw, real):
        if method == "complete_multipart_upload" and not state["done"]:
            state["done"] = True  # behind tide's back: abort its upload, write other bytes of the same size
            client("abort_multipart_upload", Bucket=bucket, Key=obj, UploadId=kw["UploadId"])
            client("put_object", Bucket=bucket, Key=obj, Body=data[::-1])
        return real(method, **kw)

    calls = Calls(backend, hook)
    backend.put_file(path, KEY)
    assert _read(backend) == data
    assert calls.count["create_multipart_upload"] == 2 and calls.count["upload_part"] == 8


def test_an_interrupted_upload_resumes_from_its_parts(s3):
    backend, path, data = s3
    state = {"parts": 0}

    def cut_after_two(method, kw, real):
        if method == "upload_part":
            state["parts"] += 1
            if state["parts"] == 3:
                raise ConnectionResetError(104, "Connection reset by peer")
        return real(method, **kw)

    Calls(backend, cut_after_two)
    with pytest.raises(StorageTransient):
        backend.put_file(path, KEY)
    assert not backend.exists(KEY)
    assert len(_open_uploads(backend)) == 1  # left for the next attempt
    # the next attempt (the retry wrapper's, or the next run's) sends only the missing parts
    del backend._multipart_calls  # the class's again
    calls = Calls(backend)
    backend.put_file(path, KEY)
    assert _read(backend) == data
    assert calls.count["list_parts"] == 1 and calls.count["upload_part"] == 2
    assert "create_multipart_upload" not in calls.count
    assert _open_uploads(backend) == []


def test_a_stale_part_that_does_not_match_is_sent_again(s3):
    backend, path, data = s3
    bucket, obj = _bucket_key(backend)
    client = backend.side.fs.call_s3
    up = client("create_multipart_upload", Bucket=bucket, Key=obj)["UploadId"]
    client("upload_part", Bucket=bucket, Key=obj, UploadId=up, PartNumber=1, Body=data[:PART])
    client("upload_part", Bucket=bucket, Key=obj, UploadId=up, PartNumber=2, Body=os.urandom(PART))  # wrong
    calls = Calls(backend)
    backend.put_file(path, KEY)
    assert _read(backend) == data
    assert calls.count["upload_part"] == 3  # parts 2, 3, 4


def test_a_permanent_failure_aborts_the_upload(s3):
    backend, path, _ = s3

    def denied(method, kw, real):
        if method == "upload_part" and kw["PartNumber"] == 2:
            raise PermissionError("Access Denied")
        return real(method, **kw)

    Calls(backend, denied)
    with pytest.raises(Exception) as info:
        backend.put_file(path, KEY)
    assert "permission denied" in str(info.value).lower()
    assert _open_uploads(backend) == [] and not backend.exists(KEY)


def test_multipart_etag_is_what_s3_reports(s3):
    backend, path, data = s3
    backend.put_file(path, KEY)
    bucket, obj = _bucket_key(backend)
    head = backend.side.fs.call_s3("head_object", Bucket=bucket, Key=obj)
    parts = [{"ETag": hashlib.md5(data[i:i + PART]).hexdigest()} for i in range(0, len(data), PART)]
    assert head["ETag"].strip('"') == multipart_etag(parts)
    assert multipart_etag([{"ETag": "not-an-md5"}]) is None
