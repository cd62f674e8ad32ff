"""The S3 API calls of a multipart upload (``s3_multipart.py``) as plain signed HTTP requests.

``PlainCalls(http)(method, **params)`` answers as s3fs's ``call_s3`` does for the calls the
uploader makes (boto3's parameter and result names; NoSuchUpload and NoSuchKey raise
``FileNotFoundError``), so an upload of a large file needs neither s3fs nor botocore: importing
them and building their client cost about a second of CPU, and botocore adds about a millisecond
per request. Each part's payload is signed (its SHA-256 is in the signature, so S3 rejects a part
whose bytes changed on the way), as botocore does over plain HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from tide.storage.base import StorageNotFound
from tide.storage.s3_http import S3Http, error_for, xml_answer, xml_name, xml_text


class PlainCalls:
    takes_buffers = True  # a part's body is sent before upload_part returns: its buffer can be reused

    def __init__(self, http: S3Http) -> None:
        self.http = http
        self._calls: dict[str, Callable[..., Any]] = {
            "create_multipart_upload": self._create,
            "upload_part": self._upload_part,
            "complete_multipart_upload": self._complete,
            "abort_multipart_upload": self._abort,
            "list_multipart_uploads": self._list_uploads,
            "list_parts": self._list_parts,
            "head_object": self._head,
        }

    def __call__(self, method: str, **params: Any) -> Any:
        return self._calls[method](**params)

    # -- the calls (``Bucket`` is the client's bucket: one client serves one bucket) --------------
    def _create(self, Bucket: str, Key: str) -> dict:  # boto3's names
        what = f"start the upload of {Key}"
        root = xml_answer(self._send("POST", Key, {"uploads": ""}, what=what), what)
        return {"UploadId": xml_text(root, "UploadId")}

    def _upload_part(self, Bucket: str, Key: str, UploadId: str, PartNumber: int, Body: Any) -> dict:
        resp = self._request("PUT", Key, {"partNumber": str(PartNumber), "uploadId": UploadId}, Body,
                             {"Content-Type": "application/octet-stream"}, what=f"upload part {PartNumber} of {Key}")
        resp.read()
        return {"ETag": resp.getheader("ETag", "")}

    def _complete(self, Bucket: str, Key: str, UploadId: str, MultipartUpload: dict) -> dict:
        parts = "".join(f"<Part><PartNumber>{int(p['PartNumber'])}</PartNumber>"
                        f"<ETag>{escape(str(p['ETag']))}</ETag></Part>" for p in MultipartUpload["Parts"])
        body = f'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{parts}</CompleteMultipartUpload>'
        what = f"complete the upload of {Key}"
        root = xml_answer(self._send("POST", Key, {"uploadId": UploadId}, body.encode(), what=what), what)
        if xml_name(root.tag) == "Error":  # S3 may answer 200 and report the failure in the body
            raise error_for(200, xml_text(root, "Code"), xml_text(root, "Message"), what)
        return {"ETag": xml_text(root, "ETag")}

    def _abort(self, Bucket: str, Key: str, UploadId: str) -> dict:
        self._send("DELETE", Key, {"uploadId": UploadId}, what=f"abort the upload of {Key}")
        return {}

    def _list_uploads(self, Bucket: str, Prefix: str) -> dict:
        from datetime import datetime

        what = f"list the uploads of {Prefix}"
        root = xml_answer(self._send("GET", "", {"uploads": "", "prefix": Prefix}, what=what), what)
        uploads = []
        for el in root:
            if xml_name(el.tag) == "Upload":
                when = xml_text(el, "Initiated")
                try:
                    initiated: Any = datetime.fromisoformat(when.replace("Z", "+00:00"))
                except ValueError:
                    initiated = None
                uploads.append({"Key": xml_text(el, "Key"), "UploadId": xml_text(el, "UploadId"),
                                "Initiated": initiated})
        return {"Uploads": uploads}

    def _list_parts(self, Bucket: str, Key: str, UploadId: str, PartNumberMarker: int = 0,
                    MaxParts: int | None = None) -> dict:
        query = {"uploadId": UploadId, **({"part-number-marker": str(PartNumberMarker)} if PartNumberMarker else {}),
                 **({"max-parts": str(MaxParts)} if MaxParts else {})}
        what = f"list the parts of {Key}"
        root = xml_answer(self._send("GET", Key, query, what=what), what)
        parts = [{"PartNumber": int(xml_text(el, "PartNumber") or 0), "ETag": xml_text(el, "ETag"),
                  "Size": int(xml_text(el, "Size") or -1)} for el in root if xml_name(el.tag) == "Part"]
        return {"Parts": parts, "IsTruncated": xml_text(root, "IsTruncated") == "true",
                "NextPartNumberMarker": int(xml_text(root, "NextPartNumberMarker") or 0)}

    def _head(self, Bucket: str, Key: str) -> dict:
        resp = self._request("HEAD", Key, what=f"check {Key}")
        resp.read()
        return {"ContentLength": int(resp.getheader("Content-Length") or -1), "ETag": resp.getheader("ETag", "")}

    # -- plumbing ---------------------------------------------------------------------------------
    def _request(self, method: str, key: str, query: dict[str, str] | None = None, body: Any = b"",
                 headers: dict[str, str] | None = None, what: str = "") -> Any:
        """One request whose answer is a success; NoSuchUpload and NoSuchKey raise FileNotFoundError."""
        resp = self.http._request(method, key, body, headers, what=what, query=query)
        try:
            self.http._check(resp, what)
        except StorageNotFound as exc:
            raise FileNotFoundError(str(exc)) from exc
        except Exception as exc:
            if "NoSuchUpload" in str(exc):
                raise FileNotFoundError(str(exc)) from exc
            raise
        return resp

    def _send(self, method: str, key: str, query: dict[str, str], body: bytes = b"", what: str = "") -> bytes:
        return self._request(method, key, query, body, what=what).read()
