"""Reading many commits fast (the commit cache's first fill): one ``git log --raw`` for the trees of a whole
first-parent history, one ``git cat-file --batch`` process for every blob (memoised by object id), and a
commit whose changes leave every file its parent's reading looked at untouched reuses the parent's facts.

The reader (:class:`TreeReader`) is ``pipeline.revfs.RevReader`` given the tree instead of asking git for it;
it records what the reading consulted (files read or looked for, directories listed, the pipeline files
found), so "nothing relevant changed" is decided from what was read, not from a list of likely names.
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass, field

from tide.core.errors import GitError
from tide.pipeline.definition import YAML_NAME
from tide.pipeline.lockfile import LOCK_NAME
from tide.pipeline.revfs import RevReader, prefix_of
from tide.workspace import pointers
from tide.workspace.repo import Repo

BATCH = 500  # blob ids written to cat-file at once (41 bytes each: far below a pipe's buffer)
MEMO_MAX = 256 * 1024  # blobs up to this size are kept by object id (dvc.yaml, params and metrics files)
MEMO_TOTAL = 32 * 1024 * 1024  # all of them together: past this the memo starts again


class Blobs:
    """One ``git cat-file --batch`` process; blobs by object id. Callers serialise (the facts' lock)."""

    def __init__(self, git) -> None:
        self.git = git
        self.proc: subprocess.Popen | None = None
        self.memo: dict[str, bytes] = {}
        self.ready: dict[str, bytes] = {}  # prefetched, not asked for yet
        self.kept = 0
        self.lock = threading.Lock()

    def _start(self) -> subprocess.Popen:
        from tide.core.argv import git_args

        git_args(("cat-file", "--batch"))
        env = {**os.environ, **self.git.env} if self.git.env else None
        try:
            return subprocess.Popen(["git", "-C", self.git.root, "cat-file", "--batch"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        except FileNotFoundError:
            raise GitError("git is not installed (needed for this command)")

    def prefetch(self, oids: list[str]) -> None:
        """Ask for many blobs in one round trip (kept until ``get``); at most BATCH ids are written before
        the answers are read, so neither pipe fills while the other side waits."""
        todo = [o for o in dict.fromkeys(oids) if o not in self.memo and o not in self.ready]
        for i in range(0, len(todo), BATCH):
            chunk = todo[i:i + BATCH]
            with self.lock:
                proc = self._proc()
                try:
                    proc.stdin.write("".join(o + "\n" for o in chunk).encode())
                    proc.stdin.flush()
                    for oid in chunk:
                        raw = self._answer(proc)
                        if raw is not None:
                            self.ready[oid] = raw
                except (OSError, ValueError):
                    self.close()
                    raise GitError("git cat-file stopped answering")

    def _proc(self) -> subprocess.Popen:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        return self.proc

    @staticmethod
    def _answer(proc: subprocess.Popen) -> bytes | None:
        header = proc.stdout.readline().split()
        if len(header) != 3:
            return None  # missing (a submodule's commit)
        raw = proc.stdout.read(int(header[2]) + 1)[:-1]
        return raw if header[1] == b"blob" else None

    def get(self, oid: str) -> bytes | None:
        got = self.memo.get(oid)
        if got is None:
            got = self.ready.pop(oid, None)
        if got is not None:
            self._keep(oid, got)
            return got
        with self.lock:
            proc = self._proc()
            try:
                proc.stdin.write(oid.encode() + b"\n")
                proc.stdin.flush()
                raw = self._answer(proc)
                if raw is None:
                    return None
            except (OSError, ValueError):
                self.close()
                raise GitError("git cat-file stopped answering")
        self._keep(oid, raw)
        return raw

    def _keep(self, oid: str, raw: bytes) -> None:
        if len(raw) > MEMO_MAX:
            return
        if self.kept + len(raw) > MEMO_TOTAL:
            self.memo.clear()
            self.kept = 0
        self.memo[oid] = raw
        self.kept += len(raw)

    def close(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            for pipe in (proc.stdin, proc.stdout):
                try:
                    pipe and pipe.close()
                except OSError:
                    pass
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def is_pipeline_file(rel: str) -> bool:
    """A file whose presence changes what a reading finds: dvc.yaml, dvc.lock, ``.dvc`` files."""
    name = rel.rsplit("/", 1)[-1]
    return (name in (YAML_NAME, LOCK_NAME) or rel.endswith(pointers.SUFFIX)) and not rel.startswith(".dvc/")


@dataclass
class Consulted:
    """What one reading looked at: files read, or looked for and absent. (Directories are listed only for
    targets named on a command line, which the UI never names; a listing is counted as touched by anything.)"""

    paths: set[str] = field(default_factory=set)
    listed: bool = False

    def touched_by(self, changed: list[str]) -> bool:
        return self.listed and bool(changed) or any(rel in self.paths or is_pipeline_file(rel) for rel in changed)


class TreeReader(RevReader):
    """``RevReader`` of a commit whose tree is given (``{path relative to the repository: blob id}``)."""

    def __init__(self, repo: Repo, sha: str, tree: dict[str, str], special: set[str], blobs: Blobs) -> None:
        self.repo, self.rev, self.sha = repo, sha, sha
        self.prefix = prefix_of(repo)
        self.files = tree  # membership and iteration: the mapping's keys
        self._special = special
        self._outs = None
        self._store = None  # RevReader's RevStore: this reader reads through ``blobs`` instead
        self._blob_store = blobs
        self.memo = {}
        self.consulted = Consulted()

    def pipeline_files(self) -> list[str]:
        return sorted(f for f in self._special if not f.endswith("/" + YAML_NAME) and f != YAML_NAME)

    def dvc_yamls(self) -> list[str]:
        return sorted(os.path.join(self.repo.root, f) for f in self._special
                      if f.rsplit("/", 1)[-1] == YAML_NAME)

    def _blobs(self, names: list[str]) -> dict[str, bytes]:
        out = {}
        for n in names:
            self.consulted.paths.add(n)
            oid = self.files.get(n)
            raw = self._blob_store.get(oid) if oid else None
            if raw is not None:
                out[n] = raw
        return out

    def read_bytes(self, abspath: str) -> bytes | None:
        self.consulted.paths.add(self._rel(abspath))
        return super().read_bytes(abspath)

    def find(self, abspath: str) -> list[str]:
        self.consulted.listed = True
        return super().find(abspath)


@dataclass
class Step:
    sha: str
    changes: list[tuple[str, str | None]]  # (path relative to the repository, new blob id or None: deleted)

    @property
    def changed(self) -> list[str]:
        return [rel for rel, _ in self.changes]


class Walk:
    """The first-parent history of ``rev``, oldest first, from one ``git log --raw``: each commit's changes
    against its first parent; ``apply`` brings ``tree``/``special`` to a commit (no ``ls-tree`` per commit)."""

    def __init__(self, repo: Repo, rev: str) -> None:
        self.repo, self.rev = repo, rev
        self.prefix = prefix_of(repo)
        self.tree: dict[str, str] = {}
        self.special: set[str] = set()

    def steps(self) -> list[Step]:
        proc = self.repo.git.run("log", "--first-parent", "--diff-merges=first-parent", "--root", "--raw",
                                 "--no-abbrev", "--no-renames", "-z", "--reverse", "--format=%x01%H", self.rev,
                                 "--", check=False)
        if proc.returncode != 0:
            raise GitError(f"git log failed: {proc.stderr.decode(errors='replace').strip()[-200:]}")
        tokens = proc.stdout.decode("utf-8", errors="surrogateescape").split("\0")
        out: list[Step] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i].lstrip("\n")
            i += 1
            if tok.startswith("\x01"):
                out.append(Step(tok[1:].strip(), []))
            elif tok.startswith(":") and i < len(tokens) and out:
                path = tokens[i]
                i += 1
                meta = tok[1:].split()
                if path.startswith(self.prefix) and len(meta) >= 5:
                    out[-1].changes.append((path[len(self.prefix):], None if meta[4].startswith("D") else meta[3]))
        return out

    def apply(self, step: Step) -> None:
        for rel, oid in step.changes:
            if oid is None:
                self.tree.pop(rel, None)
                self.special.discard(rel)
            else:
                self.tree[rel] = oid
                if is_pipeline_file(rel):
                    self.special.add(rel)


def tree_of(repo: Repo, sha: str) -> tuple[dict[str, str], set[str]]:
    """One commit's tree (``git ls-tree -r``), for a commit read on its own (an experiment, a side branch)."""
    prefix = prefix_of(repo)
    raw = repo.git.run("ls-tree", "-r", "-z", "--full-tree", sha).stdout.decode("utf-8", errors="surrogateescape")
    tree: dict[str, str] = {}
    for entry in raw.split("\0"):
        meta, _, path = entry.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and path.startswith(prefix):
            tree[path[len(prefix):]] = parts[2]
    return tree, {p for p in tree if is_pipeline_file(p)}
