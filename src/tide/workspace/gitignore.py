"""``.gitignore`` entries for tracked outputs, written as dvc writes them (``/name`` beside the output)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

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


def add(journal: IgnoreJournal, abspaths: list[str], git: Git | None, checked: bool = False) -> list[str]:
    """Ignore each output in the .gitignore beside it unless git ignores it already. An output git
    tracks is refused (``checked``: the caller called ``refuse_tracked`` already). Each entry written
    is recorded in ``journal`` (which must be open: the running command's, see ``IgnoreJournal``).

    Returns the .gitignore files changed (relative to the journal's root).
    """
    if git is None or not abspaths:
        return []
    root = journal.root
    if not checked:
        refuse_tracked(root, abspaths, git)
    # an output whose entry is in the .gitignore beside it already needs nothing, whatever git says:
    # git is asked only about the others (a `git check-ignore` process costs ~5 ms of a no-op `add`)
    texts: dict[str, str] = {}
    todo = []
    for p in abspaths:
        gi, line = entry_for(p)
        if gi not in texts:
            texts[gi] = _read(gi, strict=False)
        if line not in texts[gi].splitlines():
            todo.append(p)
    rels = [os.path.relpath(p, root) for p in todo]
    already = git.ignored(rels)
    changed: list[str] = []
    for p, rel in zip(todo, rels, strict=True):
        if rel in already:
            continue
        gi, line = entry_for(p)
        text = _read(gi)  # as it is now; undecodable text is refused (UnicodeDecodeError) as before
        if line in text.splitlines():
            continue
        if text and not text.endswith("\n"):
            text += "\n"
        journal.record(p)
        atomic_write_text(gi, text + line + "\n")
        changed.append(os.path.relpath(gi, root))
    return changed


def _read(path: str, strict: bool = True) -> str:
    """A .gitignore's text ("" when there is none). Not ``strict``: undecodable bytes are read as
    they are (only to look for an entry; such text is never written back)."""
    try:
        with open(path, encoding="utf-8", errors="strict" if strict else "surrogateescape") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def remove(root: str, abspath: str) -> str | None:
    """Drop an output's entry from the .gitignore beside it, as dvc's ``ignore_remove``: every line equal to
    it (ignoring surrounding whitespace) goes, the other lines stay as they are (line ends made ``\\n``), and
    a .gitignore left with no line is deleted. Returns the .gitignore changed (relative to root), None when
    it had no entry."""
    gi, line = entry_for(abspath)
    try:
        with open(gi, encoding="utf-8") as f:
            lines = f.readlines()  # universal newlines, as dvc reads (and writes back) the file
    except FileNotFoundError:
        return None
    kept = [ln for ln in lines if ln.strip() != line.strip()]
    if len(kept) == len(lines):
        return None
    if not kept:
        os.unlink(gi)
    else:
        atomic_write_text(gi, "".join(kept))
    return os.path.relpath(gi, root)


class IgnoreJournal:
    """The ``.gitignore`` entries the running command added, taken back when it fails (dvc's
    ``scm_context``): each command that may ignore outputs runs its work in ``command()``, and ``add``
    refuses to write outside one, so no command can leave the entries of a failed run behind.

    On an ``Exception`` leaving ``command()``, every entry added since it was entered is removed again
    (``remove``: the .gitignore is deleted when nothing is left). An entry that was in a .gitignore
    before is never recorded, so never removed; neither is an entry the command removed (``move``)
    put back: dvc does not either. A ``KeyboardInterrupt`` (Ctrl-C, SIGTERM: a ``BaseException``)
    takes nothing back, as in dvc. ``command()`` nests: an inner scope that fails takes back its own
    entries; entries of one that succeeded stay recorded until the outermost scope ends, so the
    outer command's failure takes them back too (``import-db`` around ``add``, ``stage add --run``).
    ``take_back=False`` records without taking back: ``commit``, which dvc does not run under
    ``scm_context`` (a failed ``dvc commit`` keeps the entries it wrote)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._added: list[str] = []  # outputs whose entry this command wrote, in order
        self._depth = 0

    @contextmanager
    def command(self, take_back: bool = True) -> Iterator[None]:
        mark = len(self._added)
        self._depth += 1
        try:
            yield
        except Exception:
            if take_back:
                self._take_back(mark)
            raise
        finally:
            self._depth -= 1
            if not self._depth:
                self._added.clear()

    def record(self, abspath: str) -> None:
        if not self._depth:
            raise RuntimeError(".gitignore entry written outside a command's journal (wrap the command's work "
                               "in 'with repo.ignore_journal.command():')")
        self._added.append(abspath)

    def _take_back(self, mark: int) -> None:
        added, self._added[mark:] = self._added[mark:], []
        for p in reversed(added):
            try:
                remove(self.root, p)
            except OSError:  # the command's own error is the one to report
                pass
