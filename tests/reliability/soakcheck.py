"""The checks at the end of a soak (soak.py): each {"name", "ok", "detail"}; any not ok fails ``make soak``.

* one PR and one report comment for every day that trained (and never two for a day that did not); after
  a healthy last day, every PR has its report (a killed day's is posted by the next day);
* no runner job alive at the end;
* every promotion (an assignment tag) has its record, and the record says the gate passed; every day
  whose gate promoted has its assignment;
* the forge's registry tags are the local ones (names and tag objects);
* ``tide fsck`` clean; after ``tide gc -c -w -T`` real ``dvc status -c`` clean (a chunked remote: ``tide fsck -c
  --all``), and the remote holds every object of the workspace and of every registered version (asked through
  tide's store), at most 1.05x their distinct bytes (chunked: 1.2x);
* the cycle of the last healthy days within 1.2x of the days around day 10 (soaks of 18+ days).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

from tests.reliability import retrainkill

STORAGE_SLACK = 1.05
CHUNKED_SLACK = 1.2  # the target on the chunked remote (deduplicated, compressed)
CYCLE_SLACK = 1.2


def _check(name: str, problems: list[str], ok_detail: str = "") -> dict:
    return {"name": name, "ok": not problems, "detail": f"{name}: " + ("; ".join(problems[:8]) if problems
                                                                      else ok_detail or "ok")}


def final_checks(s) -> list[dict]:
    from tests.reliability.soak import MODEL, cycle_ratio

    out = [_prs(s), _check("runner jobs alive at the end", [f"{n} alive" for n in [s.alive()] if n]),
           _promotions(s, MODEL), _tags(s)]
    fsck = s.tide("fsck", check=False)
    out.append(_check("tide fsck", [] if fsck.returncode == 0 else [(fsck.stdout + fsck.stderr).strip()[-400:]]))
    out += _storage(s)
    ratio = cycle_ratio(s.rows)
    if ratio is None:
        out.append({"name": "cycle time", "ok": True, "detail": "cycle time: not compared (a soak of under "
                    "18 days has no days around day 10 and late days to compare)"})
    else:
        a, b, r = ratio
        out.append(_check("cycle time", [] if r <= CYCLE_SLACK else [f"late days {b:.2f}s = {r:.2f}x day 10's "
                                                                     f"{a:.2f}s (limit {CYCLE_SLACK}x)"],
                          f"late days {b:.2f}s = {r:.2f}x day 10's {a:.2f}s (limit {CYCLE_SLACK}x)"))
    return out


def _prs(s) -> dict:
    pulls = s.pulls()
    problems = []
    finished = bool(s.rows) and s.rows[-1]["exit"] == 0
    for row in s.rows:
        mine = [p for p in pulls if f"-tide-retrain-{row['date']}-" in p["source"]]
        trained = row["exit"] == 0 and row["pr"]
        if len(mine) > 1 or (trained and len(mine) != 1):
            problems.append(f"day {row['day']}: {len(mine)} PRs (want {'1' if trained else 'at most 1'})")
            continue
        for p in mine:
            n = len(s.reports(p["number"]))
            # a day that opened its PR and then died is finished by the next run that reports
            # (ops/retrain_finish.py): after a healthy last day no PR is left without its report
            if n > 1 or ((trained or finished) and n != 1):
                problems.append(f"day {row['day']}: {n} report comments on PR #{p['number']}")
    trained = sum(1 for r in s.rows if r["exit"] == 0 and r["pr"])
    return _check("one PR and one report per day", problems, f"{trained} days trained, {len(pulls)} PRs")


def _promotions(s, model: str) -> dict:
    from tide.core.git import Git
    from tide.registry import state as RS
    from tide.registry import tags as T

    art = RS.load(Git(str(s.project))).get(model)
    problems = []
    promoted = set()
    for e in art.events if art else []:
        if e.name.action != T.ASSIGN:
            continue
        version = next((v.version for v in art.versions.values() if v.commit == e.commit), None)
        promoted.add(version)
        rec = s.project / "promotions" / model / f"{version}.json"
        if not rec.exists():
            problems.append(f"{e.tag}: no promotion record {rec.name}")
            continue
        data = json.loads(rec.read_text())
        if data.get("outcome") != "promoted" or data.get("forced"):
            problems.append(f"{e.tag}: its record says {data.get('outcome')} (forced {data.get('forced')})")
    for row in s.rows:
        if row["outcome"] == "promoted" and row["version"] not in promoted:
            problems.append(f"day {row['day']}: the gate promoted {row['version']}, no assignment tag")
    return _check("promotions only where the gate passed, each with its record", problems,
                  f"{len(promoted)} promotions, each with a 'promoted' record")


def _tags(s) -> dict:
    loc, rem = retrainkill._tags(s.project, s.env), retrainkill._tags(s.forge, s.env)
    problems = []
    if loc != rem:
        problems.append(f"only local: {sorted(set(loc) - set(rem))[:5]}, only on the forge: "
                        f"{sorted(set(rem) - set(loc))[:5]}, different objects: "
                        f"{sorted(k for k in set(loc) & set(rem) if loc[k] != rem[k])[:5]}")
    return _check("forge tags == local tags", problems, f"{len(loc)} tags on both")


def _storage(s) -> list[dict]:
    from tests.reliability.soak import _walk

    # the days are simulated: every object was written seconds ago, and no push is in flight (the grace
    # period that keeps recent unused objects would keep every orphan of the soak)
    gc = retrainkill._tide(["gc", "-c", "-f", "-w", "-T"], s.project, dict(s.env, TIDE_GC_GRACE="0"), check=False)
    out = [_check("tide gc -c -w -T", [] if gc.returncode == 0 else [(gc.stdout + gc.stderr).strip()[-400:]])]
    chunked = s.remote_format == "chunked"
    if chunked:  # dvc cannot read a chunked remote: tide's own check of its structure and of every object
        fsck = retrainkill._tide(["fsck", "-c", "--all"], s.project, s.env, check=False)
        out.append(_check("tide fsck -c --all (chunked remote)", [] if fsck.returncode == 0 else
                          [(fsck.stdout + fsck.stderr).strip()[-400:]]))
    else:
        dvc = os.environ.get("TIDE_TEST_DVC") or "dvc"
        try:
            st = subprocess.run([dvc, "status", "-c", "--json"], cwd=s.project, env=s.env, capture_output=True,
                                text=True, timeout=600, check=False)
            bad = [] if st.returncode == 0 and json.loads(st.stdout.strip() or "null") == {} else \
                [f"exit {st.returncode}: {(st.stdout + st.stderr).strip()[-400:]}"]
        except (OSError, ValueError) as exc:
            bad = [f"could not run {dvc}: {exc}"]
        out.append(_check("dvc status -c (real dvc)", bad, "in sync"))
    want = expected_objects(s)
    cache = s.project / ".dvc" / "cache" / "files" / "md5"
    size = {oid: (cache / oid[:2] / oid[2:]).stat().st_size for oid in want if (cache / oid[:2] / oid[2:]).exists()}
    distinct = sum(size.values())
    missing = sorted(want - _on_remote(s, want))
    _, rbytes = _walk(s.remote_dir())
    slack = CHUNKED_SLACK if chunked else STORAGE_SLACK
    problems = [f"{len(missing)} object(s) of registered versions missing on the remote, e.g. {missing[:3]}"] \
        if missing else []
    if rbytes > slack * distinct:
        problems.append(f"the remote holds {rbytes} bytes, {rbytes / max(distinct, 1):.3f}x the {distinct} distinct "
                        f"bytes of the {len(want)} objects kept")
    s.storage_summary = {"remote_bytes_after_gc": rbytes, "distinct_bytes": distinct, "distinct_objects": len(want),
                         "remote_format": s.remote_format}
    out.append(_check(f"remote storage within {slack}x of the distinct objects after gc -c", problems,
                      f"{rbytes} bytes on the {s.remote_format} remote, {len(want)} distinct objects of {distinct} "
                      f"bytes ({rbytes / max(distinct, 1):.3f}x)"))
    return out


def _on_remote(s, want: set[str]) -> set[str]:
    """Which of ``want`` the remote has, asked through tide's store for the remote's format."""
    from tide.core.config import Env
    from tide.objects.ref import ObjRef
    from tide.ops.data_scope import open_remote
    from tide.workspace.repo import Repo

    repo = Repo.find(str(s.project), Env(s.env))
    try:
        remote = open_remote(repo, None)
        try:
            return {r.oid for r in remote.store.has_many({ObjRef(o) for o in want}, 4)}
        finally:
            remote.close()
    finally:
        repo.close()


def expected_objects(s) -> set[str]:
    """The objects of the workspace's dvc.lock and of every registered version's commit (read here, from
    git and the cache, independently of tide's gc)."""
    commits = {"HEAD"}
    for name, _ in retrainkill._tags(s.project, s.env).items():
        commits.add(s.git("rev-list", "-n", "1", name).strip())
    cache = s.project / ".dvc" / "cache" / "files" / "md5"
    want: set[str] = set()
    for c in commits:
        lock, uncached = _show(s, c, "dvc.lock"), _uncached(_show(s, c, "dvc.yaml"))
        for stage in (lock or {}).get("stages", {}).values():
            for o in stage.get("outs", []) or []:
                oid = o.get("md5")
                if not oid or o.get("path") in uncached:
                    continue
                want.add(oid)
                if oid.endswith(".dir"):
                    path: Path = cache / oid[:2] / oid[2:]
                    for entry in json.loads(path.read_text()) if path.exists() else []:
                        want.add(entry["md5"])
    return want


def _show(s, commit: str, path: str) -> dict | None:
    p = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=s.project, env=s.env, capture_output=True,
                       text=True, check=False)
    return yaml.safe_load(p.stdout) if p.returncode == 0 else None


def _uncached(dvc_yaml: dict | None) -> set[str]:
    """Paths of the outputs declared ``cache: false`` (their hashes are in dvc.lock, their bytes in git)."""
    out = set()
    for stage in (dvc_yaml or {}).get("stages", {}).values():
        for kind in ("outs", "metrics", "plots"):
            for o in stage.get(kind, []) or []:
                if isinstance(o, dict):
                    out.update(k for k, v in o.items() if isinstance(v, dict) and v.get("cache") is False)
    return out
