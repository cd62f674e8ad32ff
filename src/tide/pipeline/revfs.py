"""Reading the repository's files at a git revision without checking it out: files committed to git
come from git objects; tracked outputs (``.dvc`` files, ``dvc.lock``) come from the cache."""

from __future__ import annotations

import os

from tide.core import manifest, yamlio
from tide.core.errors import FileFormatError, MissingError, TideError
from tide.pipeline.definition import YAML_NAME, WorkspaceReader
from tide.pipeline.lockfile import LOCK_NAME, counted_outs
from tide.workspace import pointers
from tide.workspace.pointers import Out
from tide.workspace.repo import Repo

WORKSPACE = "workspace"


class RevReader:
    """Files of ``repo`` at ``rev`` (a commit-ish)."""

    def __init__(self, repo: Repo, rev: str) -> None:
        git = repo.git
        if git is None:
            raise TideError("reading other revisions needs git (the repository was initialised with --no-scm)")
        self.repo = repo
        self.rev = rev
        self.sha = git.resolve(rev)
        prefix = os.path.relpath(repo.root, git.root).replace(os.sep, "/")
        self.prefix = "" if prefix == "." else prefix + "/"
        self.files = {f[len(self.prefix):] for f in git.ls_files(self.sha) if f.startswith(self.prefix)}
        self._outs: list[Out] | None = None

    def _rel(self, abspath: str) -> str:
        return os.path.relpath(abspath, self.repo.root).replace(os.sep, "/")

    def dvc_yamls(self) -> list[str]:
        return sorted(os.path.join(self.repo.root, f) for f in self.files
                      if f.rsplit("/", 1)[-1] == YAML_NAME and not f.startswith(".dvc/"))

    def outs(self) -> list[Out]:
        if self._outs is None:
            self._outs = []  # while they are read, what dvc.yaml reads (params, vars) sees no tracked output
            names = [f for f in self.files if (f.endswith(pointers.SUFFIX) or f.rsplit("/", 1)[-1] == LOCK_NAME)
                     and not f.startswith(".dvc/")]
            blobs = self.repo.git.read_files(self.sha, [self.prefix + n for n in names])
            outs: list[Out] = []
            for name, raw in blobs.items():
                rel = name[len(self.prefix):]
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
            blob = self.repo.git.read_files(self.sha, [self.prefix + rel])
            return blob.get(self.prefix + rel)
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
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FileFormatError(f"{self.rev}:{self._rel(abspath)}: not valid UTF-8 text")


class WorkspaceFiles(WorkspaceReader):
    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.rev = WORKSPACE

    def dvc_yamls(self) -> list[str]:
        from tide.workspace.index import find_dvc_files

        return find_dvc_files(self.repo.root, self.repo.ignore)[1]

    def read_bytes(self, abspath: str) -> bytes | None:
        try:
            with open(abspath, "rb") as f:
                return f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def find(self, abspath: str) -> list[str]:
        """The files under directory ``abspath`` in the workspace (.dvcignore applied), sorted."""
        if not os.path.isdir(abspath) or os.path.islink(abspath):
            return []
        rel = os.path.relpath(abspath, self.repo.root).replace(os.sep, "/")
        if rel.startswith(".."):
            return []
        rel = "" if rel == "." else rel
        return sorted(os.path.join(abspath, r) for r, _ in self.repo.ignore.walk_files(abspath, rel))


def reader_for(repo: Repo, rev: str | None) -> RevReader | WorkspaceFiles:
    if rev is None or rev == WORKSPACE:
        return WorkspaceFiles(repo)
    return RevReader(repo, rev)
