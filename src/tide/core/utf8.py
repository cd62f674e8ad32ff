"""Text from user files and git blobs: UTF-8, or one error naming where it came from (every reader gives
the same line, ``WHERE: not valid UTF-8 text``)."""

from __future__ import annotations

import os

from tide.core.errors import FileFormatError, TideError


def decode(raw: bytes, where: str, error: type[TideError] = FileFormatError) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise error(f"{where}: not valid UTF-8 text") from None


def read(path: str | os.PathLike[str], where: str | None = None) -> str:
    """A file's text (universal newlines, as ``open`` reads it); OSErrors pass to the caller."""
    with open(path, encoding="utf-8") as f:
        try:
            return f.read()
        except UnicodeDecodeError:
            raise FileFormatError(f"{where or os.fspath(path)}: not valid UTF-8 text") from None
