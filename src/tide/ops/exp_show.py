"""``tide exp show``: baselines and their experiments, with params, metrics, deps and outs, in the
JSON dvc 3's ``exp show --json`` prints (a list of ``ExpState``: rev, name, data, error, experiments)
and in dvc's tabular form (headers Experiment, rev, typ, Created, parent, State, Executor, metrics,
params, deps).

A commit's data never changes, so it is cached by commit id in ``.dvc/tmp/tide-exps-cache`` (the
workspace row is kept there too while the files it was read from are unchanged: ``ops.exp_workspace``);
the cache is tide's own, dvc's is never written. Uncached commits are read together (``revfs.RevStore``).
"""

from __future__ import annotations

import json
import os
import time

from tide.core.errors import TideError, UsageError
from tide.ops.exp_refs import NAMESPACE, QUEUE_DIR, ExpRef

TYPE_CHECKING = False  # a warm run imports no more than it needs (tests/foundation/test_fast_start.py)
if TYPE_CHECKING:
    from typing import Any

    from tide.pipeline.revfs import RevStore
    from tide.workspace.repo import Repo

WORKSPACE = "workspace"  # tide.pipeline.revfs.WORKSPACE (imported where files are read: a warm run reads none)
_CACHE_VERSION = "1"
_NO_GIT = "experiments need git (the repository was initialised with --no-scm)"
_SHOWN = "shown.json"  # beside the commits' directories (two hex digits) in the cache


def _rev_data(repo: Repo, rev: str, timestamp: str | None, param_deps: bool = False,
              store: RevStore | None = None, files=None) -> dict[str, Any]:
    from tide.pipeline import metrics as m

    if files is None:
        from tide.pipeline.revfs import RevReader, reader_for

        files = reader_for(repo, rev) if store is None else RevReader(repo, rev, store)
    params = m.read_params(files, None, param_deps)
    metrics = m.read_metrics(files)
    deps, outs = _deps_outs(repo, files)
    return {"rev": rev, "timestamp": timestamp, "params": params, "metrics": metrics, "deps": deps,
            "outs": outs, "meta": {}}


def _deps_outs(repo: Repo, files) -> tuple[dict[str, Any], dict[str, Any]]:
    from tide.core import yamlio
    from tide.pipeline.metrics import pipelines

    root = repo.root
    deps: dict[str, Any] = {}
    outs: dict[str, Any] = {}
    for p in pipelines(files):
        lock_path = os.path.join(os.path.dirname(p.path), "dvc.lock")
        text = files.read_text(lock_path)
        try:
            lock = (yamlio.loads(text, repo.rel(lock_path)) or {}) if text else {}
        except TideError:
            lock = {}
        entries = lock.get("stages") or {} if isinstance(lock, dict) else {}
        for s in p.stages:
            entry = entries.get(s.name) if isinstance(entries, dict) else None
            rec = {}
            if isinstance(entry, dict):
                for kind in ("deps", "outs"):
                    for item in entry.get(kind) or []:
                        if isinstance(item, dict) and isinstance(item.get("path"), str):
                            absp = os.path.normpath(os.path.join(s.wdir, item["path"]))
                            rec[(kind, absp)] = item
            for d in s.deps:
                item = rec.get(("deps", os.path.normpath(d.abspath)), {})
                deps[os.path.relpath(d.abspath, root).replace(os.sep, "/")] = _hash_meta(item)
            for o in s.outs:
                if o.kind != "outs":
                    continue
                item = rec.get(("outs", os.path.normpath(o.abspath)), {})
                outs[os.path.relpath(o.abspath, root).replace(os.sep, "/")] = {
                    **_hash_meta(item), "use_cache": o.cache, "is_data_source": False}
    for out in _pointer_outs(repo, files):
        outs[repo.rel(out.abspath)] = {"hash": out.md5, "size": out.size, "nfiles": out.nfiles,
                                       "use_cache": out.use_cache, "is_data_source": True}
    return deps, outs


def _hash_meta(item: dict[str, Any]) -> dict[str, Any]:
    return {"hash": item.get("md5") or item.get("etag") or item.get("checksum"), "size": item.get("size"),
            "nfiles": item.get("nfiles")}


def _pointer_outs(repo: Repo, files) -> list:
    from tide.core import yamlio
    from tide.workspace import pointers

    if files.rev == WORKSPACE:
        from tide.workspace.index import find_dvc_files

        paths = find_dvc_files(repo.root, repo.ignore)[0]
    else:
        paths = [os.path.join(repo.root, f) for f in files.files
                 if f.endswith(pointers.SUFFIX) and not f.startswith(".dvc/")]
    out = []
    for p in sorted(paths):
        text = files.read_text(p)
        if not text:
            continue
        try:
            pf = pointers.parse(yamlio.loads(text, repo.rel(p)), p, repo.root)
        except TideError:
            continue
        out.extend(pf.outs)
    return out


def _prefill(repo: Repo, todo: list[str], info, use_cache: bool, param_deps: bool) -> dict[str, dict[str, Any]]:
    """States of the commits ``todo`` (not in the cache), their files read together (a few git calls for
    all of them)."""
    if not todo:
        return {}
    from tide.pipeline.revfs import RevStore

    store = RevStore(repo, todo)
    return {r: collect_rev(repo, r, info[r][0], use_cache, param_deps, store) for r in todo}


def _shown_path(repo: Repo) -> str:
    return os.path.join(repo.tmp_dir, "tide-exps-cache", _SHOWN)


def _load_shown(repo: Repo) -> dict[str, dict[str, Any]]:
    """The commits the last ``exp show`` listed, ``{commit: data}`` in one file: a warm run reads it and
    neither the cache file of each commit nor git's commit dates (a commit's data never changes)."""
    try:
        with open(_shown_path(repo), encoding="utf-8") as f:
            kept = json.load(f)
        if kept.get("v") == _CACHE_VERSION and isinstance(kept.get("data"), dict):
            return kept["data"]
    except (OSError, ValueError, AttributeError):
        pass
    return {}


def _save_shown(repo: Repo, data: dict[str, dict[str, Any]]) -> None:
    path = _shown_path(repo)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"v": _CACHE_VERSION, "data": data}, f)
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):  # a read-only .dvc/tmp, a value JSON cannot hold: not kept
        pass


def _cache_path(repo: Repo, rev: str) -> str:
    return os.path.join(repo.tmp_dir, "tide-exps-cache", rev[:2], rev[2:] + ".json")


def _cached(repo: Repo, rev: str) -> dict[str, Any] | None:
    """A commit's data from its cache file, None when there is none (or it cannot be read)."""
    try:
        with open(_cache_path(repo, rev), encoding="utf-8") as f:
            cached = json.load(f)
        if cached.get("v") == _CACHE_VERSION:
            return cached["data"]
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    return None


def collect_rev(repo: Repo, rev: str, timestamp: str | None, use_cache: bool = True,
                 param_deps: bool = False, store: RevStore | None = None) -> dict[str, Any]:
    """``ExpState`` of one commit (or the workspace): ``data`` or ``error``. The cache holds the full
    params only: ``param_deps`` reads afresh."""
    use_cache = use_cache and not param_deps
    if rev == WORKSPACE:
        return _collect_workspace(repo, use_cache, param_deps)
    path = _cache_path(repo, rev)
    if use_cache:
        data = _cached(repo, rev)
        if data is not None:
            return _state(rev, data)
    try:
        data = _rev_data(repo, rev, timestamp, param_deps, store)
    except TideError as exc:
        return {"rev": rev, "name": None, "data": None, "error": {"msg": str(exc), "type": type(exc).__name__},
                "experiments": None}
    if use_cache and _clean(data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"v": _CACHE_VERSION, "data": data}, f)
        os.replace(tmp, path)
    return {"rev": rev, "name": None, "data": data, "error": None, "experiments": None}


def _clean(data: dict[str, Any]) -> bool:
    return not any("error" in v for v in (*data["params"].values(), *data["metrics"].values()))


def _collect_workspace(repo: Repo, use_cache: bool, param_deps: bool) -> dict[str, Any]:
    """The workspace's ``ExpState``, kept between runs while the files it was read from are unchanged
    (``ops.exp_workspace``); one that fails to read and ``--param-deps`` rows are never kept."""
    from tide.ops import exp_workspace

    state: dict[str, Any] = {"rev": WORKSPACE, "name": None, "data": None, "error": None, "experiments": None}
    data = exp_workspace.cached(repo) if use_cache else None
    if data is None:
        try:
            data = exp_workspace.compute(repo, lambda files: _rev_data(repo, WORKSPACE, None, param_deps, files=files),
                                         keep=use_cache)
        except TideError as exc:
            state["error"] = {"msg": str(exc), "type": type(exc).__name__}
            return state
    state["data"] = data
    return state


def queued(repo: Repo, hide_queued: bool = False, hide_failed: bool = False) -> dict[str, list[dict]] | None:
    """The queue's experiments as ranges under their baselines (``exp_queue.show_ranges``); None when
    both are hidden or nothing was ever queued (the queue's module is then not even imported)."""
    if (hide_queued and hide_failed) or not os.path.isdir(os.path.join(repo.tmp_dir, QUEUE_DIR)):
        return None
    from tide.ops import exp_queue

    return exp_queue.show_ranges(repo, hide_queued=hide_queued, hide_failed=hide_failed)


def _commit_info(git, shas: list[str]) -> dict[str, tuple[str, list[str]]]:
    """commit -> (ISO timestamp as dvc prints it: local time, no zone; parents), in one git call."""
    if not shas:
        return {}
    raw = git.out("log", "--no-walk=unsorted", "--format=%H %ct %P", *dict.fromkeys(shas))
    out = {}
    for line in raw.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            out[parts[0]] = (_iso(int(parts[1])), parts[2:])
    return out


def _iso(timestamp: int) -> str:
    """A commit date as dvc prints it: local time, no zone (``datetime.fromtimestamp(t).isoformat()``,
    without importing datetime)."""
    t = time.localtime(timestamp)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"


def baselines(repo: Repo, revs: list[str] | None, all_branches: bool, all_tags: bool, all_commits: bool,
              num: int, git=None, head: str = "") -> list[str]:
    """The baseline commits; ``git``: the one to ask (default ``repo.git``), ``head``: HEAD's commit when
    known (not asked again)."""
    git = git or repo.git
    assert git is not None
    out: list[str] = []
    if all_commits:
        out += git.out("rev-list", "--branches", "--tags", "--remotes", "HEAD").split()
    if all_branches:
        out += git.out("for-each-ref", "--format=%(objectname)", "refs/heads/").split()
    if all_tags:
        out += [git.resolve(r) for r in git.out("for-each-ref", "--format=%(refname)", "refs/tags/").split()]
    if not (all_commits or all_branches or all_tags) or revs:
        for r in revs or ["HEAD"]:
            sha = head if r == "HEAD" and head else git.resolve(r)
            if num > 1:
                out += git.out("rev-list", "--first-parent", f"--max-count={num}", sha).split()
            else:
                out.append(sha)
    return list(dict.fromkeys(out))


def _read_refs(git) -> tuple[dict[str, dict[ExpRef, str]], dict[str, str], dict[str, str], str, str,
                             dict[str, tuple[str, list[str]]]]:
    """One for-each-ref: experiments by baseline, tag and branch names by commit (as dvc names baselines:
    the current branch for HEAD, else a tag, else a branch), the current branch and its commit, and the
    experiment commits' info as ``_commit_info`` gives it (no ``git log`` for them)."""
    exps: dict[str, dict[ExpRef, str]] = {}
    tags: dict[str, str] = {}
    branches: dict[str, str] = {}
    info: dict[str, tuple[str, list[str]]] = {}
    current = current_sha = ""
    raw = git.out("for-each-ref", "--format=%(HEAD)%09%(refname)%09%(objectname)%09%(*objectname)%09"
                  "%(committerdate:raw)%09%(parent)", NAMESPACE + "/", "refs/tags/", "refs/heads/")
    for line in raw.splitlines():  # tab-separated: a ref name never holds a control character
        parts = line.split("\t")
        if len(parts) != 6:
            continue
        mark, ref, obj, peeled, when, parents = parts
        sha = peeled or obj
        if ref.startswith("refs/tags/"):
            tags.setdefault(sha, ref[len("refs/tags/"):])
        elif ref.startswith("refs/heads/"):
            branches.setdefault(sha, ref[len("refs/heads/"):])
            if mark == "*":
                current, current_sha = ref[len("refs/heads/"):], sha
        else:
            exp = ExpRef.parse(ref)
            if exp is not None:
                exps.setdefault(exp.baseline, {})[exp] = obj
                if when and not peeled:  # a commit (a tag object has no committer)
                    info[obj] = (_iso(int(when.split()[0])), parents.split())
    return exps, tags, branches, current, current_sha, info


def collect(repo: Repo, revs: list[str] | None = None, all_branches: bool = False, all_tags: bool = False,
            all_commits: bool = False, num: int = 1, hide_workspace: bool = False, queued=None,
            use_cache: bool = True, param_deps: bool = False) -> list[dict[str, Any]]:
    """dvc's ``exp show --json`` result. ``queued``: baseline -> list of ExpRange dicts from the queue."""
    from tide.core.errors import GitError
    from tide.core.git import Git

    if repo.no_scm:
        raise UsageError(_NO_GIT)
    # refs and history read the same from any directory of the work tree: git runs in the repository's
    # root, and its top (``repo.git``, one more git process) is found only when a commit's files are read
    git = Git(repo.root)
    try:
        exps, tags, branches, current, head, info = _read_refs(git)
    except GitError:
        if repo.git is None:  # not in a git work tree
            raise UsageError(_NO_GIT) from None
        raise
    if not head:  # detached HEAD (or no commit yet)
        proc = git.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
        if proc.returncode != 0:
            return []
        head = proc.stdout.decode().strip()
    if num < 1:
        raise UsageError("-n/--num must be at least 1")
    bases = baselines(repo, revs, all_branches, all_tags, all_commits, num, git, head)
    wanted = list(dict.fromkeys([*bases, *(s for b in bases for s in exps.get(b, {}).values())]))
    keep = use_cache and not param_deps
    shown = _load_shown(repo) if keep else {}
    known: dict[str, dict[str, Any]] = {}  # cached data: a new state from it wherever the commit is listed
    todo = []
    for w in wanted:
        data = (shown.get(w) or _cached(repo, w)) if keep else None
        if data is None:
            todo.append(w)
        else:
            known[w] = data
    # git's dates only for the commits read now (a cached commit's data holds its date)
    info.update(_commit_info(git, [w for w in todo if w not in info]))
    memo = _prefill(repo, [w for w in todo if w in info], info, use_cache, param_deps)
    names = {b: current if b == head and current else tags.get(b) or branches.get(b) for b in bases}
    result: list[dict[str, Any]] = []
    if not hide_workspace:
        result.append(collect_rev(repo, WORKSPACE, None, use_cache, param_deps))
    listed: dict[str, dict[str, Any]] = {}
    for b in bases:
        state = _take(memo, known, b) or collect_rev(repo, b, info.get(b, (None, []))[0], use_cache, param_deps)
        _note(listed, state)
        state["name"] = names.get(b)
        ranges = []
        for ref, sha in exps.get(b, {}).items():
            ranges.append(_exp_range(repo, git, ref, sha, b, info, use_cache, param_deps, memo, listed, known))
        ranges.sort(key=_range_key, reverse=True)
        ranges += (queued or {}).get(b, [])
        state["experiments"] = ranges or None
        result.append(state)
    if keep and listed.keys() != shown.keys():
        _save_shown(repo, listed)
    return result


def _take(memo: dict[str, dict[str, Any]], known: dict[str, dict[str, Any]], rev: str) -> dict[str, Any] | None:
    """The state read for ``rev`` (once), or a new one from its cached data (a commit listed twice: a
    baseline that is also an experiment's tip)."""
    state = memo.pop(rev, None)
    return state if state is not None or rev not in known else _state(rev, known[rev])


def _state(rev: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"rev": rev, "name": None, "data": data, "error": None, "experiments": None}


def _note(listed: dict[str, dict[str, Any]], state: dict[str, Any]) -> None:
    """Keep a listed commit's data for the next run's ``shown.json`` (as its own cache file: read
    without error, every params and metrics file read)."""
    data = state.get("data")
    if data and state.get("error") is None and _clean(data):
        listed[state["rev"]] = data


def _exp_range(repo, git, ref: ExpRef, sha: str, base: str, info, use_cache: bool,
               param_deps: bool = False, memo: dict | None = None, listed: dict | None = None,
               known: dict | None = None) -> dict[str, Any]:
    parents = info.get(sha, (None, []))[1]
    if parents == [base]:
        chain = [sha]
    else:  # several commits on the experiment's branch (dvc's old checkpoints): newest first
        chain = git.out("rev-list", sha, f"^{base}").split() or [sha]
        info.update(_commit_info(git, [c for c in chain if c not in info]))
    memo = {} if memo is None else memo
    revs = [_take(memo, known or {}, c) or collect_rev(repo, c, info.get(c, (None, []))[0], use_cache, param_deps)
            for c in chain]
    for state in revs if listed is not None else ():
        _note(listed, state)
    revs[0]["name"] = ref.name
    return {"revs": revs, "executor": None, "name": ref.name}


def _range_key(r: dict[str, Any]) -> tuple[str, str]:
    head = r["revs"][0]
    ts = (head.get("data") or {}).get("timestamp")
    return (ts or "", head["rev"] if ts else "")


# ---- tabular form ------------------------------------------------------------------------------------


def _flat(d: Any) -> dict[str, Any]:
    from tide.pipeline.params import flatten

    return flatten(d) if isinstance(d, dict) else {}


def _memo_flat():
    """``_flat`` kept per dict for one table (each params/metrics file's data flattened once, not per column)."""
    memo: dict[int, tuple[Any, dict[str, Any]]] = {}

    def flat(d: Any) -> dict[str, Any]:
        hit = memo.get(id(d))
        if hit is None or hit[0] is not d:
            hit = memo[id(d)] = (d, _flat(d))
        return hit[1]

    return flat


def _names(states: list[dict[str, Any]], flat=_flat) -> tuple[dict[str, dict[str, None]], dict[str, dict[str, None]],
                                                              set[str]]:
    metrics: dict[str, dict[str, None]] = {}
    params: dict[str, dict[str, None]] = {}
    deps: set[str] = set()

    def visit(s: dict[str, Any]) -> None:
        data = s.get("data")
        if data:
            for target, src in ((metrics, data.get("metrics") or {}), (params, data.get("params") or {})):
                for path, item in src.items():
                    d = item.get("data", {})
                    if isinstance(d, dict):
                        target.setdefault(path, {}).update(dict.fromkeys(flat(d)))
            deps.update(data.get("deps") or {})
        for r in s.get("experiments") or []:
            for c in r["revs"]:
                visit(c)

    for s in states:
        visit(s)
    return metrics, params, deps


def format_time(ts: str | None, fill: str, iso: bool) -> str:
    if not ts:
        return fill
    if iso:
        return ts
    fields = _plain_iso(ts)
    if fields is None:  # not the form tide writes: datetime reads any ISO form
        from datetime import date, datetime

        t = datetime.fromisoformat(ts)
        return t.strftime("%I:%M %p" if t.date() == date.today() else "%b %d, %Y")
    # the same text as datetime's strftime (which calls time.strftime), without importing datetime
    return time.strftime("%I:%M %p" if fields[:3] == tuple(time.localtime()[:3]) else "%b %d, %Y",
                         (*fields, 0, 1, -1))


def _plain_iso(ts: str) -> tuple[int, int, int, int, int, int] | None:
    """``YYYY-MM-DDTHH:MM:SS`` (what ``_iso`` writes) as numbers; None for any other text or a value out
    of range."""
    if len(ts) != 19 or ts[4] != "-" or ts[7] != "-" or ts[10] != "T" or ts[13] != ":" or ts[16] != ":":
        return None
    digits = (ts[0:4], ts[5:7], ts[8:10], ts[11:13], ts[14:16], ts[17:19])
    if not all(x.isascii() and x.isdigit() for x in digits):
        return None
    y, mo, d, h, mi, s = (int(x) for x in digits)
    if not (y >= 1 and 1 <= mo <= 12 and 1 <= d <= 31 and h <= 23 and mi <= 59 and s <= 59):
        return None
    return y, mo, d, h, mi, s


def _fmt(v: Any, precision: int | None) -> str:
    if isinstance(v, float) and precision is not None:
        return f"{v:.{precision}g}"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (list, dict)):
        return json.dumps(v) if isinstance(v, dict) else str(v)
    return str(v)


def tabulate(states: list[dict[str, Any]], fill: str = "-", error: str = "!", precision: int | None = None,
             iso: bool = False, sort_by: str | None = None,
             sort_order: str = "asc") -> tuple[list[str], list[dict[str, str]], dict[str, list[str]]]:
    """(headers, rows, {"metrics"|"params"|"deps": their headers}) as dvc's ``tabulate``."""
    from collections import Counter

    flat = _memo_flat()
    metrics, params, deps = _names(states, flat)
    base_headers = ["Experiment", "rev", "typ", "Created", "parent", "State", "Executor"]
    counter = Counter([n for names in (*metrics.values(), *params.values()) for n in names])
    counter.update(base_headers)

    def norm(names: dict[str, dict[str, None]]) -> list[tuple[str, str, str]]:
        return [(p, n, n if counter[n] == 1 else f"{p}:{n}") for p in names for n in names[p]]

    mh, ph, dh = norm(metrics), norm(params), sorted(deps)
    headers = base_headers + [h for _, _, h in mh] + [h for _, _, h in ph] + dh
    sorter = _sorter(sort_by, metrics, params) if sort_by else None

    def cells(s: dict[str, Any]) -> dict[str, str]:
        row: dict[str, str] = {}
        data = s.get("data")
        if not data:
            return row
        for cols, src in ((mh, data.get("metrics") or {}), (ph, data.get("params") or {})):
            for path, name, header in cols:
                item = src.get(path)
                if item is None:
                    continue
                values = flat(item.get("data", {}))
                if name in values:
                    row[header] = _fmt(values[name], precision)
                else:
                    row[header] = error if item.get("error") else fill
        for name in dh:
            dep = (data.get("deps") or {}).get(name)
            if dep:
                row[name] = dep.get("hash") or fill
        return row

    rows: list[dict[str, str]] = []
    for s in states:
        rev = s.get("name") or (s["rev"][:7] if len(s["rev"]) == 40 else s["rev"])
        data = s.get("data") or {}
        rows.append({"Experiment": "", "rev": rev, "typ": "baseline", "parent": "",
                     "Created": format_time(data.get("timestamp"), fill, iso), **cells(s)})
        children = list(s.get("experiments") or [])
        if sorter:
            children = sorter(children, sort_order == "desc")
        for i, r in enumerate(children):
            head = r["revs"][0]
            hd = head.get("data") or {}
            row = {"Experiment": head.get("name") or "", "rev": head["rev"][:7],
                   "typ": "branch_base" if i == len(children) - 1 else "branch_commit", "parent": "",
                   "Created": format_time(hd.get("timestamp"), fill, iso), **cells(head)}
            ex = r.get("executor")
            if ex:
                row["State"] = str(ex.get("state", "")).capitalize()
                if ex.get("name"):
                    row["Executor"] = str(ex["name"]).capitalize()
            rows.append(row)
    full = [{h: r.get(h, fill) for h in headers} for r in rows]
    return headers, full, {"metrics": [h for _, _, h in mh], "params": [h for _, _, h in ph], "deps": dh}


def _sorter(sort_by: str, metrics, params):
    matches = set()
    parts = sort_by.split(":")
    for k in range(len(parts)):
        path, name = ":".join(parts[:k]), ":".join(parts[k:])
        for typ, names in (("metrics", metrics), ("params", params)):
            if path in names and name in names[path]:
                matches.add((path, name, typ))
    if not matches:
        for typ, names in (("metrics", metrics), ("params", params)):
            for path in names:
                if sort_by in names[path]:
                    matches.add((path, sort_by, typ))
    if len(matches) > 1:
        shown = ", ".join(sorted(f"{p}:{n}" for p, n, _ in matches))
        raise UsageError(f"ambiguous sort column '{sort_by}' matched '{shown}'")
    if not matches:
        raise UsageError(f"unknown sort column '{sort_by}'")
    path, name, typ = matches.pop()

    def key(r: dict[str, Any]):
        data = r["revs"][0].get("data") or {}
        val = _flat(((data.get(typ) or {}).get(path) or {}).get("data", {})).get(name)
        return (val is None, val if val is not None else 0)

    return lambda children, reverse: sorted(children, key=key, reverse=reverse)
