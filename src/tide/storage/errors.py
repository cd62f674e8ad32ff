"""Translating SDK exceptions (botocore, aiohttp, asyncssh, httpx, OSError) into storage errors.

Classification is by exception class names along the MRO, so no SDK is imported here.
"""

from __future__ import annotations

import errno

from tide.storage.base import StorageNotFound, StoragePermanent, StorageTransient

_TRANSIENT_NAMES = frozenset({
    "ConnectionError", "TimeoutError", "EndpointConnectionError", "ConnectionClosedError", "ReadTimeoutError",
    "ConnectTimeoutError", "IncompleteReadError", "ResponseStreamingError", "ClientConnectionError",
    "ServerDisconnectedError", "ClientPayloadError", "ClientOSError", "DisconnectError", "ConnectionLost",
    "TransportError", "RemoteProtocolError", "ProtocolError", "IncompleteRead", "ChannelOpenError",
    "ServerTimeoutError", "ContentLengthError", "TransferEncodingError", "BrokenPipeError", "ProxyConnectionError",
    "ChannelWriteError", "ServerSelectionError", "ChecksumMismatch", "FlexibleChecksumError",
    "StorageTransient",  # tide's own (raised by the plain S3 requests)
})
_TRANSIENT_ERRNOS = {errno.ECONNRESET, errno.EPIPE, errno.ETIMEDOUT, errno.ECONNABORTED, errno.ECONNREFUSED,
                     errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EAGAIN}
_TRANSIENT_WORDS = ("SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "Throttl",
                    "503", "502", "500 ", "504", "Connection reset", "connection reset", "Connection lost",
                    "Server disconnected", "Response payload is not completed", "IncompleteRead",
                    "Broken pipe", "Connection closed", "EOF occurred", "timed out", "Timeout",
                    "Internal Server Error", "Service Unavailable", "Bad Gateway", "Gateway Timeout")


def is_transient(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if any(cls.__name__ in _TRANSIENT_NAMES for cls in type(cur).__mro__):
            return True
        if isinstance(cur, OSError) and cur.errno in _TRANSIENT_ERRNOS:
            return True
        text = str(cur)
        if any(w in text for w in _TRANSIENT_WORDS):
            return True
        cur = cur.__cause__ or cur.__context__
    return False


def translate(exc: BaseException, what: str) -> Exception:
    """A storage error for ``exc`` raised while doing ``what`` (e.g. "upload files/md5/ab/cd")."""
    if isinstance(exc, (StorageNotFound, StorageTransient, StoragePermanent)):
        return exc  # type: ignore[return-value]
    detail = _short(exc)
    if isinstance(exc, FileNotFoundError) or type(exc).__name__ in ("NoSuchKey", "ResourceNotFoundError"):
        return StorageNotFound(f"{what}: not found")
    if is_transient(exc):
        return StorageTransient(f"{what}: {detail}")
    if isinstance(exc, PermissionError):
        return StoragePermanent(f"{what}: permission denied ({detail})")
    return StoragePermanent(f"{what}: {detail}")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    if len(text) > 300:
        text = text[:300] + "..."
    return f"{name}: {text}" if text else name
