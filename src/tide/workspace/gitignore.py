"""``.gitignore`` entries for tracked outputs, written as dvc writes them (``/name`` beside the output)."""

from __future__ import annotations

import os

from tide.core.errors import PathError
from tide.core.fsutil import atomic_write_text
from tide.core.git import Git

_SPECIAL = "\\[]!*#?"


def escape(name: str) -> str:
    out = "".join("\\" + c if c in _SPECIAL else c for c in name)
    if out.endswith(" "):
        out = out[:-1] + "\\ "
    return out


def entry_for(abspath: str) -> tuple[str, str]:
    """(path of the .gitignore file, line) for an output."""
    return os.path.join(os.path.dirname(abspath), ".gitignore"), "/" + escape(os.path.basename(abspath))


def refuse_tracked(root: str, abspaths: list[str], git: Git | None) -> None:
    """A cached output must not be tracked by git too (dvc: "output 'f' is already tracked by SCM")."""
    if git is None or not abspaths:
        return
    tracked = git.tracked(abspaths)
    if tracked:
        rel = os.path.relpath(next(p for p in abspaths if p in tracked), root).replace(os.sep, "/")
        raise PathError(
            f"output '{rel}' is already tracked by git; stop tracking it there first: git rm -r --cached '{rel}'"
        )


def refuse_ignored_files(root: str, abspaths: list[str], git: Git | None) -> None:
    """A ``.dvc`` file tide is about to write must not be one git ignores: it would never be committed
    (dvc: "bad DVC file name 'x.dvc' is git-ignored"). ``add`` and ``move`` check their new files."""
    if git is None or not abspaths:
        return
    rels = [os.path.relpath(p, root) for p in abspaths]
    ignored = git.ignored(rels)
    if ignored:
        rel = next(r for r in rels if r in ignored).replace(os.sep, "/")
        raise PathError(f"bad DVC file name '{rel}' is git-ignored")


def add(root: str, abspaths: list[str], git: Git | None, checked: bool = False) -> list[str]:
    """Ignore each output in the .gitignore beside it unless git ignores it already. An output git
    tracks is refused (``checked``: the caller called ``refuse_tracked`` already).

    Returns the .gitignore files changed (relative to root).
    """
    if git is None or not abspaths:
        return []
    if not checked:
        refuse_tracked(root, abspaths, git)
    rels = [os.path.relpath(p, root) for p in abspaths]
    already = git.ignored(rels)
    changed: list[str] = []
    for p, rel in zip(abspaths, rels, strict=True):
        if rel in already:
            continue
        gi, line = entry_for(p)
        try:
            with open(gi, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            text = ""
        if line in text.splitlines():
            continue
        if text and not text.endswith("\n"):
            text += "\n"
        atomic_write_text(gi, text + line + "\n")
        changed.append(os.path.relpath(gi, root))
    return changed


def remove(root: str, abspath: str) -> str | None:
    gi, line = entry_for(abspath)
    try:
        with open(gi, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return None
    if line not in lines:
        return None
    lines = [ln for ln in lines if ln != line]
    if not any(ln.strip() for ln in lines):
        os.unlink(gi)
    else:
        atomic_write_text(gi, "\n".join(lines) + "\n")
    return os.path.relpath(gi, root)
