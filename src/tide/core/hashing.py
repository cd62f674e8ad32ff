"""Content hashing exactly as DVC 3 does it.

* ``md5``: plain MD5 of the raw bytes (DVC 3 default, ``hash: md5`` in pointer files).
* ``md5-dos2unix``: legacy DVC 1.x/2.x hash; every 1 MiB chunk whose first 512 bytes look like
  text has CRLF replaced by LF before hashing (a pair split across chunks is left alone).
"""

from __future__ import annotations

import hashlib
import os

CHUNK = 1 << 20
SMALL = 1 << 16
EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"

_TEXT_CHARS = bytes(range(32, 127)) + b"\n\r\t\f\b"


def md5_bytes(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def file_md5(path: str | os.PathLike[str], size_hint: int = -1) -> str:
    """MD5 of a file's bytes, streamed in 1 MiB chunks (bounded memory)."""
    with open(path, "rb", buffering=0) as f:
        if 0 <= size_hint <= SMALL:
            return hashlib.md5(f.read(), usedforsecurity=False).hexdigest()
        h = hashlib.md5(usedforsecurity=False)
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while n := f.readinto(buf):
            h.update(view[:n])
        return h.hexdigest()


def is_text_block(block: bytes) -> bool:
    if not block:
        return True
    if b"\x00" in block:
        return False
    nontext = block.translate(None, _TEXT_CHARS)
    return len(nontext) / len(block) <= 0.30


def file_md5_dos2unix(path: str | os.PathLike[str]) -> str:
    """The legacy ``md5-dos2unix`` hash of DVC 1.x/2.x."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            if is_text_block(chunk[:512]):
                chunk = chunk.replace(b"\r\n", b"\n")
            h.update(chunk)
    return h.hexdigest()


def is_md5(value: object) -> bool:
    if not isinstance(value, str):
        return False
    v = value[:-4] if value.endswith(".dir") else value
    return len(v) == 32 and all(c in "0123456789abcdef" for c in v)


def md5_stream_matches(stream, want: str, dos2unix_too: bool = False) -> bool:
    """Whether the bytes of ``stream`` hash to ``want`` (md5; with ``dos2unix_too``, the legacy hash
    is accepted as well: a DVC 2.x object). Reads 1 MiB blocks, as ``file_md5_dos2unix`` does."""
    h = hashlib.md5(usedforsecurity=False)
    legacy = hashlib.md5(usedforsecurity=False) if dos2unix_too else None
    pending = b""
    while True:
        part = stream.read(CHUNK)
        pending += part
        while len(pending) >= CHUNK or (not part and pending):
            block, pending = pending[:CHUNK], pending[CHUNK:]
            h.update(block)
            if legacy is not None:
                legacy.update(block.replace(b"\r\n", b"\n") if is_text_block(block[:512]) else block)
        if not part:
            break
    return h.hexdigest() == want or (legacy is not None and legacy.hexdigest() == want)
