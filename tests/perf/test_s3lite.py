"""bench/s3lite.py, the benchmark's S3 stand-in, answers what boto3 asks as S3 would (contents,
ETags, ranges, listing order and pagination, multipart uploads, error codes)."""

from __future__ import annotations

import hashlib
import http.client
import os
import sys

import pytest

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
from s3server import S3LiteServer  # noqa: E402


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("s3lite")
    server = S3LiteServer(str(tmp / "root"), str(tmp / "log"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3(server):
    client = boto3.client(
        "s3", endpoint_url=server.url, aws_access_key_id="any", aws_secret_access_key="any", region_name="us-east-1"
    )
    client.create_bucket(Bucket="bkt")
    return client


def _code(exc: pytest.ExceptionInfo) -> str:
    return exc.value.response["Error"]["Code"]


def test_put_get_head_range_delete(s3):
    data = os.urandom(3000)
    put = s3.put_object(Bucket="bkt", Key="a/b/obj", Body=data)
    assert put["ETag"] == f'"{_md5(data)}"'
    got = s3.get_object(Bucket="bkt", Key="a/b/obj")
    assert got["Body"].read() == data and got["ETag"] == put["ETag"]
    part = s3.get_object(Bucket="bkt", Key="a/b/obj", Range="bytes=10-19")
    assert part["Body"].read() == data[10:20] and part["ContentRange"] == "bytes 10-19/3000"
    assert s3.get_object(Bucket="bkt", Key="a/b/obj", Range="bytes=2990-")["Body"].read() == data[2990:]
    head = s3.head_object(Bucket="bkt", Key="a/b/obj")
    assert head["ContentLength"] == 3000 and head["ETag"] == put["ETag"] and head["LastModified"]
    s3.delete_object(Bucket="bkt", Key="a/b/obj")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="bkt", Key="a/b/obj")
    assert _code(exc) == "NoSuchKey"
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket="bkt", Key="a/b/obj")
    assert _code(exc) == "404"
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="no-such-bucket", Key="k")
    assert _code(exc) == "NoSuchBucket"
    s3.put_object(Bucket="bkt", Key="small", Body=b"12345")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="bkt", Key="small", Range="bytes=5000-")
    assert _code(exc) == "InvalidRange"


def test_list_prefix_delimiter_pagination(s3):
    s3.create_bucket(Bucket="lst")
    keys = ["d/1", "d/2", "d/3", "d-e", "f/g/h", "z"]
    for k in keys:
        s3.put_object(Bucket="lst", Key=k, Body=k.encode())
    everything = s3.list_objects_v2(Bucket="lst")
    assert [o["Key"] for o in everything["Contents"]] == sorted(keys)  # d-e < d/1: S3 sorts by bytes
    for o in everything["Contents"]:
        assert o["ETag"] == f'"{_md5(o["Key"].encode())}"' and o["Size"] == len(o["Key"])
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="lst", Prefix="d/")["Contents"]] == ["d/1", "d/2", "d/3"]
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="lst", PaginationConfig={"PageSize": 2})
    listed = [[o["Key"] for o in page["Contents"]] for page in pages]
    assert listed == [sorted(keys)[i:i + 2] for i in range(0, len(keys), 2)]
    top = s3.list_objects_v2(Bucket="lst", Delimiter="/")
    assert [o["Key"] for o in top["Contents"]] == ["d-e", "z"]
    assert [p["Prefix"] for p in top["CommonPrefixes"]] == ["d/", "f/"]
    v1 = s3.get_paginator("list_objects").paginate(Bucket="lst", Prefix="d", PaginationConfig={"PageSize": 2})
    assert [o["Key"] for page in v1 for o in page["Contents"]] == ["d-e", "d/1", "d/2", "d/3"]
    s3.delete_objects(Bucket="lst", Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})
    assert "Contents" not in s3.list_objects_v2(Bucket="lst")
    s3.delete_bucket(Bucket="lst")


def test_multipart_upload(s3):
    parts = [b"a" * 1000, b"b" * 1000, b"c" * 10]
    up = s3.create_multipart_upload(Bucket="bkt", Key="big")["UploadId"]
    tags = [s3.upload_part(Bucket="bkt", Key="big", UploadId=up, PartNumber=n, Body=p)["ETag"]
            for n, p in enumerate(parts, 1)]
    assert tags == [f'"{_md5(p)}"' for p in parts]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="bkt", Prefix="big")["Uploads"]] == [up]
    assert [p["Size"] for p in s3.list_parts(Bucket="bkt", Key="big", UploadId=up)["Parts"]] == [1000, 1000, 10]
    done = s3.complete_multipart_upload(Bucket="bkt", Key="big", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": t} for n, t in enumerate(tags, 1)]})
    want = _md5(b"".join(bytes.fromhex(t.strip('"')) for t in tags)) + "-3"
    assert done["ETag"] == f'"{want}"' == s3.head_object(Bucket="bkt", Key="big")["ETag"]
    assert s3.get_object(Bucket="bkt", Key="big")["Body"].read() == b"".join(parts)
    with pytest.raises(ClientError) as exc:
        s3.list_parts(Bucket="bkt", Key="big", UploadId=up)
    assert _code(exc) == "NoSuchUpload"
    # parts out of order, of equal or unequal sizes (s3lite writes parts in place when it can)
    for sizes, order in (([1000, 1000, 10], [3, 1, 2]), ([10, 1000, 5], [2, 1, 3])):
        parts = [bytes([65 + i]) * size for i, size in enumerate(sizes)]
        up = s3.create_multipart_upload(Bucket="bkt", Key="mixed")["UploadId"]
        tags = {n: s3.upload_part(Bucket="bkt", Key="mixed", UploadId=up, PartNumber=n, Body=parts[n - 1])["ETag"]
                for n in order}
        s3.complete_multipart_upload(Bucket="bkt", Key="mixed", UploadId=up, MultipartUpload={
            "Parts": [{"PartNumber": n, "ETag": tags[n]} for n in (1, 2, 3)]})
        assert s3.get_object(Bucket="bkt", Key="mixed")["Body"].read() == b"".join(parts)
    aborted = s3.create_multipart_upload(Bucket="bkt", Key="gone")["UploadId"]
    s3.abort_multipart_upload(Bucket="bkt", Key="gone", UploadId=aborted)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket="bkt")


def test_chunked_and_aws_chunked_bodies(server, s3):
    """Bodies as HTTP chunks, as aws-chunked (signed chunks, a trailer) and after ``Expect: 100-continue``."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("PUT", "/bkt/chunked", body=iter([b"hello ", b"world"]), encode_chunked=True)
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read() == b"" and resp.getheader("ETag") == f'"{_md5(b"hello world")}"'
    aws = (b"6;chunk-signature=" + b"0" * 64 + b"\r\nhello \r\n5;chunk-signature=" + b"1" * 64 + b"\r\nworld\r\n"
           b"0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n")
    conn.request("PUT", "/bkt/aws", body=aws, headers={
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": "11"})
    assert conn.getresponse().read() == b""  # the same connection, kept alive
    assert s3.get_object(Bucket="bkt", Key="aws")["Body"].read() == b"hello world"
    conn.putrequest("PUT", "/bkt/expect")
    conn.putheader("Content-Length", "3")
    conn.putheader("Expect", "100-continue")
    conn.endheaders()
    assert conn.sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
    conn.send(b"abc")
    assert conn.getresponse().status == 200
    assert s3.get_object(Bucket="bkt", Key="expect")["Body"].read() == b"abc"
    conn.close()
