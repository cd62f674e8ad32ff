"""The state compared after every step, and the comparison.

A snapshot of one side (a sequence's root holding ``repo``, ``remote`` and clones) maps a key to a value:

* ``ws:<path>``     every workspace entry except ``.git`` and ``.dvc/tmp``/``.dvc/cache`` (type, mode, link
                    count, content digest or link target): data, ``.dvc`` files, ``dvc.yaml``, ``dvc.lock``,
                    ``params.yaml``, ``.gitignore`` files, ``.dvc/config``, ``.dvc/.gitignore``, empty dirs;
* ``cache:<path>``  every file under ``.dvc/cache`` (objects and run cache), with its mode and whether its
                    content matches its name (``ok``/``CORRUPT``; run-cache entries compare by content);
* ``remote:<path>`` every file of the remote directory;
* ``<clone>/ws:...``, ``<clone>/cache:...`` the same for a clone an op made.

Normalisations (only what must differ between two repositories in two directories):

1. symlink targets (cache.type symlink) are absolute: the side's root is replaced by ``<ROOT>``;
2. timestamps: none are compared. Git commit dates are fixed by the environment (tools.GIT_ENV), so equal
   trees give equal commits; ``.dvc/tmp`` (state/index databases, locks, updater stamps) is skipped;
3. stdout/stderr text is not compared (wording is not compatibility); exit statuses are, as zero/non-zero;
   JSON outputs are, after parsing (key order is not meaningful).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

SKIP_TOP = {".git"}
SKIP_DVC = {"tmp", "cache"}


def _digest(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _entry(p: Path, root: Path) -> str:
    st = p.lstat()
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        return f"link -> {os.readlink(p).replace(str(root), '<ROOT>')}"
    if stat.S_ISDIR(st.st_mode):
        return f"dir {mode:o}"
    data = p.read_bytes()
    return f"file {mode:o} n{st.st_nlink} {len(data)}B md5={_digest(data)}"


def _walk(top: Path):
    for dirpath, dirnames, filenames in os.walk(top):
        d = Path(dirpath)
        for n in sorted(dirnames):
            yield d / n
        for n in sorted(filenames):
            yield d / n


def workspace(repo: Path, root: Path, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if not repo.is_dir():
        return out
    for p in _walk(repo):
        rel = p.relative_to(repo).as_posix()
        parts = rel.split("/")
        if parts[0] in SKIP_TOP or (parts[0] == ".dvc" and len(parts) > 1 and parts[1] in SKIP_DVC):
            continue
        out[f"{prefix}ws:{rel}"] = _entry(p, root)
    cache = repo / ".dvc" / "cache"
    if cache.is_dir():
        for p in _walk(cache):
            if p.is_dir() and not p.is_symlink():
                continue
            rel = p.relative_to(cache).as_posix()
            st = p.lstat()
            data = p.read_bytes()
            verdict = "run-cache"
            if rel.startswith("files/md5/"):
                name = rel[len("files/md5/"):].replace("/", "")
                name = name[:-4] if name.endswith(".dir") else name
                verdict = "ok" if _digest(data) == name else "CORRUPT"
            out[f"{prefix}cache:{rel}"] = (f"{stat.S_IMODE(st.st_mode):o} {verdict} "
                                           f"md5={_digest(data)}")
    return out


def side(root: Path, clones: list[str]) -> dict[str, str]:
    snap = workspace(root / "repo", root)
    remote = root / "remote"
    if remote.is_dir():
        for p in _walk(remote):
            if p.is_file():
                snap[f"remote:{p.relative_to(remote).as_posix()}"] = f"md5={_digest(p.read_bytes())}"
    for c in clones:
        snap.update(workspace(root / c, root, prefix=f"{c}/"))
    return snap


def fingerprint(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry under one side's root (repositories, remote, clones, including ``.git``) with its mode,
    size and mtime: two fingerprints differ when a step changed any byte, mode or mtime. Not compared between
    the tools (timestamps differ); it only tells whether a step did something (torture's ``effective_steps``).
    Skipped: ``.dvc/tmp`` (state db, locks: any dvc command touches them) and git's index (``git add -A``
    refreshes its stat cache even when nothing changed)."""
    out: dict[str, tuple[int, int, int]] = {}
    for p in _walk(root):
        rel = p.relative_to(root).as_posix()
        if "/.dvc/tmp" in f"/{rel}" or rel.endswith(".git/index"):
            continue
        try:
            st = p.lstat()
        except FileNotFoundError:
            continue
        out[rel] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


def diff(a: dict[str, str], b: dict[str, str]) -> list[tuple[str, str | None, str | None]]:
    """(key, dvc side, tide side) for every key whose values differ (None: absent on that side)."""
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def parse_json(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return {"<not json>": text.strip()[:200]}
