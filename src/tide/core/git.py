"""A thin wrapper around the ``git`` command line (the only place tide runs git)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

from tide.core.errors import GitError
from tide.core.values import Value

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    import subprocess


class Git(Value):
    """The git work tree at ``root``; ``env``: extra variables for the git process. Immutable, compared by
    value (a ``Value``: ``dataclasses`` costs every command ~8 ms of start-up)."""

    __slots__ = ("root", "env")
    _defaults = {"env": None}
    root: str
    env: Mapping[str, str] | None

    def __repr__(self) -> str:  # not the environment: it may hold a token
        return f"Git(root={self.root!r})"

    def run(self, *args: str, check: bool = True, input: bytes | None = None) -> subprocess.CompletedProcess:
        from tide.core.argv import git_args

        git_args(args)  # a value (remote, revision, config value) never reaches git as an option
        if args and args[0] in _MESSAGE_COMMANDS:  # what goes into a tag or commit never holds a secret
            args, input = _redacted(args, input)
        proc = self._spawn(args, input)
        if proc.returncode != 0 and b".lock': File exists" in proc.stderr:
            from tide.core import gitlock  # a lock a killed git left: removed when stale, the command run again

            if gitlock.clear_stale(proc.stderr, self.root):
                proc = self._spawn(args, input)
        if check and proc.returncode != 0:
            from tide.core.gitlock import error_line

            raise GitError(f"git {args[0]} failed: {error_line(proc.stderr, proc.returncode)}")
        return proc

    def _spawn(self, args: tuple[str, ...], input: bytes | None) -> subprocess.CompletedProcess:
        import subprocess  # (deferred: ~7 ms of start-up, and a command with nothing to do runs no git)

        try:
            return subprocess.run(
                ["git", "-C", self.root, *args], capture_output=True, input=input, check=False,
                env={**os.environ, **self.env} if self.env else None,
            )
        except FileNotFoundError:
            raise GitError("git is not installed (needed for this command); install git or use --no-scm")

    def out(self, *args: str) -> str:
        return self.run(*args).stdout.decode("utf-8", errors="surrogateescape")

    def add(self, paths: Iterable[str]) -> None:
        paths = list(paths)
        if paths:
            self.run("add", "--", *paths)

    def ignored(self, paths: Sequence[str]) -> set[str]:
        """The subset of ``paths`` (relative to root) that git ignores."""
        if not paths:
            return set()
        data = "\0".join(paths).encode("utf-8", "surrogateescape") + b"\0"  # names as the file system holds them
        proc = self.run("check-ignore", "-z", "--stdin", check=False, input=data)
        return {p for p in proc.stdout.decode(errors="surrogateescape").split("\0") if p}

    def tracked(self, paths: Sequence[str]) -> set[str]:
        """The subset of ``paths`` (absolute) that git tracks: files in the index, or directories
        holding one (one ``git ls-files`` for all of them)."""
        if not paths:
            return set()
        proc = self.run("ls-files", "-z", "--", *(":(literal)" + p for p in paths), check=False)
        if proc.returncode != 0:
            return set()  # a path outside this git work tree is not tracked by it
        base = os.path.realpath(self.root)
        files = [os.path.join(base, f) for f in proc.stdout.decode(errors="surrogateescape").split("\0") if f]
        if not files:
            return set()
        found = set()
        for p in paths:
            real = os.path.join(os.path.realpath(os.path.dirname(p)), os.path.basename(p))
            if any(f == real or f.startswith(real + os.sep) for f in files):
                found.add(p)
        return found

    def resolve(self, rev: str) -> str:
        proc = self.run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        if proc.returncode != 0:
            raise GitError(f"unknown revision '{rev}'")
        return proc.stdout.decode().strip()

    def has_commits(self) -> bool:
        return self.run("rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode == 0

    def ls_files(self, rev: str) -> list[str]:
        raw = self.run("ls-tree", "-r", "-z", "--name-only", "--full-tree", rev).stdout
        return [p for p in raw.decode("utf-8", errors="surrogateescape").split("\0") if p]

    def read_files(self, rev: str, paths: Sequence[str]) -> dict[str, bytes]:
        """Contents of ``paths`` at ``rev`` in one ``git cat-file --batch`` call."""
        if not paths:
            return {}
        req = "".join(f"{rev}:{p}\n" for p in paths).encode("utf-8", errors="surrogateescape")
        raw = self.run("cat-file", "--batch", input=req).stdout
        out: dict[str, bytes] = {}
        pos = 0
        for p in paths:
            nl = raw.index(b"\n", pos)
            header = raw[pos:nl].split()
            pos = nl + 1
            if len(header) == 3 and header[1] == b"blob":
                size = int(header[2])
                out[p] = raw[pos : pos + size]
                pos += size + 1
        return out

    def read_objects(self, names: Sequence[str]) -> dict[str, tuple[str, str, bytes]]:
        """``name -> (object id, type, contents)`` for each of ``names`` (an object id, ``REV:PATH``,
        ``REV^{tree}`` ...) in one ``git cat-file --batch`` call; a name git cannot find is left out."""
        names = list(dict.fromkeys(names))
        if not names:
            return {}
        req = "".join(f"{n}\n" for n in names).encode("utf-8", errors="surrogateescape")
        raw = self.run("cat-file", "--batch", input=req).stdout
        out: dict[str, tuple[str, str, bytes]] = {}
        pos = 0
        for n in names:
            nl = raw.index(b"\n", pos)
            header = raw[pos:nl].split()
            pos = nl + 1
            if len(header) == 3 and header[2].isdigit():  # "<oid> <type> <size>"; else "<name> missing"
                size = int(header[2])
                out[n] = (header[0].decode(), header[1].decode(), raw[pos : pos + size])
                pos += size + 1
        return out

    def has_commit(self, rev: str) -> bool:
        """Whether the commit ``rev`` is in this repository (a fetch may be needed before using it)."""
        return self.run("cat-file", "-e", f"{rev}^{{commit}}", check=False).returncode == 0

    def remote_head(self, remote: str, branch: str) -> str:
        """The commit ``branch`` points at on ``remote``; "" when the remote has no such branch. A
        remote that cannot be read (unknown, unreachable, refused) is a GitError, never "absent"."""
        ref = f"refs/heads/{branch}"
        proc = self.run("ls-remote", "--heads", remote, ref, check=False)
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise GitError(f"cannot read remote '{remote}': {err[-1] if err else proc.returncode}")
        for line in proc.stdout.decode("utf-8", errors="surrogateescape").splitlines():
            sha, _, name = line.partition("\t")
            if name == ref:  # ls-remote matches patterns by their tail: refs/heads/x/refs/heads/b too
                return sha
        return ""

    def changed_files(self) -> list[str]:
        """Paths (relative to the root) that differ from HEAD, untracked ones included, deletions too."""
        raw = self.run("status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames").stdout
        return [entry[3:] for entry in raw.decode("utf-8", errors="surrogateescape").split("\0") if len(entry) > 3]

    def commit_worktree(self, parent: str, paths: Sequence[str], message: str,
                        ident: Mapping[str, str] | None = None, files: Mapping[str, bytes] | None = None,
                        allow_empty: bool = False) -> str | None:
        """A commit of the working-tree state of ``paths`` on top of ``parent``, built in a temporary
        index: HEAD, the index and the working tree are left alone. None when nothing differs from
        ``parent`` (unless ``allow_empty``). ``ident``: GIT_AUTHOR_*/GIT_COMMITTER_* variables.
        ``files`` (path relative to the root -> content) go in as given, over what the working tree holds."""
        import tempfile

        fd, index = tempfile.mkstemp(prefix="tide-index-")
        os.close(fd)
        os.unlink(index)
        try:
            g = Git(self.root, {**(self.env or {}), "GIT_INDEX_FILE": index, **(ident or {})})
            g.run("read-tree", parent)
            if paths:
                g.run("add", "-A", "--", *paths)
            for path, data in (files or {}).items():
                blob = g.run("hash-object", "-w", "--stdin", input=data).stdout.decode().strip()
                g.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
            tree = g.out("write-tree").strip()
            if tree == g.out("rev-parse", f"{parent}^{{tree}}").strip() and not allow_empty:
                return None
            return g.out("commit-tree", tree, "-p", parent, "-m", message).strip()
        finally:
            if os.path.exists(index):
                os.unlink(index)

    def commit_on_branch(self, files: Mapping[str, bytes], branch: str, message: str) -> str:
        """Commit ``files`` (path relative to the root -> content) on top of HEAD and point ``branch``
        at it, without touching the index or the working tree."""
        blobs = {p: self.run("hash-object", "-w", "--stdin", input=data).stdout.decode().strip()
                 for p, data in files.items()}
        head = self.out("rev-parse", "HEAD").strip()
        tree = self._mktree(head + "^{tree}", blobs)
        sha = self.run("commit-tree", tree, "-p", head, "-m", message).stdout.decode().strip()
        self.run("update-ref", f"refs/heads/{branch}", sha)
        return sha

    def _mktree(self, base_tree: str | None, changes: Mapping[str, str]) -> str:
        """``base_tree`` with the blobs ``changes`` (path -> blob id) put in, subtrees rebuilt."""
        entries: dict[str, tuple[str, str, str]] = {}
        if base_tree:
            raw = self.run("ls-tree", "-z", base_tree).stdout.decode("utf-8", "surrogateescape")
            for item in filter(None, raw.split("\0")):
                meta, name = item.split("\t", 1)
                mode, typ, sha = meta.split()
                entries[name] = (mode, typ, sha)
        subdirs: dict[str, dict[str, str]] = {}
        for path, blob in changes.items():
            head, _, tail = path.partition("/")
            if tail:
                subdirs.setdefault(head, {})[tail] = blob
            else:
                mode = entries[head][0] if head in entries and entries[head][1] == "blob" else "100644"
                entries[head] = (mode, "blob", blob)
        for name, sub in subdirs.items():
            old = entries.get(name)
            entries[name] = ("040000", "tree", self._mktree(old[2] if old and old[1] == "tree" else None, sub))
        data = "".join(f"{m} {t} {s}\t{n}\0" for n, (m, t, s) in sorted(entries.items()))
        return self.run("mktree", "-z", input=data.encode("utf-8", "surrogateescape")).stdout.decode().strip()

    def refs(self, prefix: str) -> dict[str, str]:
        """``{refname: commit}`` of the refs under ``prefix`` (one ``for-each-ref``)."""
        raw = self.out("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        return dict(line.rsplit(" ", 1) for line in raw.splitlines() if " " in line)

    def update_ref(self, ref: str, sha: str, old: str | None = None) -> None:
        """Point ``ref`` at ``sha``; with ``old``, only if it still points there ("" : only if absent)."""
        self.run("update-ref", ref, sha, *(() if old is None else (old or "0" * 40,)))

    def delete_ref(self, ref: str) -> None:
        self.run("update-ref", "-d", ref)

    def revs(self, all_branches: bool = False, all_tags: bool = False, all_commits: bool = False) -> set[str]:
        revs: set[str] = set()
        if all_commits:
            revs.update(self.out("rev-list", "--all").split())
            return revs
        if all_branches:
            revs.update(self.out("for-each-ref", "--format=%(objectname)", "refs/heads/").split())
        if all_tags:
            revs.update(self.out("for-each-ref", "--format=%(objectname)^{commit}", "refs/tags/").split())
            revs = {self.resolve(r) if r.endswith("}") else r for r in revs}
        return revs


# git commands whose ``-m`` arguments or standard input become a tag or commit message
_MESSAGE_COMMANDS = frozenset({"tag", "commit", "commit-tree", "notes", "merge"})


def _redacted(args: tuple[str, ...], input: bytes | None) -> tuple[tuple[str, ...], bytes | None]:
    from tide.core.redact import redact, redact_bytes

    out, after_m = [], False
    for a in args:
        if after_m:
            a, after_m = redact(a), False
        elif a == "--message" or (a[:1] == "-" and a[1:2] != "-" and a.endswith("m") and a[1:].isalpha()):
            after_m = True  # -m, or short options ending in m (-am)
        elif a.startswith(("-m", "--message=")):
            a = redact(a)
        out.append(a)
    return tuple(out), (redact_bytes(input) if input else input)


def find_root(start: str) -> str | None:
    import subprocess

    try:
        proc = subprocess.run(
            ["git", "-C", start, "rev-parse", "--show-toplevel"], capture_output=True, check=False
        )
    except FileNotFoundError:
        return None
    if proc.returncode != 0:
        return None
    return os.path.realpath(proc.stdout.decode().strip())

__all__ = [
    "Git", "find_root",
]
