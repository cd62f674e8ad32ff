"""Multipart uploads to S3 that resume after an interruption and survive a lost answer.

- **Resume.** Before starting, tide looks for an unfinished upload of the same key
  (ListMultipartUploads, one request) and the parts it holds (ListParts). A part whose size and
  ETag (the md5 of its bytes) match the local file's is kept; only the others are sent. So an
  upload cut by the network, by Ctrl-C or by a killed process is left on the server to be resumed;
  one that failed for good (permission denied, bucket missing) is aborted.
- **A lost answer.** CompleteMultipartUpload can succeed on the server while its answer never
  arrives (for instance a timeout while the server assembles a large object); the repeated request
  then gets NoSuchUpload. After a failed or refused complete, tide asks for the object (one HEAD):
  if its size and multipart ETag are this upload's, the upload is done; if the upload is gone and
  the object is not it, the upload starts over, once.

``call(method, **params)`` is one S3 API call (s3fs's ``call_s3``, which turns NoSuchUpload and
NoSuchKey into ``FileNotFoundError``). With ``takes_buffers``, ``call`` gets each part's body as a
view of a buffer its thread reuses (the plain-HTTP calls, which send it before returning).

Nothing here repeats a call that failed: a transient failure propagates, and the retry wrapper's
next ``put_file`` resumes the upload from the parts that arrived (see docs/storage.md, "Retries").
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Callable
from typing import Any

from tide.storage.base import StorageTransient
from tide.storage.errors import is_transient

Call = Callable[..., Any]
MAX_PARTS = 10_000


def upload(call: Call, bucket: str, key: str, path: str, size: int, part_size: int, jobs: int,
           takes_buffers: bool = False) -> None:
    """Upload the local file ``path`` (``size`` bytes) to ``bucket/key`` in parts. An upload that
    vanishes before it completes (aborted by someone else) starts over, once."""
    part = max(part_size, math.ceil(size / MAX_PARTS))
    count = math.ceil(size / part)
    for attempt in range(2):
        upload_id, kept = _resumable_upload(call, bucket, key, path, size, part, count) if attempt == 0 else (None, {})
        if upload_id is None:
            upload_id = call("create_multipart_upload", Bucket=bucket, Key=key)["UploadId"]
        try:
            etags = _send_parts(call, bucket, key, upload_id, path, size, part, count, kept, jobs, takes_buffers)
            parts = [{"PartNumber": n, "ETag": etags[n]} for n in range(1, count + 1)]
            if _complete(call, bucket, key, upload_id, parts, size):
                return
        except BaseException as exc:
            if not (isinstance(exc, KeyboardInterrupt) or is_transient(exc)):
                _abort(call, bucket, key, upload_id)  # it will not get better: do not leave parts behind
            raise
    raise StorageTransient(f"{key}: the multipart upload vanished before it completed, twice")


def _part_range(n: int, part: int, size: int) -> tuple[int, int]:
    offset = (n - 1) * part
    return offset, min(part, size - offset)


def _read(path: str, offset: int, length: int) -> bytes:
    return bytes(_read_into(bytearray(length), path, offset, length))


def _read_into(buf: bytearray, path: str, offset: int, length: int) -> memoryview:
    view = memoryview(buf)[:length]
    fd = os.open(path, os.O_RDONLY)
    try:
        got = 0
        while got < length:
            n = os.preadv(fd, [view[got:]], offset + got)
            if not n:
                raise OSError(f"{path} shrank while it was being uploaded")
            got += n
        return view
    finally:
        os.close(fd)


def _resumable_upload(call: Call, bucket: str, key: str, path: str, size: int, part: int,
                      count: int) -> tuple[str | None, dict[int, str]]:
    """The newest unfinished upload of ``key`` and its parts that match the local file (number -> ETag)."""
    try:
        listed = call("list_multipart_uploads", Bucket=bucket, Prefix=key)
    except Exception as exc:  # e.g. not allowed to list uploads: start afresh
        if is_transient(exc):
            raise
        return None, {}
    uploads = [u for u in listed.get("Uploads") or [] if u.get("Key") == key and u.get("UploadId")]
    if not uploads:
        return None, {}
    newest = max(uploads, key=lambda u: _timestamp(u.get("Initiated")))
    upload_id = newest["UploadId"]
    try:
        remote = _list_parts(call, bucket, key, upload_id)
    except FileNotFoundError:  # completed or aborted meanwhile
        return None, {}
    kept: dict[int, str] = {}
    for n, (psize, etag) in remote.items():
        if not 1 <= n <= count:
            continue
        offset, length = _part_range(n, part, size)
        if psize == length and etag.strip('"') == hashlib.md5(_read(path, offset, length),
                                                              usedforsecurity=False).hexdigest():
            kept[n] = etag
    return upload_id, kept


def _timestamp(value: Any) -> float:
    try:
        return float(value.timestamp())
    except (AttributeError, TypeError, ValueError, OSError):
        return 0.0


def _list_parts(call: Call, bucket: str, key: str, upload_id: str) -> dict[int, tuple[int, str]]:
    parts: dict[int, tuple[int, str]] = {}
    marker = 0
    while True:
        resp = call("list_parts", Bucket=bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker)
        for p in resp.get("Parts") or []:
            parts[int(p["PartNumber"])] = (int(p.get("Size", -1)), str(p.get("ETag", "")))
        nxt = int(resp.get("NextPartNumberMarker") or 0)
        if not resp.get("IsTruncated") or nxt <= marker:
            return parts
        marker = nxt


def _send_parts(call: Call, bucket: str, key: str, upload_id: str, path: str, size: int, part: int,
                count: int, kept: dict[int, str], jobs: int, takes_buffers: bool) -> dict[int, str]:
    etags = dict(kept)
    todo = [n for n in range(1, count + 1) if n not in kept]

    buffers = threading.local() if takes_buffers else None

    def one(n: int) -> tuple[int, str]:
        offset, length = _part_range(n, part, size)
        if buffers is None:
            body: Any = _read(path, offset, length)
        else:  # one buffer per thread, filled again for each part: no fresh 50 MiB of memory per part
            buf = buffers.__dict__.get("buf")
            if buf is None or len(buf) < length:
                buf = buffers.buf = bytearray(length)
            body = _read_into(buf, path, offset, length)
        resp = call("upload_part", Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=body)
        return n, resp["ETag"]

    if len(todo) <= 1 or jobs <= 1:
        for n in todo:
            etags.update([one(n)])
        return etags
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(min(jobs, len(todo)))
    try:
        for n, etag in pool.map(one, todo):
            etags[n] = etag
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return etags


def _complete(call: Call, bucket: str, key: str, upload_id: str, parts: list[dict], size: int) -> bool:
    """True once the object is in place; False if the upload vanished and the object is not it.
    A transient failure whose request may nonetheless have completed the upload is checked with one
    HEAD; if the object is not there yet the failure propagates (the retry wrapper's next attempt
    finds the upload and its parts and completes it again)."""
    try:
        call("complete_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id,
             MultipartUpload={"Parts": parts})
        return True
    except FileNotFoundError:  # NoSuchUpload: an earlier attempt may have completed it
        return _is_this_upload(call, bucket, key, size, parts)
    except Exception as exc:
        if not is_transient(exc):
            raise
        # the request may have completed the upload although its answer was lost
        if _is_this_upload(call, bucket, key, size, parts):
            return True
        if _upload_gone(call, bucket, key, upload_id):
            return False  # some servers (moto) answer 500, not NoSuchUpload, for a missing upload
        raise


def _upload_gone(call: Call, bucket: str, key: str, upload_id: str) -> bool:
    try:
        call("list_parts", Bucket=bucket, Key=key, UploadId=upload_id, MaxParts=1)
        return False
    except FileNotFoundError:
        return True


def multipart_etag(parts: list[dict]) -> str | None:
    """The ETag S3 gives the object made of ``parts``: md5 of the parts' md5s, dash, part count
    (None when the parts' ETags are not md5s, as with SSE-KMS)."""
    digests = []
    for p in parts:
        tag = str(p["ETag"]).strip('"')
        if len(tag) != 32:
            return None
        try:
            digests.append(bytes.fromhex(tag))
        except ValueError:
            return None
    return f"{hashlib.md5(b''.join(digests), usedforsecurity=False).hexdigest()}-{len(parts)}"


def _is_this_upload(call: Call, bucket: str, key: str, size: int, parts: list[dict]) -> bool:
    try:
        head = call("head_object", Bucket=bucket, Key=key)
    except FileNotFoundError:
        return False
    if int(head.get("ContentLength", -1)) != size:
        return False
    want = multipart_etag(parts)
    return want is None or str(head.get("ETag", "")).strip('"') == want


def _abort(call: Call, bucket: str, key: str, upload_id: str) -> None:
    try:
        call("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id)
    except Exception:  # best effort; the original error is the one to report
        pass
