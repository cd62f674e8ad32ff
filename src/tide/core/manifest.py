"""Directory manifests (``.dir`` objects), byte-identical to DVC's.

The manifest of a directory is ``json.dumps(sorted entries, sort_keys=True)`` where each entry is
``{"md5": <file md5>, "relpath": <posix path>}``, sorted by the full relpath string. Its object id
is ``md5(manifest bytes) + ".dir"``.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable

from tide.core.errors import FileFormatError
from tide.core.hashing import md5_bytes

Entry = namedtuple("Entry", "relpath md5")  # not a dataclass: import time matters here


def serialize(entries: Iterable[Entry]) -> bytes:
    """``json.dumps([{"md5": ..., "relpath": ...}, ...], sort_keys=True)`` of the entries sorted by
    relpath, byte for byte, written directly with json's own string encoder (the same C function
    ``json.dumps`` uses): about five times faster than building and dumping the dicts."""
    from json.encoder import encode_basestring_ascii as enc

    items = sorted(entries, key=lambda e: e.relpath)
    body = ", ".join([f'{{"md5": {enc(e.md5)}, "relpath": {enc(e.relpath)}}}' for e in items])
    return f"[{body}]".encode("ascii")


def serialize_groups(groups) -> bytes:
    """``serialize`` of the files of a directory given one group per directory: ``(prefix, names,
    md5_of)`` with ``prefix`` the directory's relpath and a slash ("" for the top), ``names`` its
    files and ``md5_of(i)`` the md5 of ``names[i]``; byte for byte the same, without a list or a
    sort of every entry (a million files: issue 26). Sorting each directory's files by name and its
    subdirectories by name + "/" and writing each subtree in one piece gives the order of the full
    relpaths: everything under ``prefix + d + "/"`` shares that prefix, so it sorts as one block."""
    import io
    from json.encoder import encode_basestring_ascii as enc

    files: dict[str, int] = {}
    subdirs: dict[str, set[str]] = {"": set()}
    for i, (prefix, _, _) in enumerate(groups):
        files[prefix] = i
        while prefix:
            parent, _, name = prefix[:-1].rpartition("/")
            parent = parent + "/" if parent else ""
            known = parent in subdirs
            subdirs.setdefault(parent, set()).add(name)
            subdirs.setdefault(prefix, set())
            if known:
                break
            prefix = parent
    def node(prefix: str) -> list:
        g = files.get(prefix)
        names, md5_of = (groups[g][1], groups[g][2]) if g is not None else ((), None)
        order = sorted([(n, i) for i, n in enumerate(names)] + [(d + "/", -1) for d in subdirs.get(prefix, ())])
        return [prefix, md5_of, order, 0]

    buf = io.BytesIO()
    buf.write(b"[")
    sep = ""
    stack = [node("")]
    while stack:
        top = stack[-1]
        prefix, md5_of, order, pos = top
        parts = []
        down = None
        while pos < len(order):
            key, i = order[pos]
            pos += 1
            if i < 0:  # a subdirectory: its whole subtree comes next, then this directory's next names
                down = prefix + key
                break
            parts.append(f'{{"md5": {enc(md5_of(i))}, "relpath": {enc(prefix + key)}}}')
        if parts:
            buf.write((sep + ", ".join(parts)).encode("ascii"))
            sep = ", "
        top[3] = pos
        if down is not None:
            stack.append(node(down))
        else:
            stack.pop()
    buf.write(b"]")
    return buf.getvalue()


def tree_oid(raw: bytes) -> str:
    return md5_bytes(raw) + ".dir"


def check_relpath(relpath: object, where: str = "manifest") -> str:
    """Refuse relpaths that could escape the directory they describe."""
    if not isinstance(relpath, str) or not relpath:
        raise FileFormatError(f"{where}: entry has no valid 'relpath'")
    if relpath[0] == "/" or relpath[-1] == "/" or "//" in relpath or "\\" in relpath or "\x00" in relpath:
        raise FileFormatError(f"{where}: unsafe path {relpath!r}")
    # an empty part needs "//" or a leading/trailing "/" (refused above); "." and ".." parts need
    # "./" or "/." somewhere, so the split is rare
    if ("./" in relpath or "/." in relpath or relpath in (".", "..")) and any(
        p in (".", "..") for p in relpath.split("/")
    ):
        raise FileFormatError(f"{where}: unsafe path {relpath!r}")
    return relpath


_PARSED: dict[bytes, tuple[Entry, ...]] = {}  # the last few manifests parsed in this process


def parse(raw: bytes, where: str = "manifest") -> list[Entry]:
    """Parse a ``.dir`` object; tolerant of extra keys per entry, strict about paths and hashes.
    The same bytes parsed again in this process (``pull``: fetch, then checkout's check, then
    checkout) come from a small memo, as a new list."""
    seen = _PARSED.get(raw)
    if seen is not None:
        return list(seen)
    entries = _parse(raw, where)
    if len(_PARSED) >= 4:
        _PARSED.pop(next(iter(_PARSED)))
    _PARSED[bytes(raw)] = tuple(entries)
    return entries


def _parse(raw: bytes, where: str) -> list[Entry]:
    try:
        import json

        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: [[[[...]]]] (fuzzing)
        raise FileFormatError(f"{where}: corrupted directory manifest ({exc.__class__.__name__})")
    if not isinstance(data, list):
        raise FileFormatError(f"{where}: corrupted directory manifest (not a list)")
    fast = _parse_fast(data)
    if fast is not None:
        return fast
    import re  # not at the top: start-up time of commands that never read a manifest

    out = []
    valid_md5 = re.compile(r"[0-9a-f]{32}").fullmatch
    for item in data:
        if not isinstance(item, dict):
            raise FileFormatError(f"{where}: corrupted directory manifest (entry is not a mapping)")
        md5 = item.get("md5")
        if not isinstance(md5, str) or valid_md5(md5) is None:
            raise FileFormatError(f"{where}: entry {item.get('relpath')!r} has no valid md5")
        out.append(Entry(check_relpath(item.get("relpath"), where), md5))
    return out


_HEX = "0123456789abcdef"


def _parse_fast(data: list) -> list[Entry] | None:
    """The entries of a well-formed manifest, checked in bulk (C-speed string tests over all
    hashes and over all paths: a 10,000-entry manifest in milliseconds); None when any entry
    needs a closer look, which the entry-by-entry check then gives, with its exact error."""
    try:
        md5s = [item["md5"] for item in data]
        rels = [item["relpath"] for item in data]
    except (TypeError, KeyError):
        return None
    if not data:
        return []
    if set(map(type, md5s)) != {str} or set(map(type, rels)) != {str}:
        return None
    if set(map(len, md5s)) != {32} or "".join(md5s).lstrip(_HEX):  # each 32 lowercase hex digits
        return None
    joined = "\0".join(rels)
    if joined.count("\0") != len(rels) - 1 or "\\" in joined:  # a NUL or a backslash in a path
        return None
    # with every path between slashes, an unsafe one (empty, a leading or trailing "/", "//", a "."
    # or ".." part: see check_relpath) shows as an empty, "." or ".." part between two slashes
    slashed = "/" + joined.replace("\0", "/") + "/"
    if "//" in slashed or "/./" in slashed or "/../" in slashed:
        return None
    return list(map(Entry, rels, md5s))
