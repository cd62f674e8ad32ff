"""Reading the repository's files at a git revision without checking it out: files committed to git
come from git objects; tracked outputs (``.dvc`` files, ``dvc.lock``) come from the cache."""

from __future__ import annotations

import os

from tide.core import manifest, utf8, yamlio
from tide.core.errors import MissingError, TideError
from tide.core.fsutil import fast_relpath
from tide.pipeline.definition import YAML_NAME, WorkspaceReader
from tide.pipeline.lockfile import LOCK_NAME, counted_outs
from tide.workspace import pointers
from tide.workspace.pointers import Out
from tide.workspace.repo import Repo

WORKSPACE = "workspace"


class RevReader:
    """Files of ``repo`` at ``rev`` (a commit-ish). With ``store`` (a :class:`RevStore` holding ``rev``,
    a full commit id), its tree and git-tracked files come from the store, read with other commits'."""

    def __init__(self, repo: Repo, rev: str, store: RevStore | None = None) -> None:
        git = repo.git
        if git is None:
            raise TideError("reading other revisions needs git (the repository was initialised with --no-scm)")
        self.repo = repo
        self.rev = rev
        self.prefix = prefix_of(repo)
        self._store = store if store is not None and rev in store.commits else None
        if self._store is not None:
            self.sha = rev
            tree = self._store.tree(rev)
        else:
            self.sha = git.resolve(rev)
            tree = git.ls_files(self.sha)
        self.files = {f[len(self.prefix):] for f in tree if f.startswith(self.prefix)}
        self._outs: list[Out] | None = None
        self.memo: dict[str, object] = {}  # what is derived from this commit's files (it never changes)

    def _blobs(self, names: list[str]) -> dict[str, bytes]:
        """Contents of the git files ``names`` (relative to the repository root) at this revision."""
        got = self.repo.git.read_files(self.sha, [self.prefix + n for n in names])
        return {n[len(self.prefix):]: raw for n, raw in got.items()}

    def pipeline_files(self) -> list[str]:
        """The ``.dvc`` files and ``dvc.lock`` files at this revision (where tracked outputs are named)."""
        return [f for f in self.files if (f.endswith(pointers.SUFFIX) or f.rsplit("/", 1)[-1] == LOCK_NAME)
                and not f.startswith(".dvc/")]

    def _rel(self, abspath: str) -> str:
        return fast_relpath(self.repo.root, abspath).replace(os.sep, "/")  # relpath without its abspath calls

    def dvc_yamls(self) -> list[str]:
        return sorted(os.path.join(self.repo.root, f) for f in self.files
                      if f.rsplit("/", 1)[-1] == YAML_NAME and not f.startswith(".dvc/"))

    def outs(self) -> list[Out]:
        if self._outs is None:
            self._outs = []  # while they are read, what dvc.yaml reads (params, vars) sees no tracked output
            outs: list[Out] = []
            for rel, raw in self._blobs(self.pipeline_files()).items():
                path = os.path.join(self.repo.root, rel)
                where = f"{self.rev}:{rel}"
                try:
                    data = yamlio.loads(raw.decode("utf-8"), where)
                    if rel.endswith(pointers.SUFFIX):
                        outs.extend(pointers.parse(data, path, self.repo.root, where).outs)
                    else:
                        outs.extend(o for _, o in counted_outs(data, self.repo.root, path, where, self))
                except (UnicodeDecodeError, TideError):
                    continue
            self._outs = outs
        return self._outs

    def read_bytes(self, abspath: str) -> bytes | None:
        rel = self._rel(abspath)
        if rel in self.files:
            if self._store is not None:
                return self._store.read(self.sha, self.prefix + rel)
            return self._blobs([rel]).get(rel)
        for out in self.outs():
            if out.md5 is None:
                continue
            if out.abspath == abspath and not out.is_dir:
                return self._object(out.md5, out.legacy, rel)
            if out.is_dir and abspath.startswith(out.abspath + os.sep):
                inner = os.path.relpath(abspath, out.abspath).replace(os.sep, "/")
                raw = self._object(out.md5, out.legacy, rel)
                for e in manifest.parse(raw, where=f"manifest {out.md5}"):
                    if e.relpath == inner:
                        return self._object(e.md5, out.legacy, rel)
                return None
        return None

    def find(self, abspath: str) -> list[str]:
        """The files under directory ``abspath`` at this revision, git- and dvc-tracked, sorted (dvc's
        ``dvcfs.find``); empty when it is no directory."""
        rel = self._rel(abspath)
        if rel.startswith(".."):
            return []
        base = "" if rel == "." else rel + "/"
        found = {f for f in self.files if f.startswith(base)}
        for out in self.outs():
            orel = self._rel(out.abspath)
            if not (orel + "/").startswith(base) or orel + "/" == base and not out.is_dir:
                continue
            if out.is_dir and out.md5:
                try:
                    raw = self._object(out.md5, out.legacy, orel)
                except MissingError:
                    continue
                found.update(f"{orel}/{e.relpath}" for e in manifest.parse(raw, where=f"manifest {out.md5}"))
            elif not out.is_dir:
                found.add(orel)
        return sorted(os.path.join(self.repo.root, f) for f in found if f.startswith(base))

    def _object(self, oid: str, legacy: bool, rel: str) -> bytes:
        try:
            return self.repo.cache.read_bytes(oid, legacy)
        except FileNotFoundError:
            raise MissingError(f"'{rel}' at {self.rev} is not in the cache; run 'tide fetch' for that revision")

    def read_text(self, abspath: str) -> str | None:
        raw = self.read_bytes(abspath)
        if raw is None:
            return None
        return utf8.decode(raw, f"{self.rev}:{self._rel(abspath)}")


class RevStore:
    """The trees and git-tracked files of many commits, read together (``tide exp show`` reads hundreds of
    experiment commits that differ from their baseline in a few files): trees come from one
    ``git cat-file --batch`` call per directory level for all commits, each tree and each file's contents
    are read once however many commits share them (by object id), and a file asked for in one commit is
    read in every commit of the store in the same call (the others will ask for it too)."""

    def __init__(self, repo: Repo, commits: list[str]) -> None:
        git = repo.git
        if git is None:
            raise TideError("reading other revisions needs git (the repository was initialised with --no-scm)")
        self._git = git
        self._trees: dict[str, dict[str, tuple[bool, str]]] = {}  # tree id -> {name: (is a tree, object id)}
        self._names: dict[str, tuple[str, ...]] = {}  # subtree id -> the paths of the files under it
        self._blobs: dict[str, bytes | None] = {}  # object id -> contents (None: not a blob)
        self._wanted: set[str] = set()  # paths read ahead in every commit
        roots = git.read_objects([f"{c}^{{tree}}" for c in commits])
        self.commits = {c: roots[f"{c}^{{tree}}"][0] for c in commits if f"{c}^{{tree}}" in roots}
        todo = {oid: raw for oid, _, raw in roots.values()}
        while todo:
            sub: list[str] = []
            for oid, raw in todo.items():
                self._trees[oid] = entries = _parse_tree(raw, len(oid) // 2)
                sub += [e for is_tree, e in entries.values() if is_tree and e not in self._trees]
            got = git.read_objects(sub)
            todo = {oid: raw for oid, typ, raw in got.values() if typ == "tree"}
            for oid in sub:  # a tree git could not read: empty rather than a lookup error later
                if oid not in self._trees and oid not in todo:
                    self._trees[oid] = {}

    def _paths(self, tree: str, keep: bool) -> tuple[str, ...]:
        """The files under ``tree``; kept for subtrees (shared by commits), not for a commit's root (a
        new list per commit: keeping those would hold every commit's whole file list at once)."""
        if tree in self._names:
            return self._names[tree]
        out: list[str] = []
        for name, (is_tree, oid) in self._trees.get(tree, {}).items():
            if is_tree:
                out.extend(f"{name}/{p}" for p in self._paths(oid, True))
            else:
                out.append(name)
        paths = tuple(out)
        if keep:
            self._names[tree] = paths
        return paths

    def tree(self, commit: str) -> tuple[str, ...]:
        """The path from the repository's top of every file at ``commit`` (``git ls-tree -r``)."""
        return self._paths(self.commits[commit], False)

    def _oid(self, commit: str, path: str) -> str | None:
        node = self.commits.get(commit)
        parts = path.split("/")
        for part in parts[:-1]:
            entry = self._trees.get(node, {}).get(part) if node else None
            if entry is None or not entry[0]:
                return None
            node = entry[1]
        entry = self._trees.get(node, {}).get(parts[-1]) if node else None
        return None if entry is None or entry[0] else entry[1]

    def read(self, commit: str, path: str) -> bytes | None:
        oid = self._oid(commit, path)
        if oid is None:
            return None
        if oid not in self._blobs:
            self._wanted.add(path)
            more = {self._oid(c, p) for c in self.commits for p in self._wanted}
            todo = [o for o in more if o is not None and o not in self._blobs]
            got = self._git.read_objects(todo)
            for o in todo:
                typ_raw = got.get(o)
                self._blobs[o] = typ_raw[2] if typ_raw and typ_raw[1] == "blob" else None
        return self._blobs[oid]


def _parse_tree(raw: bytes, idlen: int) -> dict[str, tuple[bool, str]]:
    """A git tree object's entries: ``<mode> <name>\\0<id>`` each (mode 40000 is a directory)."""
    out = {}
    pos = 0
    while pos < len(raw):
        sp = raw.index(b" ", pos)
        nul = raw.index(b"\0", sp)
        mode = raw[pos:sp]
        name = raw[sp + 1:nul].decode("utf-8", errors="surrogateescape")
        out[name] = (mode == b"40000", raw[nul + 1:nul + 1 + idlen].hex())
        pos = nul + 1 + idlen
    return out


class WorkspaceFiles(WorkspaceReader):
    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.rev = WORKSPACE
        self._outs: dict[str, Out] | None = None

    def dvc_yamls(self) -> list[str]:
        from tide.workspace.index import find_dvc_files

        return find_dvc_files(self.repo.root, self.repo.ignore)[1]

    def read_bytes(self, abspath: str) -> bytes | None:
        try:
            with open(abspath, "rb") as f:
                return f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return self._cached_output(abspath)

    def read_text(self, abspath: str) -> str | None:
        text = super().read_text(abspath)
        if text is None and (raw := self._cached_output(abspath)) is not None:
            return utf8.decode(raw, os.path.relpath(abspath, self.repo.root))
        return text

    def _cached_output(self, abspath: str) -> bytes | None:
        """A cached stage output missing from the workspace, read from the cache as dvc's file system
        reads it (``metrics show`` after the file was deleted); None when it is not one or not cached."""
        if not os.path.isabs(abspath) or os.path.lexists(abspath):
            return None
        o = self._lock_outs().get(abspath)
        if o is None:
            return None
        try:
            return self.repo.cache.read_bytes(o.md5, o.legacy)
        except FileNotFoundError:
            return None

    def _lock_outs(self) -> dict[str, Out]:
        """The cached file outputs the workspace's dvc.lock files record, by path (read once per reader)."""
        if self._outs is None:
            self._outs = {}
            for y in self.dvc_yamls():
                lock = os.path.join(os.path.dirname(y), LOCK_NAME)
                try:  # read plainly (counted_outs with this reader would come back here for params.yaml)
                    raw = super().read_text(lock)
                    outs = counted_outs(yamlio.loads(raw, lock), self.repo.root, lock) if raw else []
                except TideError:
                    continue
                self._outs.update((o.abspath, o) for _, o in outs if o.md5 and not o.is_dir and o.use_cache)
        return self._outs

    def find(self, abspath: str) -> list[str]:
        """The files under directory ``abspath`` in the workspace (.dvcignore applied), sorted."""
        if not os.path.isdir(abspath) or os.path.islink(abspath):
            return []
        rel = os.path.relpath(abspath, self.repo.root).replace(os.sep, "/")
        if rel.startswith(".."):
            return []
        rel = "" if rel == "." else rel
        return sorted(os.path.join(abspath, r) for r, _ in self.repo.ignore.walk_files(abspath, rel))


def prefix_of(repo: Repo) -> str:
    """Where the repository's root is inside its git work tree ("" or ``sub/dir/``)."""
    prefix = os.path.relpath(repo.root, repo.git.root).replace(os.sep, "/") if repo.git else "."
    return "" if prefix == "." else prefix + "/"


def reader_for(repo: Repo, rev: str | None) -> RevReader | WorkspaceFiles:
    if rev is None or rev == WORKSPACE:
        return WorkspaceFiles(repo)
    return RevReader(repo, rev)
