"""s3lite: a small S3-compatible HTTP server for the benchmark's S3 rows.

    python bench/s3lite.py --root DIR --port N

Objects are plain files: bucket ``b`` is the directory ``DIR/b`` and key ``k`` the file ``DIR/b/k``
(written under a temporary name, then renamed, so a reader never sees a partial object). Parts of
multipart uploads wait under ``DIR/.s3lite/``. Path-style URLs only (``http://host:port/bucket/key``).

It is a stand-in for a real S3 service, whose servers do not run on the client's CPU: moto spends
~3.6 ms of CPU per request, so with moto on the same machine the server, not the client, sets the
time of a push or pull of many small files. s3lite spends about a tenth of a millisecond. It is NOT
a test double for correctness (tide's S3 backend is tested against moto): it checks no signatures
(any Authorization header, or none, is accepted), no checksums the client sends, no ACLs or
policies; it keeps ETags and unfinished multipart uploads in memory (an ETag it has forgotten is
the md5 of the file again), cannot store a key that is a prefix of another (``a`` and ``a/b``), and
knows only the delimiter ``/``.

Requests: ListBuckets; CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation; ListObjects (v1 and
v2, prefix, ``/`` delimiter, pagination, ``encoding-type=url``); HeadObject, GetObject (``Range``),
PutObject (Content-Length, chunked or aws-chunked body, ``Expect: 100-continue``), CopyObject,
DeleteObject, DeleteObjects; multipart uploads (create, upload part, list parts, list uploads,
complete, abort). Errors are S3's XML error documents. Standard library only; uvloop if importable.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import email.utils
import functools
import hashlib
import itertools
import os
import queue
import shutil
import stat
import sys
import threading
import time
import traceback
import uuid
from urllib.parse import parse_qsl, quote, unquote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
XML = '<?xml version="1.0" encoding="UTF-8"?>\n'
INLINE = 256 << 10  # a GET of at most this many bytes is one write; larger ones go by sendfile
SPILL = 1 << 20  # a request body larger than this goes to a temporary file as it arrives
REASONS = {
    200: "OK", 204: "No Content", 206: "Partial Content", 400: "Bad Request", 404: "Not Found",
    405: "Method Not Allowed", 409: "Conflict", 412: "Precondition Failed", 416: "Range Not Satisfiable",
    500: "Internal Server Error", 501: "Not Implemented",
}
CLOSE = "Connection: close\r\n"
OBJECT = "Content-Type: binary/octet-stream\r\nAccept-Ranges: bytes\r\n"


class S3Error(Exception):
    def __init__(self, status: int, code: str, message: str, extra: str = "") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def response(self, resource: str) -> Response:
        body = (f"{XML}<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>"
                f"<Resource>{escape(resource)}</Resource><RequestId>s3lite</RequestId></Error>")
        return Response(self.status, "Content-Type: application/xml\r\n" + self.extra, body.encode())


def no_key() -> S3Error:
    return S3Error(404, "NoSuchKey", "The specified key does not exist.")


def no_bucket() -> S3Error:
    return S3Error(404, "NoSuchBucket", "The specified bucket does not exist")


class Response:
    __slots__ = ("status", "headers", "body", "length")

    def __init__(self, status: int, headers: str = "", body: bytes | FileBody = b"", length: int | None = None):
        self.status, self.headers, self.body, self.length = status, headers, body, length  # headers: "K: v\r\n"...


def xml(body: str) -> Response:
    return Response(200, "Content-Type: application/xml\r\n", (XML + body).encode())


class FileBody:
    """A byte range of an open file, sent with sendfile."""

    def __init__(self, fd: int, offset: int, count: int) -> None:
        self.fd, self.offset, self.count = fd, offset, count


# --- request bodies ---------------------------------------------------------------------------


class Sink:
    """Where a request body goes: memory while it is small, a temporary file beyond SPILL; md5 as it comes."""

    def __init__(self, tmpname) -> None:
        self.tmpname = tmpname
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.chunks: list[bytes] = []
        self.size = 0
        self.fd: int | None = None
        self.tmp = ""

    def write(self, data: bytes) -> None:
        self.md5.update(data)
        self.size += len(data)
        if self.fd is not None:
            _write_all(self.fd, data)
            return
        self.chunks.append(data)
        if self.size > SPILL:
            self._open()
            for c in self.chunks:
                _write_all(self.fd, c)
            self.chunks = []

    def _open(self) -> None:
        self.tmp = self.tmpname()
        self.fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)

    def data(self) -> bytes:
        if self.fd is None:
            return b"".join(self.chunks)
        with open(self.tmp, "rb") as f:
            return f.read()

    def finish(self) -> tuple[str, os.stat_result]:
        """The body as a closed temporary file: its name and stat (to be renamed into place)."""
        if self.fd is None:
            self._open()
            _write_all(self.fd, b"".join(self.chunks))
            self.chunks = []
        st = os.fstat(self.fd)
        os.close(self.fd)
        self.fd = None
        tmp, self.tmp = self.tmp, ""
        return tmp, st

    def discard(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.tmp:
            _unlink(self.tmp)
            self.tmp = ""


class PartSink(Sink):
    """A part of a multipart upload written in place: into the upload's data file, at (number - 1) x the
    size of part 1, so that completing an upload of equal parts copies nothing. Its md5 and writes run
    on a thread of its own (both release the GIL), so the event loop only receives: with more than
    BACKLOG bytes waiting, the connection stops reading until half of them are written."""

    BACKLOG = 32 << 20

    def __init__(self, fd: int, offset: int) -> None:
        super().__init__(None)
        self.pfd, self.offset = fd, offset
        self.loop = asyncio.get_running_loop()
        self.q: queue.SimpleQueue = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.pending = 0
        self.on_drain = None
        self.error: BaseException | None = None
        self.ended = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def write(self, data: bytes) -> None:
        with self.lock:
            self.pending += len(data)
        self.q.put(data)
        self.size += len(data)

    def backlogged(self, resume) -> bool:
        """True (and ``resume`` called once the backlog halves) when the writer is behind."""
        with self.lock:
            if self.pending > self.BACKLOG and self.on_drain is None and not self.ended:
                self.on_drain = resume
                return True
        return False

    def _run(self) -> None:
        at = self.offset
        while (data := self.q.get()) is not None:
            if self.error is None:
                try:
                    self.md5.update(data)
                    _copy_in(self.pfd, data, at)
                except BaseException as exc:  # reported by wait()
                    self.error = exc
            at += len(data)
            with self.lock:
                self.pending -= len(data)
                cb = self.on_drain if self.pending <= self.BACKLOG // 2 else None
                if cb is not None:
                    self.on_drain = None
            if cb is not None:
                self.loop.call_soon_threadsafe(cb)
        with self.lock:
            cb, self.on_drain = self.on_drain, None
        if cb is not None:
            self.loop.call_soon_threadsafe(cb)

    def discard(self) -> None:
        """No more data: the thread writes what it holds and stops (``wait`` waits for that)."""
        if not self.ended:
            self.ended = True
            self.q.put(None)

    def wait(self) -> None:
        self.discard()
        self.thread.join()
        if self.error is not None:
            raise self.error


class Length:
    """A body of Content-Length bytes."""

    def __init__(self, n: int, out) -> None:
        self.left, self.out = n, out

    def feed(self, buf: bytearray) -> bool:
        n = min(self.left, len(buf))
        if n:
            self.out(bytes(buf) if n == len(buf) else buf[:n])
            del buf[:n]
            self.left -= n
        return self.left == 0


class Chunked:
    """``hex-size[;ext]\\r\\n data \\r\\n`` ... ``0\\r\\n [trailers] \\r\\n``: HTTP's chunked transfer coding and
    AWS's aws-chunked content coding (whose extension is ``chunk-signature=...``) alike."""

    SIZE, DATA, CRLF, TRAILER = range(4)

    def __init__(self, out) -> None:
        self.out = out
        self.state = self.SIZE
        self.left = 0
        self.buf = bytearray()  # when it decodes the output of another decoder (write)
        self.done = False

    def write(self, data: bytes) -> None:
        self.buf += data
        self.feed(self.buf)

    def feed(self, buf: bytearray) -> bool:
        while not self.done:
            if self.state == self.DATA:
                n = min(self.left, len(buf))
                if n:
                    self.out(buf[:n])
                    del buf[:n]
                    self.left -= n
                if self.left:
                    return False
                self.state = self.CRLF
            elif self.state == self.CRLF:
                if len(buf) < 2:
                    return False
                del buf[:2]
                self.state = self.SIZE
            else:
                i = buf.find(b"\r\n")
                if i < 0:
                    if len(buf) > 8192:
                        raise ValueError("chunk header too long")
                    return False
                line = bytes(buf[:i])
                del buf[: i + 2]
                if self.state == self.TRAILER:
                    self.done = not line
                    continue
                size = int(line.split(b";", 1)[0], 16)
                self.state, self.left = (self.DATA, size) if size else (self.TRAILER, 0)
        return True


class Request:
    __slots__ = ("method", "target", "headers", "close", "expect", "body", "sink")

    def __init__(self, head: str, sink_for) -> None:  # sink_for(request, plain length or -1)
        lines = head.split("\r\n")
        self.method, self.target, version = lines[0].split(" ")
        h = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            h[k.lower()] = v.strip()
        self.headers = h
        conn = h.get("connection", "").lower()
        self.close = conn == "close" or (version == "HTTP/1.0" and conn != "keep-alive")
        self.expect = h.get("expect", "").lower() == "100-continue"
        self.body = self.sink = None
        te = h.get("transfer-encoding", "").lower()
        n = 0 if te else int(h.get("content-length") or 0)
        if te or n:
            if te and te != "chunked":
                raise ValueError(f"transfer-encoding {te}")
            aws = h.get("x-amz-content-sha256", "").startswith("STREAMING-") or "aws-chunked" in h.get(
                "content-encoding", "")
            self.sink = sink_for(self, -1 if te or aws else n)
            out = self.sink.write
            if aws:
                out = Chunked(out).write
            self.body = Chunked(out) if te else Length(n, out)


# --- the store --------------------------------------------------------------------------------


class Upload:
    def __init__(self, bucket: str, key: str, updir: str) -> None:
        self.bucket, self.key, self.initiated = bucket, key, time.time()
        self.path = f"/{bucket}/{key}"
        self.dir = updir
        self.data = os.path.join(updir, "data")  # the parts written in place
        self.fd = os.open(self.data, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        self.stride: int | None = None  # the size of part 1
        # number -> (md5 hex, size, mtime, its own file or "" when in place at (number - 1) * stride)
        self.parts: dict[int, tuple[str, int, float, str]] = {}

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Store:
    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.tmp = os.path.join(self.root, ".s3lite", "tmp")
        self.partdir = os.path.join(self.root, ".s3lite", "uploads")
        os.makedirs(self.tmp, exist_ok=True)
        os.makedirs(self.partdir, exist_ok=True)
        self.etags: dict[str, tuple[int, int, str]] = {}  # path -> (size, mtime_ns, etag)
        self.uploads: dict[str, Upload] = {}
        self._n = itertools.count()
        self._pid = os.getpid()

    def tmpname(self) -> str:
        return os.path.join(self.tmp, f"{self._pid}.{next(self._n)}")

    def sink_for(self, req: Request, length: int) -> Sink:
        """Where the body of ``req`` goes (``length``: its size, -1 when coded): in place for the parts
        of a multipart upload whose part 1 is at least as large, else memory or a temporary file."""
        if length > 0 and req.method == "PUT" and "uploadId=" in req.target and "x-amz-copy-source" not in req.headers:
            path, _, qs = req.target.partition("?")
            q = dict(parse_qsl(qs))
            u = self.uploads.get(q.get("uploadId", ""))
            if u is not None and unquote(path) == u.path and q.get("partNumber", "").isdigit():
                n = int(q["partNumber"])
                if n == 1 and u.stride is None:
                    u.stride = length
                if u.stride is not None and length <= u.stride and 1 <= n <= 10_000:
                    return PartSink(u.fd, (n - 1) * u.stride)
        return Sink(self.tmpname)

    # --- paths --------------------------------------------------------------------------------
    def bucket_dir(self, bucket: str) -> str:
        if bucket.startswith(".") or "\\" in bucket or len(bucket) > 63:
            raise S3Error(400, "InvalidBucketName", "The specified bucket is not valid.")
        return self.root + "/" + bucket

    @staticmethod
    def key_path(bdir: str, key: str) -> str:
        if not key or key[-1] == "/" or key[0] == "/" or "//" in key or (
            "." in key and any(p in (".", "..") for p in key.split("/"))
        ):
            raise S3Error(400, "InvalidArgument", f"s3lite cannot store the key {key!r} as a file")
        return bdir + "/" + key

    def missing(self, bdir: str) -> S3Error:
        return no_key() if os.path.isdir(bdir) else no_bucket()

    def etag(self, path: str, st: os.stat_result) -> str:
        hit = self.etags.get(path)
        if hit is not None and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return hit[2]
        md5 = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                md5.update(chunk)
        tag = md5.hexdigest()
        self.etags[path] = (st.st_size, st.st_mtime_ns, tag)
        return tag

    def place(self, tmp: str, path: str, bdir: str) -> None:
        """Rename the finished temporary file ``tmp`` to the object's ``path``."""
        try:
            try:
                os.rename(tmp, path)
            except FileNotFoundError:
                if not os.path.isdir(bdir):
                    raise no_bucket()
                os.makedirs(os.path.dirname(path), exist_ok=True)
                os.rename(tmp, path)
        except (NotADirectoryError, IsADirectoryError, FileExistsError):
            _unlink(tmp)
            raise S3Error(409, "InvalidArgument", "s3lite stores keys as files: a key cannot be another's prefix")
        except BaseException:
            _unlink(tmp)
            raise

    # --- dispatch -----------------------------------------------------------------------------
    def handle(self, req: Request):  # a Response, or a coroutine returning one
        path, _, qs = req.target.partition("?")
        q = dict(parse_qsl(qs, keep_blank_values=True)) if qs else {}
        bucket, _, key = unquote(path[1:]).partition("/")
        m = req.method
        if not bucket:
            if m == "GET":
                return self.list_buckets()
            raise S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        bdir = self.bucket_dir(bucket)
        if not key:
            return self.bucket_op(m, bucket, bdir, q, req)
        if m == "GET":
            return self.list_parts(bucket, key, q) if "uploadId" in q else self.get(bdir, key, req)
        if m == "HEAD":
            return self.head(bdir, key)
        if m == "PUT":
            if "x-amz-copy-source" in req.headers and "uploadId" in q:
                raise S3Error(501, "NotImplemented", "s3lite does not implement UploadPartCopy")
            if "uploadId" in q:
                return self.upload_part(bucket, key, q, req)
            if "x-amz-copy-source" in req.headers:
                return self.copy(bdir, key, req.headers["x-amz-copy-source"])
            return self.put(bdir, key, req)
        if m == "DELETE":
            return self.abort(bucket, key, q["uploadId"]) if "uploadId" in q else self.delete(bdir, key)
        if m == "POST" and "uploads" in q:
            return self.create_upload(bucket, bdir, key)
        if m == "POST" and "uploadId" in q:
            return self.complete(bucket, bdir, key, q["uploadId"], req)
        raise S3Error(501, "NotImplemented", f"s3lite does not implement {m} {req.target}")

    def bucket_op(self, m: str, bucket: str, bdir: str, q: dict, req: Request) -> Response:
        if m == "PUT":
            try:
                os.mkdir(bdir)
            except FileExistsError:
                raise S3Error(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named "
                              "bucket succeeded and you already own it.")
            return Response(200, f"Location: /{bucket}\r\n")
        if m == "DELETE":
            try:
                os.rmdir(bdir)
            except FileNotFoundError:
                raise no_bucket()
            except OSError:
                raise S3Error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty")
            return Response(204)
        if not os.path.isdir(bdir):
            raise no_bucket()
        if m == "HEAD":
            return Response(200, "x-amz-bucket-region: us-east-1\r\n")
        if m == "POST" and "delete" in q:
            return self.delete_objects(bdir, req.sink.data() if req.sink else b"")
        if m != "GET":
            raise S3Error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        if "location" in q:
            return xml(f'<LocationConstraint xmlns="{NS}"/>')
        if "uploads" in q:
            return self.list_uploads(bucket, q)
        if q.get("list-type") == "2":
            return self.list_objects(bucket, bdir, q, v2=True)
        if set(q) - {"prefix", "delimiter", "marker", "max-keys", "encoding-type"}:
            raise S3Error(501, "NotImplemented", f"s3lite does not implement GET {req.target}")
        return self.list_objects(bucket, bdir, q, v2=False)

    # --- objects ------------------------------------------------------------------------------
    def put(self, bdir: str, key: str, req: Request) -> Response:
        path = self.key_path(bdir, key)
        if req.headers.get("if-none-match") == "*" and os.path.isfile(path):
            raise S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
        sink = req.sink or Sink(self.tmpname)
        tag = sink.md5.hexdigest()
        tmp, st = sink.finish()
        self.place(tmp, path, bdir)
        self.etags[path] = (st.st_size, st.st_mtime_ns, tag)
        return Response(200, f'ETag: "{tag}"\r\n')

    def head(self, bdir: str, key: str) -> Response:
        path = self.key_path(bdir, key)
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise self.missing(bdir)
        if not stat.S_ISREG(st.st_mode):
            raise no_key()
        return Response(200, self._object_headers(path, st), b"", st.st_size)

    def _object_headers(self, path: str, st: os.stat_result) -> str:
        return f'{OBJECT}ETag: "{self.etag(path, st)}"\r\nLast-Modified: {_http_date(int(st.st_mtime))}\r\n'

    def get(self, bdir: str, key: str, req: Request) -> Response:
        path = self.key_path(bdir, key)
        try:
            fd = os.open(path, os.O_RDONLY)
        except (FileNotFoundError, NotADirectoryError):
            raise self.missing(bdir)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise no_key()
            size = st.st_size
            headers = self._object_headers(path, st)
            status, offset, count = 200, 0, size
            rng = req.headers.get("range")
            if rng:
                offset, count = _range(rng, size)
                status = 206
                headers += f"Content-Range: bytes {offset}-{offset + count - 1}/{size}\r\n"
            if count > INLINE:
                body, fd = FileBody(fd, offset, count), -1  # the connection closes it
                return Response(status, headers, body)
            data = os.pread(fd, count, offset)
            return Response(status, headers, data)
        finally:
            if fd >= 0:
                os.close(fd)

    def delete(self, bdir: str, key: str) -> Response:
        path = self.key_path(bdir, key)
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError):
            if not os.path.isdir(bdir):
                raise no_bucket()
            return Response(204)
        except IsADirectoryError:
            return Response(204)
        self.etags.pop(path, None)
        d = os.path.dirname(path)
        while len(d) > len(bdir):  # S3 has no directories: drop the ones left empty
            try:
                os.rmdir(d)
            except OSError:
                break
            d = os.path.dirname(d)
        return Response(204)

    def delete_objects(self, bdir: str, body: bytes) -> Response:
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed")
        quiet = any(_tag(e) == "Quiet" and (e.text or "").strip().lower() == "true" for e in root)
        out = [f'<DeleteResult xmlns="{NS}">']
        for obj in root:
            if _tag(obj) != "Object":
                continue
            key = next((e.text or "" for e in obj if _tag(e) == "Key"), "")
            try:
                self.delete(bdir, key)
                if not quiet:
                    out.append(f"<Deleted><Key>{escape(key)}</Key></Deleted>")
            except S3Error as exc:
                out.append(f"<Error><Key>{escape(key)}</Key><Code>{exc.code}</Code>"
                           f"<Message>{escape(exc.message)}</Message></Error>")
        return xml("".join(out) + "</DeleteResult>")

    def copy(self, bdir: str, key: str, source: str) -> Response:
        sbucket, _, skey = unquote(source.split("?", 1)[0]).lstrip("/").partition("/")
        sbdir = self.bucket_dir(sbucket)
        src = self.key_path(sbdir, skey)
        path = self.key_path(bdir, key)
        tmp = self.tmpname()
        try:
            shutil.copyfile(src, tmp)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            _unlink(tmp)
            raise self.missing(sbdir)
        st = os.stat(tmp)
        tag = self.etag(tmp, st)  # the content's md5, also for a copy of a multipart object
        self.etags.pop(tmp, None)
        self.place(tmp, path, bdir)
        self.etags[path] = (st.st_size, st.st_mtime_ns, tag)
        return xml(f'<CopyObjectResult xmlns="{NS}"><LastModified>{_iso(st.st_mtime)}</LastModified>'
                   f'<ETag>"{tag}"</ETag></CopyObjectResult>')

    # --- listing ------------------------------------------------------------------------------
    def list_buckets(self) -> Response:
        names = sorted(n for n in os.listdir(self.root) if not n.startswith(".") and os.path.isdir(
            os.path.join(self.root, n)))
        items = "".join(f"<Bucket><Name>{escape(n)}</Name><CreationDate>"
                        f"{_iso(os.stat(os.path.join(self.root, n)).st_mtime)}</CreationDate></Bucket>" for n in names)
        return xml(f'<ListAllMyBucketsResult xmlns="{NS}"><Owner><ID>s3lite</ID><DisplayName>s3lite</DisplayName>'
                   f"</Owner><Buckets>{items}</Buckets></ListAllMyBucketsResult>")

    def list_objects(self, bucket: str, bdir: str, q: dict, v2: bool) -> Response:
        prefix, delimiter = q.get("prefix", ""), q.get("delimiter", "")
        if delimiter not in ("", "/"):
            raise S3Error(501, "NotImplemented", "s3lite knows only the delimiter '/'")
        limit = max(0, min(1000, int(q.get("max-keys", 1000))))
        enc = q.get("encoding-type") == "url"
        e = (lambda s: quote(s, safe="/")) if enc else escape
        if v2:
            token = q.get("continuation-token")
            start = base64.urlsafe_b64decode(token).decode() if token else q.get("start-after", "")
        else:
            start = q.get("marker", "")
        found, truncated = [], False
        dir_part = prefix[: prefix.rfind("/") + 1]
        if limit and not any(p in (".", "..", "") for p in dir_part.split("/")[:-1]):
            for item in self._walk(os.path.join(bdir, dir_part), dir_part, prefix, start, delimiter == "/"):
                if len(found) == limit:
                    truncated = True
                    break
                found.append(item)
        out = [f'<ListBucketResult xmlns="{NS}"><Name>{escape(bucket)}</Name><Prefix>{e(prefix)}</Prefix>'
               f"<MaxKeys>{limit}</MaxKeys><IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"]
        if delimiter:
            out.append(f"<Delimiter>{e(delimiter)}</Delimiter>")
        if enc:
            out.append("<EncodingType>url</EncodingType>")
        if v2:
            out.append(f"<KeyCount>{len(found)}</KeyCount>")
            if "continuation-token" in q:
                out.append(f"<ContinuationToken>{escape(q['continuation-token'])}</ContinuationToken>")
            if "start-after" in q:
                out.append(f"<StartAfter>{e(q['start-after'])}</StartAfter>")
            if truncated:
                out.append(f"<NextContinuationToken>{base64.urlsafe_b64encode(found[-1][0].encode()).decode()}"
                           "</NextContinuationToken>")
        else:
            out.append(f"<Marker>{e(start)}</Marker>")
            if truncated:
                out.append(f"<NextMarker>{e(found[-1][0])}</NextMarker>")
        for key, entry in found:
            if entry is None:
                out.append(f"<CommonPrefixes><Prefix>{e(key)}</Prefix></CommonPrefixes>")
            else:
                st = entry.stat()
                out.append(f"<Contents><Key>{e(key)}</Key><LastModified>{_iso(st.st_mtime)}</LastModified>"
                           f'<ETag>"{self.etag(entry.path, st)}"</ETag><Size>{st.st_size}</Size>'
                           "<StorageClass>STANDARD</StorageClass></Contents>")
        out.append("</ListBucketResult>")
        return xml("".join(out))

    def _walk(self, d: str, dkey: str, prefix: str, start: str, slash: bool):
        """(key, DirEntry) of the objects under ``d`` (whose keys start with ``dkey``), and with ``slash``
        (key/, None) for its subdirectories, in S3's order (UTF-8 bytes), all > ``start``."""
        try:
            with os.scandir(d) as it:
                items = sorted((dkey + e.name + "/" if e.is_dir(follow_symlinks=False) else dkey + e.name, e)
                               for e in it)
        except (FileNotFoundError, NotADirectoryError):
            return
        for key, entry in items:
            if not key.startswith(prefix):
                continue
            if key[-1] == "/":
                if start >= key and not start.startswith(key):
                    continue  # every key under it sorts before start
                if slash:
                    if key > start:
                        yield key, None
                else:
                    yield from self._walk(entry.path, key, prefix, start, slash)
            elif key > start:
                yield key, entry

    # --- multipart uploads --------------------------------------------------------------------
    def upload(self, upload_id: str, bucket: str, key: str) -> Upload:
        u = self.uploads.get(upload_id)
        if u is None or u.bucket != bucket or u.key != key:
            raise S3Error(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be "
                          "invalid, or the upload may have been aborted or completed.")
        return u

    def create_upload(self, bucket: str, bdir: str, key: str) -> Response:
        self.key_path(bdir, key)
        if not os.path.isdir(bdir):
            raise no_bucket()
        upload_id = uuid.uuid4().hex
        updir = os.path.join(self.partdir, upload_id)
        os.mkdir(updir)
        self.uploads[upload_id] = Upload(bucket, key, updir)
        return xml(f'<InitiateMultipartUploadResult xmlns="{NS}"><Bucket>{escape(bucket)}</Bucket>'
                   f"<Key>{escape(key)}</Key><UploadId>{upload_id}</UploadId></InitiateMultipartUploadResult>")

    def upload_part(self, bucket: str, key: str, q: dict, req: Request) -> Response:
        u = self.upload(q["uploadId"], bucket, key)
        n = int(q.get("partNumber", 0))
        if not 1 <= n <= 10_000:
            raise S3Error(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
        sink = req.sink or Sink(self.tmpname)
        if isinstance(sink, PartSink):
            return self._part_written(u, n, sink)
        tag = sink.md5.hexdigest()
        tmp, st = sink.finish()
        own = os.path.join(u.dir, str(n))
        os.replace(tmp, own)
        u.parts[n] = (tag, st.st_size, st.st_mtime, own)
        return Response(200, f'ETag: "{tag}"\r\n')

    async def _part_written(self, u: Upload, n: int, sink: PartSink) -> Response:
        await asyncio.get_running_loop().run_in_executor(None, sink.wait)  # its thread's last writes
        tag = sink.md5.hexdigest()
        u.parts[n] = (tag, sink.size, time.time(), "")
        return Response(200, f'ETag: "{tag}"\r\n')

    def list_parts(self, bucket: str, key: str, q: dict) -> Response:
        u = self.upload(q["uploadId"], bucket, key)
        marker = int(q.get("part-number-marker") or 0)
        limit = max(0, min(1000, int(q.get("max-parts", 1000))))
        numbers = [n for n in sorted(u.parts) if n > marker]
        shown, truncated = numbers[:limit], len(numbers) > limit
        out = [f'<ListPartsResult xmlns="{NS}"><Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key>'
               f"<UploadId>{q['uploadId']}</UploadId><PartNumberMarker>{marker}</PartNumberMarker>"
               f"<NextPartNumberMarker>{shown[-1] if shown else marker}</NextPartNumberMarker>"
               f"<MaxParts>{limit}</MaxParts><IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
               "<StorageClass>STANDARD</StorageClass>"]
        for n in shown:
            tag, size, mtime, _ = u.parts[n]
            out.append(f"<Part><PartNumber>{n}</PartNumber><LastModified>{_iso(mtime)}</LastModified>"
                       f'<ETag>"{tag}"</ETag><Size>{size}</Size></Part>')
        return xml("".join(out) + "</ListPartsResult>")

    def list_uploads(self, bucket: str, q: dict) -> Response:
        prefix = q.get("prefix", "")
        found = sorted((u.key, u.initiated, i) for i, u in self.uploads.items()
                       if u.bucket == bucket and u.key.startswith(prefix))
        out = [f'<ListMultipartUploadsResult xmlns="{NS}"><Bucket>{escape(bucket)}</Bucket><KeyMarker/>'
               f"<UploadIdMarker/><Prefix>{escape(prefix)}</Prefix><MaxUploads>1000</MaxUploads>"
               "<IsTruncated>false</IsTruncated>"]
        for key, initiated, upload_id in found:
            out.append(f"<Upload><Key>{escape(key)}</Key><UploadId>{upload_id}</UploadId>"
                       f"<Initiated>{_iso(initiated)}</Initiated><StorageClass>STANDARD</StorageClass></Upload>")
        return xml("".join(out) + "</ListMultipartUploadsResult>")

    def abort(self, bucket: str, key: str, upload_id: str) -> Response:
        self.upload(upload_id, bucket, key).close()
        del self.uploads[upload_id]
        shutil.rmtree(os.path.join(self.partdir, upload_id), ignore_errors=True)
        return Response(204)

    def complete(self, bucket: str, bdir: str, key: str, upload_id: str, req: Request):
        u = self.upload(upload_id, bucket, key)
        try:
            root = ElementTree.fromstring(req.sink.data() if req.sink else b"")
            fields = [{_tag(e): e.text or "" for e in p} for p in root if _tag(p) == "Part"]
            wanted = [(int(f["PartNumber"]), f["ETag"].strip().strip('"')) for f in fields]
        except (ElementTree.ParseError, KeyError, ValueError):
            raise S3Error(400, "MalformedXML", "The XML you provided was not well-formed")
        if not wanted:
            raise S3Error(400, "MalformedXML", "You must specify at least one part")
        if [n for n, _ in wanted] != sorted({n for n, _ in wanted}):
            raise S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order.")
        for n, tag in wanted:
            if n not in u.parts or u.parts[n][0] != tag:
                raise S3Error(400, "InvalidPart", "One or more of the specified parts could not be found.")
        path = self.key_path(bdir, key)
        del self.uploads[upload_id]  # a second CompleteMultipartUpload gets NoSuchUpload, as on S3
        return self._assemble(bucket, bdir, key, path, u, wanted)

    async def _assemble(self, bucket, bdir, key, path, u, wanted) -> Response:
        updir = u.dir
        try:
            tmp = await asyncio.get_running_loop().run_in_executor(None, _assemble, u, [n for n, _ in wanted],
                                                                   self.tmpname())
        finally:
            u.close()
        st = os.stat(tmp)
        self.place(tmp, path, bdir)
        digests = b"".join(bytes.fromhex(tag) for _, tag in wanted)
        tag = f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(wanted)}"
        self.etags[path] = (st.st_size, st.st_mtime_ns, tag)
        shutil.rmtree(updir, ignore_errors=True)
        return xml(f'<CompleteMultipartUploadResult xmlns="{NS}"><Location>/{escape(bucket)}/{escape(key)}'
                   f"</Location><Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key>"
                   f'<ETag>"{tag}"</ETag></CompleteMultipartUploadResult>')


# --- connections ------------------------------------------------------------------------------


class Conn(asyncio.Protocol):
    """One HTTP/1.1 connection: requests are read, answered in order, and the connection kept."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.t: asyncio.Transport | None = None
        self.buf = bytearray()
        self.req: Request | None = None
        self.busy = False  # an answer is being sent by a task (sendfile, multipart assembly)
        self.drain: asyncio.Future | None = None

    def connection_made(self, transport) -> None:
        self.t = transport

    def connection_lost(self, exc) -> None:
        self.t = None
        if self.req is not None and self.req.sink is not None:
            self.req.sink.discard()
        self.resume_writing()

    def pause_writing(self) -> None:
        self.drain = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.drain is not None and not self.drain.done():
            self.drain.set_result(None)
        self.drain = None

    def data_received(self, data: bytes) -> None:
        body = self.req.body if self.req is not None else None
        if type(body) is Length and not self.buf:  # the bulk of a large PUT: no copy into the buffer
            n = min(body.left, len(data))
            body.out(data if n == len(data) else data[:n])
            body.left -= n
            data = data[n:]
            if body.left and not data:
                return
        self.buf += data
        if not self.busy:
            self.process()
        sink = self.req.sink if self.req is not None else None
        if type(sink) is PartSink and self.t is not None and sink.backlogged(self._resume_reading):
            self.t.pause_reading()

    def _resume_reading(self) -> None:
        if self.t is not None and not self.t.is_closing():
            self.t.resume_reading()

    def process(self) -> None:
        try:
            self._process()
        except (ValueError, UnicodeError):  # not HTTP, or a broken body coding: answer 400, hang up
            if self.t is not None:
                self.t.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                self.t.close()

    def _process(self) -> None:
        buf = self.buf
        while self.t is not None and not self.busy:
            req = self.req
            if req is None:
                i = buf.find(b"\r\n\r\n")
                if i < 0:
                    if len(buf) > 65536:
                        raise ValueError("request head too long")
                    return
                req = self.req = Request(buf[:i].decode("latin-1"), self.store.sink_for)
                del buf[: i + 4]
                if req.expect and req.body is not None and not buf:
                    self.t.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            if req.body is not None and not req.body.feed(buf):
                return
            self.req = None
            self.dispatch(req)

    def dispatch(self, req: Request) -> None:
        try:
            res = self.store.handle(req)
        except S3Error as exc:
            res = exc.response(req.target.split("?", 1)[0])
        except Exception:
            traceback.print_exc()
            res = S3Error(500, "InternalError", "s3lite failed; see its log").response(req.target)
        finally:
            if req.sink is not None:
                req.sink.discard()
        if type(res) is not Response:  # a coroutine
            self.busy = True
            asyncio.ensure_future(self.finish(req, res))
        else:
            self.send(req, res)

    async def finish(self, req: Request, coro) -> None:
        try:
            res = await coro
        except S3Error as exc:
            res = exc.response(req.target.split("?", 1)[0])
        except Exception:
            traceback.print_exc()
            res = S3Error(500, "InternalError", "s3lite failed; see its log").response(req.target)
        self.busy = False
        self.send(req, res)
        if not self.busy and self.t is not None:
            self.process()

    def send(self, req: Request, res: Response) -> None:
        body = res.body
        if self.t is None:
            if isinstance(body, FileBody):
                os.close(body.fd)
            return
        length = res.length if res.length is not None else (
            body.count if isinstance(body, FileBody) else len(body))
        head = (f"HTTP/1.1 {res.status} {REASONS[res.status]}\r\n{res.headers}Content-Length: {length}\r\n"
                f"{CLOSE if req.close else ''}\r\n").encode("latin-1")
        if req.method == "HEAD":
            self.t.write(head)
            if isinstance(body, FileBody):
                os.close(body.fd)
        elif isinstance(body, FileBody):
            self.t.write(head)
            self.busy = True
            asyncio.ensure_future(self.send_file(req, body))
            return
        else:
            self.t.write(head + body)
        if req.close:
            self.t.close()

    async def send_file(self, req: Request, body: FileBody) -> None:
        try:
            with open(body.fd, "rb") as f:
                try:
                    await asyncio.get_running_loop().sendfile(self.t, f, body.offset, body.count)
                except NotImplementedError:  # uvloop: read and write
                    left, offset = body.count, body.offset
                    while left and self.t is not None:
                        data = os.pread(body.fd, min(left, 1 << 20), offset)
                        if not data:
                            raise OSError("file shrank")
                        self.t.write(data)
                        left -= len(data)
                        offset += len(data)
                        if self.drain is not None:
                            await self.drain
        except Exception:  # the client went away, or the file did: drop the connection
            if self.t is not None:
                self.t.abort()
            return
        self.busy = False
        if req.close and self.t is not None:
            self.t.close()
        elif self.t is not None:
            self.process()


# --- helpers ----------------------------------------------------------------------------------


def _range(value: str, size: int) -> tuple[int, int]:
    """Offset and length of ``bytes=a-b``, ``bytes=a-`` or ``bytes=-n`` in an object of ``size`` bytes."""
    try:
        unit, _, spec = value.partition("=")
        a, _, b = spec.strip().partition("-")
        if unit.strip() != "bytes" or "," in spec:
            raise ValueError
        if a:
            start, end = int(a), min(int(b) if b else size - 1, size - 1)
        else:
            start, end = max(0, size - int(b)), size - 1
    except ValueError:
        start, end = 0, -1
    if start >= size or end < start:
        raise S3Error(416, "InvalidRange", "The requested range is not satisfiable",
                      f"Content-Range: bytes */{size}\r\n")
    return start, end - start + 1


def _assemble(u: Upload, numbers: list[int], tmp: str) -> str:
    """The file holding parts ``numbers`` of ``u`` end to end: the upload's data file when every part
    is at its place there (parts stored apart are copied in), else ``tmp``, made by copying."""
    parts = [u.parts[n] for n in numbers]
    offsets = list(itertools.accumulate((p[1] for p in parts), initial=0))
    if u.stride is not None and all(offsets[i] == (n - 1) * u.stride for i, n in enumerate(numbers)):
        for (_, size, _, own), offset in zip(parts, offsets, strict=False):
            if own:
                with open(own, "rb") as f:
                    _copy(f.fileno(), 0, u.fd, offset, size)
        os.ftruncate(u.fd, offsets[-1])
        return u.data
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        for n, (_, size, _, own), offset in zip(numbers, parts, offsets, strict=False):
            if own:
                with open(own, "rb") as f:
                    _copy(f.fileno(), 0, fd, offset, size)
            else:
                _copy(u.fd, (n - 1) * u.stride, fd, offset, size)
    finally:
        os.close(fd)
    return tmp


def _copy(src: int, src_offset: int, dst: int, dst_offset: int, size: int) -> None:
    while size > 0:
        try:
            n = os.copy_file_range(src, dst, size, src_offset, dst_offset)
        except OSError:  # a file system without copy_file_range
            data = os.pread(src, min(size, 1 << 20), src_offset)
            _copy_in(dst, data, dst_offset)
            n = len(data)
        if n == 0:
            raise OSError("a part shrank while the upload was completed")
        size, src_offset, dst_offset = size - n, src_offset + n, dst_offset + n


def _copy_in(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _tag(e: ElementTree.Element) -> str:
    return e.tag.rsplit("}", 1)[-1]


@functools.lru_cache(maxsize=1024)
def _http_date(t: int) -> str:
    return email.utils.formatdate(t, usegmt=True)


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


async def serve(root: str, host: str, port: int) -> None:
    store = Store(root)
    server = await asyncio.get_running_loop().create_server(lambda: Conn(store), host, port, backlog=1024)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", required=True, help="directory holding the buckets")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    args = p.parse_args(argv)
    try:
        import uvloop

        run = uvloop.run
    except (ImportError, AttributeError):
        run = asyncio.run
    try:
        run(serve(args.root, args.host, args.port))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
