"""The git side of a source repository, told without opening it: the commit a revision names
(``resolve_rev``: no clone), and what its ``.dvcignore`` files hide (``unignored``)."""

from __future__ import annotations

import os

from tide.core.config import Env
from tide.core.errors import TideError


def local_path(url: str) -> str | None:
    if url.startswith("file://"):
        return url[len("file://"):]
    if "://" in url or (":" in url.split("/")[0] and not os.path.exists(url)):
        return None  # https://, ssh://, git@host:path
    return url


def resolve_rev(url: str, rev: str | None, env: Env | None = None) -> str | None:
    """The commit ``rev`` (None: the default branch; a local path: its HEAD) names in source ``url``,
    found without cloning: ``git rev-parse`` in a local repository, one ``git ls-remote`` for a URL
    (a branch before a tag, as ``git clone -b``; an annotated tag peeled). None when it cannot be
    told this way (a short commit id, an unreachable server): the caller opens the source instead.
    A full commit id is its own answer (it never moves)."""
    import re

    from tide.core.git import Git

    if rev is not None and re.fullmatch(r"[0-9a-f]{40}", rev):
        return rev
    local = local_path(url)
    if local is not None and not url.startswith("file://"):
        if not os.path.isdir(local):
            return None
        proc = Git(local).run("rev-parse", "--verify", "--quiet", f"{rev or 'HEAD'}^{{commit}}", check=False)
        return (proc.stdout.decode().strip() or None) if proc.returncode == 0 else None
    base = Git(os.getcwd(), env={"GIT_TERMINAL_PROMPT": "0"})
    pats = ["HEAD"] if rev is None else [rev, rev + "^{}"]
    try:
        proc = base.run("ls-remote", "--", url, *pats, check=False)
    except TideError:
        return None
    if proc.returncode != 0:
        return None
    refs: dict[str, str] = {}
    for line in proc.stdout.decode(errors="replace").splitlines():
        sha, _, name = line.partition("\t")
        refs[name] = sha
    if rev is None:
        return refs.get("HEAD")
    names = [f"refs/heads/{rev}", f"refs/tags/{rev}"] + ([rev] if rev.startswith("refs/") else [])
    for name in names:
        for ref in (name + "^{}", name):  # an annotated tag: the commit it points to
            if ref in refs:
                return refs[ref]
    return None


def unignored(read_many, raw: dict) -> dict:
    """``raw`` (path -> Node of a source's git side) without what the source's ``.dvcignore`` files
    ignore; ``read_many(paths)`` gives those files' bytes."""
    from tide.workspace.ignore import NAME

    names = [p for p, n in raw.items() if not n.isdir and (p == NAME or p.endswith("/" + NAME))]
    if not names:
        return raw
    texts = read_many(names)
    specs = {}
    for name, data in texts.items():
        lines = [ln for ln in data.decode("utf-8", errors="replace").splitlines()
                 if ln.strip() and not ln.lstrip().startswith("#")]
        if lines:
            import pathspec

            specs[name[: -len(NAME)].rstrip("/")] = pathspec.GitIgnoreSpec.from_lines(lines)
    if not specs:
        return raw
    ignore = _source_ignore(specs)
    out: dict = {}
    dropped: set[str] = set()
    for p in sorted(raw):  # parents before children: what is under an ignored directory goes too
        parent = p.rpartition("/")[0]
        if (parent and parent in dropped) or ignore.is_ignored(p, raw[p].isdir):
            dropped.add(p)
            continue
        out[p] = raw[p]
    return out


def _source_ignore(specs: dict):
    """The workspace's ``.dvcignore`` rules (``Ignore.is_ignored``) over specs read from a revision."""
    from tide.workspace.ignore import Ignore

    class SourceIgnore(Ignore):
        def spec_for(self, reldir: str):
            return specs.get(reldir)

    return SourceIgnore("/__tide_source__")
