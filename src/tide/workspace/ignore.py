"""``.dvcignore`` handling (gitignore syntax, nested files allowed) and the ignore-aware walk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from stat import S_ISDIR

from tide.core.errors import PathError

ALWAYS = frozenset({".git", ".hg", ".dvc"})
NAME = ".dvcignore"

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from tide.core.temps import TempJournal


def _load(path: str) -> tuple[list[tuple[int, str]], object] | None:
    """The patterns of one ``.dvcignore`` with their line numbers, and their compiled spec (None when
    the file is absent or holds no pattern)."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = f.read().splitlines()
    except FileNotFoundError:
        return None
    lines = [(n, ln) for n, ln in enumerate(raw, 1) if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return None
    import pathspec

    return lines, pathspec.GitIgnoreSpec.from_lines([ln for _, ln in lines])


class Ignore:
    """Ignore rules of a repository rooted at ``root``; nested .dvcignore files are loaded on demand."""

    __slots__ = ("root", "_files", "temps")

    def __init__(self, root: str, temps: TempJournal | None = None) -> None:
        self.root = root
        self._files: dict[str, tuple[list[tuple[int, str]], object] | None] = {}
        # the journal of tide's temporaries: only those are left out of a tracked directory (a user
        # file whose name merely looks like one is data, as for dvc)
        self.temps = temps

    def _temporaries(self) -> dict[str, tuple[str, ...]]:
        return self.temps.skipped() if self.temps is not None else {}

    def _file(self, reldir: str) -> tuple[list[tuple[int, str]], object] | None:
        if reldir not in self._files:
            base = os.path.join(self.root, reldir) if reldir else self.root
            try:
                self._files[reldir] = _load(os.path.join(base, NAME))
            except NotADirectoryError:
                self._files[reldir] = None
        return self._files[reldir]

    def spec_for(self, reldir: str):
        f = self._file(reldir)
        return f[1] if f is not None else None

    def last_match(self, relpath: str, is_dir: bool = False) -> tuple[str, int, str] | None:
        """The pattern that decides ``relpath`` (posix, relative to root), as ``(.dvcignore path
        relative to root, line number, pattern)``: the last matching one, the files read from the
        root down and each path prefix tried, as ``is_ignored`` reads them (``tide check-ignore``)."""
        parts = relpath.split("/")
        last = None
        for i in range(len(parts)):
            reldir = "/".join(parts[:i])
            f = self._file(reldir)
            if f is None:
                continue
            lines, spec = f
            for j in range(i + 1, len(parts) + 1):
                sub = "/".join(parts[i:j])
                hit = spec.check_file(sub + "/" if (j < len(parts) or is_dir) else sub)
                if hit.index is not None:
                    last = (f"{reldir}/{NAME}" if reldir else NAME, *lines[hit.index])
        return last

    def is_ignored(self, relpath: str, is_dir: bool = False) -> bool:
        """Whether ``relpath`` (posix, relative to root) or any parent directory is ignored."""
        parts = relpath.split("/")
        if any(p in ALWAYS for p in parts[:-1]) or (is_dir and parts[-1] in ALWAYS):
            return True
        for i in range(len(parts)):
            reldir = "/".join(parts[:i])
            spec = self.spec_for(reldir)
            if spec is None:
                continue
            for j in range(i + 1, len(parts) + 1):
                sub = "/".join(parts[i:j])
                isd = j < len(parts) or is_dir
                if spec.match_file(sub + "/" if isd else sub):
                    return True
        return False

    def walk_files(self, abs_dir: str, rel_dir: str) -> Iterator[tuple[str, os.DirEntry]]:
        """Yield ``(relpath inside abs_dir, DirEntry)`` for every non-ignored file under ``abs_dir``.

        ``rel_dir`` is ``abs_dir`` relative to the repository root (used for nested .dvcignore).
        Symlinks to files are followed like files; symlinked directories are not descended.
        """
        parts = rel_dir.split("/") if rel_dir else []
        ancestors = ["/".join(parts[:i]) for i in range(len(parts))]
        active = [(base, spec) for base in ancestors if (spec := self.spec_for(base)) is not None]
        yield from self._walk(abs_dir, "", rel_dir, active)

    def files_with_stat(self, abs_dir: str, rel_dir: str) -> list[tuple[str, os.stat_result]]:
        """``(relpath inside abs_dir, stat)`` of every non-ignored file under ``abs_dir``: the files
        ``walk_files`` yields, stat-ed (symlinks followed). Entries that vanish during the walk and
        dangling symlinks are left out."""
        out: list[tuple[str, os.stat_result]] = []
        for prefix, d, names, links in self.listing(abs_dir, rel_dir):
            names, stats = stat_names(d, names, links)
            out.extend(zip([prefix + n for n in names] if prefix else names, stats, strict=True))
        return out

    def listing(self, abs_dir: str, rel_dir: str,
                empty: list[str] | None = None) -> list[tuple[str, str, list[str], bool]]:
        """``(prefix, directory path, file names, any symlinks among them)`` of every directory under
        ``abs_dir`` that holds files ``walk_files`` would yield (``prefix``: the directory's relpath
        inside ``abs_dir`` with a trailing slash, ``""`` for ``abs_dir``). Names only, no ``stat``: a
        no-change ``tide status`` then stats each directory's files in one go (``stat_names``).
        ``empty``: receives the prefixes of the (not ignored) subdirectories below which no name is
        listed, deepest first (``empty_subtrees``): what a checkout removes (N57), known without a
        second walk."""
        parts = rel_dir.split("/") if rel_dir else []
        ancestors = ["/".join(parts[:i]) for i in range(len(parts))]
        active = [(base, spec) for base in ancestors if (spec := self.spec_for(base)) is not None]
        out: list[tuple[str, str, list[str], bool]] = []
        temps = self._temporaries()  # usually empty: then no name is looked at twice
        stack = [(abs_dir, "", active)]
        visited: list[str] | None = [] if empty is not None else None
        leaf_empty = False  # a visited subdirectory with no name and no subdirectory: any empty subtree has one
        while stack:
            d, prefix, act = stack.pop()
            try:
                with os.scandir(d) as it:
                    entries = list(it)
            except (FileNotFoundError, NotADirectoryError):
                continue
            if visited is not None and prefix:
                visited.append(prefix)
            if prefix == "" and any(e.name == NAME for e in entries):
                act = [*act, (rel_dir, self.spec_for(rel_dir))]
            rules = [a for a in act if a[1] is not None]
            names = []
            links = False
            pushed = len(stack)
            for e in entries:
                name = e.name
                if e.is_dir(follow_symlinks=False):
                    rel = prefix + name
                    if name in ALWAYS or (rules and self._matches(rules, rel_dir, rel, True)):
                        continue
                    stack.append((f"{d}/{name}", rel + "/", act))
                    continue
                if name == NAME and prefix:
                    from tide.core.errors import FileFormatError

                    full_dir = f"{rel_dir}/{prefix}".rstrip("/") if rel_dir else prefix.rstrip("/")
                    raise FileFormatError(
                        f"'{full_dir}/{NAME}': .dvcignore files inside a tracked directory are not allowed "
                        "(as in dvc)"
                    )
                if rules and self._matches(rules, rel_dir, prefix + name, False):
                    continue
                names.append(name)
                links = links or e.is_symlink()
            if temps and (mine := temps.get(os.path.normpath(d))):
                names = [n for n in names if not n.startswith(mine)]
            if names:
                check_utf8(prefix, names, rel_dir)
                out.append((prefix, d, names, links))
            elif visited is not None and prefix and len(stack) == pushed:
                leaf_empty = True
        if empty is not None and leaf_empty:  # else none: no set built on a no-op checkout
            empty.extend(empty_subtrees(visited, (g[0] for g in out)))
        return out

    def _matches(self, active, rel_root: str, sub: str, is_dir: bool) -> bool:
        full = f"{rel_root}/{sub}" if rel_root else sub
        for base, spec in active:
            if spec is None:
                continue
            if base:
                if not full.startswith(base + "/"):
                    continue
                p = full[len(base) + 1 :]
            else:
                p = full
            if spec.match_file(p + "/" if is_dir else p):
                return True
        return False

    def _walk(self, abs_dir: str, prefix: str, rel_root: str, active) -> Iterator[tuple[str, os.DirEntry]]:
        try:
            entries = list(os.scandir(abs_dir))
        except FileNotFoundError:
            return
        full_dir = f"{rel_root}/{prefix}".rstrip("/") if rel_root else prefix.rstrip("/")
        if any(e.name == NAME for e in entries):
            if prefix:
                from tide.core.errors import FileFormatError

                raise FileFormatError(
                    f"'{full_dir}/{NAME}': .dvcignore files inside a tracked directory are not allowed (as in dvc)"
                )
            active = [*active, (full_dir, self.spec_for(full_dir))]
        rules = [a for a in active if a[1] is not None]
        mine = self._temporaries().get(os.path.normpath(abs_dir), ())
        for e in entries:
            rel = prefix + e.name
            if e.is_dir(follow_symlinks=False):
                if e.name in ALWAYS:
                    continue
                if rules and self._matches(rules, rel_root, rel, True):
                    continue
                yield from self._walk(e.path, rel + "/", rel_root, active)
            else:
                if (rules and self._matches(rules, rel_root, rel, False)) or (mine and e.name.startswith(mine)):
                    continue
                if e.is_symlink() and os.path.isdir(e.path):
                    continue
                yield rel, e


def parent_prefix(prefix: str) -> str:
    """``"a/b/"`` -> ``"a/"`` -> ``""``."""
    return prefix[: prefix.rfind("/", 0, len(prefix) - 1) + 1]


def empty_subtrees(dirs, filled) -> list[str]:
    """The prefixes among ``dirs`` (``"a/b/"``) that are neither one of the ``filled`` prefixes (those of
    directories holding files) nor an ancestor of one, deepest first. One step per directory, none per
    file."""
    full: set[str] = set()
    for p in filled:
        while p and p not in full:
            full.add(p)
            p = parent_prefix(p)
    return sorted((d for d in dirs if d not in full), reverse=True)


def check_utf8(prefix: str, names: list[str], rel_dir: str) -> None:
    """Refuse file names that are not UTF-8 (bytes the file system allows, decoded by Python with
    surrogate escapes): a ``.dir`` manifest, the state database and dvc itself hold UTF-8 only.
    One encode of the directory's names at once, not one check per file."""
    try:
        (prefix + "/".join(names)).encode("utf-8")
    except UnicodeEncodeError:
        bad = next((prefix + n for n in names if not _encodes(prefix + n)), prefix)
        full = f"{rel_dir}/{bad}" if rel_dir else bad
        raise PathError(f"'{escape_name(full)}': file name is not valid UTF-8; dvc cannot track such names "
                        "either: rename it or list it in .dvcignore") from None


def _encodes(name: str) -> bool:
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def escape_name(name: str) -> str:
    """``name`` printable: bytes that are not UTF-8 shown as ``\\xNN``."""
    try:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that no undecodable byte gave
        return name.encode("utf-8", "backslashreplace").decode("ascii")


def stat_names(d: str, names: list[str], links: bool) -> tuple[list[str], list[os.stat_result]]:
    """The names of ``d`` that are files (symlinks followed; vanished ones and dangling or
    directory symlinks left out) and their stats: one ``fstatat`` each, relative to the directory's
    descriptor (no path lookup from the root), in a comprehension: the hot loop of ``tide status``."""
    try:
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        return [], []
    try:
        stat = os.stat
        try:
            stats = [stat(n, dir_fd=fd) for n in names]
        except FileNotFoundError:  # a file vanished meanwhile (or a dangling symlink): one by one
            stats, names = _stat_present(names, fd)
    finally:
        os.close(fd)
    if links:  # a symlink to a directory is not descended, nor taken for a file
        kept = [(n, st) for n, st in zip(names, stats, strict=True) if not S_ISDIR(st.st_mode)]
        names, stats = [n for n, _ in kept], [st for _, st in kept]
    return names, stats


def _stat_present(names: list[str], fd: int) -> tuple[list[os.stat_result], list[str]]:
    """Stats of the names that still exist (and are not dangling symlinks), and those names."""
    stats, kept = [], []
    for n in names:
        try:
            stats.append(os.stat(n, dir_fd=fd))
        except FileNotFoundError:
            continue
        kept.append(n)
    return stats, kept
