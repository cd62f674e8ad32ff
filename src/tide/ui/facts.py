"""What the UI shows, gathered from tide's ops, with a cache keyed by commit ids.

Per commit (metrics, params, tracked outputs) nothing changes once committed, so each commit is read once
with ``ops.metrics.show``/``ops.params.show``/``RevReader.outs`` and kept in ``.dvc/tmp/tide-ui/commits.json``
(rewritten atomically when new commits were read). Everything derived (pages' JSON) is memoised in memory
until a ref moves (one ``git for-each-ref`` per request) or the promotion records change.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from tide.core.errors import TideError
from tide.core.fsutil import atomic_write_text
from tide.workspace.repo import Repo

CACHE_VERSION = 1
SEP = "\x1f"


class Facts:
    def __init__(self, repo: Repo) -> None:
        if repo.git is None:
            raise TideError("tide ui reads the repository's git history; this repository has no git")
        self.repo = repo
        self.git = repo.git
        self.lock = threading.RLock()
        self.path = os.path.join(repo.tmp_dir, "tide-ui", "commits.json")
        self.commits: dict[str, dict[str, Any]] = self._load()
        self._dirty = False
        self._key: str | None = None
        self._memo: dict[str, Any] = {}
        self._fixed: dict[str, Any] = {}  # results that depend on commit ids only: kept when refs move
        from tide.ui.history import Blobs

        self.blobs = Blobs(self.git)  # one `git cat-file --batch` for every commit read
        self.stats: dict[str, int] = {}

    # --- the commit cache ------------------------------------------------------------------------------
    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return {}
        commits = data.get("commits")
        return commits if isinstance(commits, dict) else {}

    def save(self) -> None:
        if not self._dirty:
            return
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        atomic_write_text(self.path, json.dumps({"version": CACHE_VERSION, "commits": self.commits}))
        self._dirty = False

    def commit(self, sha: str) -> dict[str, Any]:
        """Metrics and params (``{file: {flat key: value}}``) and tracked outputs of one commit."""
        got = self.commits.get(sha)
        if got is None:
            got = self._read_commit(sha)
            self.commits[sha] = got
            self._dirty = True
        return got

    def _read_commit(self, sha: str) -> dict[str, Any]:
        """One commit on its own (an experiment, a version off the main branch): its tree from one
        ``git ls-tree``, blobs from the shared ``cat-file`` process."""
        from tide.ui.history import TreeReader, tree_of

        try:
            tree, special = tree_of(self.repo, sha)
        except TideError as exc:
            return {"metrics": {}, "params": {}, "outs": [], "errors": [str(exc)]}
        return self._read_with(TreeReader(self.repo, sha, tree, special, self.blobs))

    def fill(self, rev: str) -> list[str]:
        """Read every commit of ``rev``'s first-parent history missing from the cache (the lock is taken per
        commit, so pages stay answerable meanwhile); returns the commits, oldest first. The trees come from
        one ``git log --raw``; a commit whose changes leave every file the reading of its parent consulted
        untouched gets its parent's facts without being read (history.Consulted)."""
        from tide.ui.history import BATCH, TreeReader, Walk, is_pipeline_file

        walk = Walk(self.repo, rev)
        prev: tuple[dict[str, Any], Any] | None = None
        steps = walk.steps()
        shas: list[str] = []
        read = unsaved = 0
        for i, step in enumerate(steps):
            shas.append(step.sha)
            if i % 64 == 1 and prev is not None:  # the next commits' changed files a reading will want, at once
                want = [oid for s in steps[i:i + 64] if s.sha not in self.commits for rel, oid in s.changes
                        if oid and (rel in prev[1].paths or is_pipeline_file(rel))]
                with self.lock:
                    self.blobs.prefetch(want[:BATCH * 4])
            walk.apply(step)
            with self.lock:
                if step.sha in self.commits:
                    prev = None  # what its reading consulted is not known: the next commit is read
                    continue
                if prev is not None and not prev[0]["errors"] and not prev[1].touched_by(step.changed):
                    got, consulted = dict(prev[0]), prev[1]
                else:
                    reader = TreeReader(self.repo, step.sha, walk.tree, walk.special, self.blobs)
                    got, consulted = self._read_with(reader), reader.consulted
                    read += 1
                self.commits[step.sha] = got
                self._dirty = True
                prev = (got, consulted)
                unsaved += 1
                if unsaved >= 100:  # a server stopped half-way keeps what it read
                    self.save()
                    unsaved = 0
        self.blobs.ready.clear()  # prefetched for commits that were not read after all
        self.stats = {"commits": len(shas), "read": read}
        return shas

    def _read_with(self, reader) -> dict[str, Any]:
        """Metrics and params (as ``ops.metrics.show``/``ops.params.show`` read them) and tracked outputs."""
        from tide.pipeline import metrics as m
        from tide.pipeline.metrics import flatten

        out: dict[str, Any] = {"metrics": {}, "params": {}, "outs": [], "errors": []}
        try:
            for path, entry in m.read_metrics(reader).items():
                if "error" in entry:
                    out["errors"].append(f"{path}: {entry['error'].get('msg', '')}")
                else:
                    out["metrics"][path] = _numbers(flatten(entry.get("data")))
        except TideError as exc:
            out["errors"].append(str(exc))
        try:
            for path, entry in m.read_params(reader).items():
                if isinstance(entry, dict) and "data" in entry:
                    out["params"][path] = _jsonable(flatten(entry["data"]))
        except TideError as exc:
            out["errors"].append(str(exc))
        try:
            for o in reader.outs():
                out["outs"].append({"path": os.path.relpath(o.abspath, self.repo.root).replace(os.sep, "/"),
                                    "md5": o.md5, "size": o.size, "nfiles": o.nfiles,
                                    "legacy": o.hash_name is None})
        except TideError as exc:
            out["errors"].append(str(exc))
        return out

    # --- memo keyed by the refs ----------------------------------------------------------------------
    def _refs_key(self) -> str:
        refs = self.git.out("for-each-ref", "--format=%(objectname) %(refname)", "refs/heads", "refs/tags",
                            "refs/exps")
        head = self.git.run("rev-parse", "-q", "--verify", "HEAD", check=False).stdout.decode()
        stamp = ""
        rdir = self._records_dir()
        if rdir and os.path.isdir(rdir):
            stamp = ";".join(f"{e.name}:{e.stat().st_mtime_ns}" for e in os.scandir(rdir))
            stamp += ";" + ";".join(f"{d}:{os.stat(os.path.join(rdir, d)).st_mtime_ns}"
                                    for d in sorted(os.listdir(rdir)) if os.path.isdir(os.path.join(rdir, d)))
        return f"{refs}|{head!r}|{stamp}"

    def memo(self, name: str, fn) -> Any:
        with self.lock:
            key = self._refs_key()
            if key != self._key:
                self._key, self._memo = key, {}
            if name not in self._memo:
                self._memo[name] = fn()
                self.save()
            return self._memo[name]

    def fixed(self, key: str, fn) -> Any:
        """Memoise ``fn()`` under ``key``, which names commit ids only (a diff or plots of given commits)."""
        with self.lock:
            if key not in self._fixed:
                if len(self._fixed) > 256:
                    self._fixed.clear()
                self._fixed[key] = fn()
            return self._fixed[key]

    # --- settings ------------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        from tide.core import settings as S

        res: dict[str, Any] = {"base": "main", "stage": "prod", "model": None, "records": "promotions",
                               "metrics": "metrics.json", "error": None}
        try:
            st = S.load(self.repo.root)
            rs, reg, gate = S.retrain_settings(st), S.registry_settings(st), S.gate_settings(st)
            res.update(base=rs.base, stage=rs.stage, model=reg.model, records=gate.records, metrics=gate.metrics)
        except TideError as exc:
            res["error"] = str(exc)
        return res

    def _records_dir(self) -> str | None:
        from tide.core.paths import config_path

        try:
            return config_path(self.repo.root, self.settings()["records"], "gate.records")
        except TideError:
            return None

    def base_ref(self) -> str:
        """The main branch: tide.yaml's retrain.base when it exists here, else the branch checked out."""
        base = self.settings()["base"]
        if self.git.run("rev-parse", "-q", "--verify", f"refs/heads/{base}", check=False).returncode == 0:
            return base
        return "HEAD"

    # --- history ---------------------------------------------------------------------------------------
    def log(self, rev: str, first_parent: bool = True) -> list[dict[str, Any]]:
        """Commits of ``rev``, oldest first: sha, time (unix), author, subject."""
        args = ["log", "--format=%H" + SEP + "%ct" + SEP + "%an" + SEP + "%s"]
        if first_parent:
            args.append("--first-parent")
        proc = self.git.run(*args, rev, "--", check=False)
        rows = []
        for line in proc.stdout.decode("utf-8", errors="replace").splitlines():
            sha, ct, author, subject = (line.split(SEP) + ["", "", ""])[:4]
            rows.append({"sha": sha, "time": int(ct or 0), "author": author, "subject": subject})
        return rows[::-1]

    def describe(self, shas: list[str]) -> dict[str, dict[str, Any]]:
        """sha -> time, author, subject of each commit named (one git call)."""
        if not shas:
            return {}
        proc = self.git.run("log", "--no-walk=unsorted", "--format=%H" + SEP + "%ct" + SEP + "%an" + SEP + "%s",
                            *dict.fromkeys(shas), "--", check=False)
        out = {}
        for line in proc.stdout.decode("utf-8", errors="replace").splitlines():
            sha, ct, author, subject = (line.split(SEP) + ["", "", ""])[:4]
            out[sha] = {"sha": sha, "time": int(ct or 0), "author": author, "subject": subject}
        return out


def _numbers(flat: dict[str, Any]) -> dict[str, Any]:
    """Metric values as JSON keeps them (a one-element list is its element, as ``metrics diff`` shows it)."""
    out = {}
    for k, v in flat.items():
        if isinstance(v, list) and len(v) == 1:
            v = v[0]
        out[k] = v if isinstance(v, (int, float, str, bool)) or v is None else json.dumps(v)
    return out


def _jsonable(flat: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, (int, float, str, bool)) or v is None else json.dumps(v)) for k, v in flat.items()}
