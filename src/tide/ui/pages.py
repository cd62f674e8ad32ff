"""The JSON behind each page, built from ``Facts`` (commit cache) and tide's ops (registry, diff, plots)."""

from __future__ import annotations

import os
from typing import Any

from tide.ui.facts import Facts


def _iso(ts: int | None) -> str | None:
    import datetime

    if not ts:
        return None
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# --- registry ---------------------------------------------------------------------------------------------
def registry(f: Facts) -> dict[str, Any]:
    return f.memo("registry", lambda: _registry(f))


def _registry(f: Facts) -> dict[str, Any]:
    from tide.ops.model import history, show_all, show_json
    from tide.registry import records
    from tide.registry import tags as T
    from tide.registry.registry import Registry

    cfg = f.settings()
    reg = Registry(f.git)
    state = reg.state()
    models = []
    shown = show_json(show_all(reg))
    for name, a in state.items():
        hist = history(a)
        by_commit = {v.commit: v.version for v in a.versions.values()}
        since: dict[str, int] = {}  # version -> time of its latest assignment to the stage (events oldest first)
        for e in a.events:
            if e.name.action == T.ASSIGN and e.name.stage == cfg["stage"] and e.commit in by_commit:
                since[by_commit[e.commit]] = e.time
        promotions = {h["version"]: h["promotion"] for h in hist if h["promotion"]}
        versions = []
        for v in sorted(a.versions.values(), key=lambda v: v.registered_at):
            rec = None
            path = records.record_path(f.repo.root, cfg["records"], name, v.version)
            if os.path.isfile(path):
                try:
                    rec = records.read(path)
                except (OSError, ValueError):
                    rec = None
            if rec is None:
                rec = promotions.get(v.version)
            # the stages this version is what GTO shows now (an older assignment never unassigned is history)
            stages = sorted(s for s in a.stages if a.stage(s) == v.version)
            ever = a.staged.get(v.version, set())
            said = (rec or {}).get("outcome")
            if said in ("promoted", "forced"):
                outcome = said
            elif cfg["stage"] in stages or ever:  # assigned without (or after) the gate's record
                outcome = "promoted"
            else:
                outcome = said or "registered"
            versions.append({"version": v.version, "commit": v.commit, "registered": _iso(v.registered_at),
                             "registered_ts": v.registered_at, "active": v.active, "stages": stages,
                             "outcome": outcome, "record": rec,
                             "in_stage_since": _iso(since.get(v.version))})
        models.append({"name": name, "latest": a.latest, "deprecated": a.deprecated,
                       "stages": {s: a.stage(s) for s in sorted(a.stages) if a.stage(s)},
                       "gto": shown.get(name), "versions": versions, "history": hist})
    return {"stage": cfg["stage"], "configured_model": cfg["model"], "settings_error": cfg["error"],
            "models": models}


# --- overview ---------------------------------------------------------------------------------------------
def overview(f: Facts) -> dict[str, Any]:
    return f.memo("overview", lambda: _overview(f))


def _overview(f: Facts) -> dict[str, Any]:
    reg = registry(f)
    stage = reg["stage"]
    models = []
    for m in reg["models"]:
        prod = m["stages"].get(stage)
        pv = next((v for v in m["versions"] if v["version"] == prod), None)
        last = max(m["versions"], key=lambda v: v["registered_ts"], default=None)
        models.append({
            "name": m["name"], "stage": stage, "production": prod,
            "since": pv["in_stage_since"] if pv else None,
            "promoted_on": (pv["record"] or {}).get("metrics", []) if pv else [],
            "production_commit": pv["commit"] if pv else None,
            "last_retrain": None if last is None else {
                "version": last["version"], "when": last["registered"], "outcome": last["outcome"],
                "commit": last["commit"], "reasons": (last["record"] or {}).get("reasons", []),
                "pr_url": _pr_url(last["record"])},
        })
    base = f.base_ref()
    head = f.log(base)[-1:] or [None]
    return {"models": models, "base": base, "head": head[0], "settings_error": reg["settings_error"]}


def _pr_url(rec: dict | None) -> str | None:
    """The address of the pull request ``tide retrain`` opened for a version (kept in its promotion
    record), or None; anything but a string naming an http(s) or file URL is dropped."""
    extra = (rec or {}).get("extra")
    url = extra.get("pr_url") if isinstance(extra, dict) else None
    if isinstance(url, str) and url.split(":", 1)[0] in ("http", "https", "file") and "\n" not in url:
        return url
    return None


# --- runs and trends ----------------------------------------------------------------------------------------
def runs(f: Facts) -> dict[str, Any]:
    return f.memo("runs", lambda: _runs(f))


def _runs(f: Facts) -> dict[str, Any]:
    base = f.base_ref()
    rows = []
    for c in f.log(base):
        facts = f.commit(c["sha"])
        rows.append({**c, "date": _iso(c["time"]), "metrics": facts["metrics"], "params": facts["params"],
                     "errors": facts["errors"]})
    return {"base": base, "rows": rows + experiments(f)}


def experiments(f: Facts) -> list[dict[str, Any]]:
    """Experiments as dvc keeps them: ``refs/exps/<baseline[:2]>/<baseline[2:]>/<name>`` -> the experiment's commit."""
    found = []
    for line in f.git.out("for-each-ref", "--format=%(objectname) %(refname)", "refs/exps").splitlines():
        sha, _, ref = line.partition(" ")
        parts = ref.split("/")
        if len(parts) == 5 and len(parts[2]) == 2:
            found.append((sha, parts[2] + parts[3], parts[4]))
    described = f.describe([sha for sha, _, _ in found])
    rows = []
    for sha, baseline, name in found:
        c = described.get(sha) or {"sha": sha, "time": 0, "author": "", "subject": ""}
        facts = f.commit(sha)
        rows.append({**c, "date": _iso(c["time"]), "experiment": name, "baseline": baseline,
                     "metrics": facts["metrics"], "params": facts["params"], "errors": facts["errors"]})
    return rows


def trends(f: Facts) -> dict[str, Any]:
    return f.memo("trends", lambda: _trends(f))


def _trends(f: Facts) -> dict[str, Any]:
    base = f.base_ref()
    points, keys = [], []
    for c in f.log(base):
        flat = _flat_metrics(f.commit(c["sha"])["metrics"])
        for k in flat:
            if k not in keys:
                keys.append(k)
        points.append({"sha": c["sha"], "date": _iso(c["time"]), "time": c["time"], "subject": c["subject"],
                       "metrics": flat})
    marks, production = [], {}
    reg = registry(f)
    described = f.describe([v["commit"] for m in reg["models"] for v in m["versions"]])
    for m in reg["models"]:
        prod = m["stages"].get(reg["stage"])
        for v in m["versions"]:
            desc = described.get(v["commit"], {"time": None})
            flat = _flat_metrics(f.commit(v["commit"])["metrics"])
            marks.append({"model": m["name"], "version": v["version"], "outcome": v["outcome"],
                          "sha": v["commit"], "date": _iso(v["registered_ts"]), "time": v["registered_ts"],
                          "commit_time": desc["time"], "metrics": flat})
            if v["version"] == prod:
                production[m["name"]] = {"version": prod, "metrics": flat}
    return {"base": base, "keys": keys, "points": points, "marks": marks, "production": production}


def _flat_metrics(by_file: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``{"file:key": value}`` for numeric values (what can be drawn over time)."""
    out = {}
    for path, flat in by_file.items():
        for k, v in flat.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out[f"{path}:{k}"] = v
    return out


# --- compare ------------------------------------------------------------------------------------------------
def compare(f: Facts, a: str, b: str) -> dict[str, Any]:
    sa, sb = _resolve(f, a), _resolve(f, b)
    return f.fixed(f"compare:{sa}:{sb}", lambda: _compare(f, sa, sb))


def _compare(f: Facts, sa: str, sb: str) -> dict[str, Any]:
    from tide.ops import diff as ops_diff
    from tide.ops import metrics as ops_metrics
    from tide.ops import params as ops_params

    names = f.git.run("diff", "--name-status", "--no-renames", sa, sb, "--", check=False).stdout.decode(
        "utf-8", errors="replace")
    files = [{"status": ln.split("\t", 1)[0], "path": ln.split("\t", 1)[1]} for ln in names.splitlines() if "\t" in ln]
    described = f.describe([sa, sb])
    return {"a": described.get(sa), "b": described.get(sb),
            "metrics": ops_metrics.diff(f.repo, sa, sb), "params": ops_params.diff(f.repo, sa, sb),
            "data": ops_diff.diff(f.repo, sa, sb), "files": files}


def _resolve(f: Facts, rev: str) -> str:
    from tide.core.errors import UsageError

    if not rev or rev.startswith("-"):
        raise UsageError(f"unknown revision '{rev}'")
    proc = f.git.run("rev-parse", "-q", "--verify", f"{rev}^{{commit}}", check=False)
    if proc.returncode != 0:
        raise UsageError(f"unknown revision '{rev}'")
    return proc.stdout.decode().strip()


# --- data ----------------------------------------------------------------------------------------------------
def data(f: Facts) -> dict[str, Any]:
    return f.memo("data", lambda: _data(f))


def data_now(f: Facts) -> dict[str, Any]:
    """``data`` with whether each version is in the cache now (gc and pull change that without a commit)."""
    d = data(f)
    cache = f.repo.cache
    outs = {path: [{**v, "in_cache": bool(v["md5"]) and cache.exists(v["md5"], v["legacy"])} for v in hist]
            for path, hist in d["outs"].items()}
    return {**d, "outs": outs}


def _data(f: Facts) -> dict[str, Any]:
    base = f.base_ref()
    outs: dict[str, list[dict[str, Any]]] = {}
    for c in f.log(base):
        for o in f.commit(c["sha"])["outs"]:
            hist = outs.setdefault(o["path"], [])
            if hist and hist[-1]["md5"] == o["md5"]:
                continue
            hist.append({**o, "sha": c["sha"], "date": _iso(c["time"]), "time": c["time"]})
    remotes = [sec.split(".", 1)[1] for sec in f.repo.settings if sec.startswith("remote.")]
    return {"base": base, "outs": outs, "remotes": remotes}


def data_where(f: Facts, remote: str) -> dict[str, Any]:
    """Which versions of the tracked outputs the remote holds. Asked on each view of the Data page (a push changes
    the answer without moving a ref), without holding the facts' lock while the remote answers."""
    from tide.objects.ref import ObjRef
    from tide.ops.data_scope import open_remote

    with f.lock:
        refs = sorted({ObjRef(o["md5"], o["legacy"]) for hist in data(f)["outs"].values() for o in hist if o["md5"]})
    rem = open_remote(f.repo, remote)
    try:
        have = rem.store.has_many(refs, rem.jobs)
    finally:
        rem.close()
    return {"remote": rem.name, "present": sorted(r.oid for r in have)}


def data_diff(f: Facts, a: str, b: str) -> dict[str, Any]:
    from tide.ops import diff as ops_diff

    sa, sb = _resolve(f, a), _resolve(f, b)
    return f.fixed(f"datadiff:{sa}:{sb}", lambda: ops_diff.diff(f.repo, sa, sb))


# --- plots ---------------------------------------------------------------------------------------------------
def plots(f: Facts, revs: list[str]) -> dict[str, Any]:
    shas = [_resolve(f, r) for r in revs]
    return f.fixed("plots:" + ",".join(shas), lambda: _plots(f, shas, revs))


def _plots(f: Facts, shas: list[str], names: list[str]) -> dict[str, Any]:
    import base64
    import tempfile

    from tide.ops.plots_vega import collect

    with tempfile.TemporaryDirectory() as tmp:
        # short ids name the revisions in the charts' legends (as dvc names the revisions it is given)
        rendered, errors = collect(f.repo, [], [s[:8] for s in shas], {}, tmp, cwd=f.repo.root)
        out = []
        for r in rendered:
            if r.kind == "vega" and r.spec:
                out.append({"id": r.id, "kind": "vega", "revisions": r.revs, "spec": r.spec})
            elif r.kind == "image":
                images = []
                for rev, path in r.images:
                    with open(path, "rb") as fh:
                        raw = fh.read()
                    mime = "image/svg+xml" if path.lower().endswith(".svg") else \
                        "image/jpeg" if path.lower().endswith((".jpg", ".jpeg")) else "image/png"
                    images.append({"rev": rev, "src": f"data:{mime};base64," + base64.b64encode(raw).decode()})
                out.append({"id": r.id, "kind": "image", "revisions": r.revs, "images": images})
    return {"revisions": shas, "names": names, "plots": out, "errors": errors}
