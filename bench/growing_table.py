"""Issue 23's growing-table workload, scaled down: a CSV exported daily from a table that grows 1% a
day with 0.1% of its rows edited; each day ``tide add`` + ``tide push``, to a plain (DVC layout)
and to a chunked remote (local directories). Prints, per remote: stored bytes against the distinct
bytes (every row version ever exported), and uploaded bytes per day against the changed bytes.

    python bench/growing_table.py --mb 50 --days 30 [--edits recent|uniform] [--chunk-size 65536] [--dvc DVC]

``make bench`` runs it as ``bench/run.py --only growing`` (its own section of the report).

``recent``: edits fall among the newest 5% of rows (orders, tickets: what changes is recent);
``uniform``: anywhere in the table (the worst case for any chunking).

``--files N``: the same rows as a directory of N small files instead of one CSV (``table/f00000.csv``
...; the day's new rows go into new files, an edited row changes its file), tracked as one directory
output: distinct and changed bytes are then whole file versions, and the stored bytes include the
directory's manifest of every day.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _row(i: int, r: random.Random) -> bytes:
    return f"{i},{r.randrange(10**9)},{r.choice(['alpha', 'beta', 'gamma', 'delta'])},{r.random():.6f}," \
           f"2026-01-{1 + i % 28:02d},{r.randrange(10**6)}\n".encode()


def _du(path: str) -> int:
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            if f != "tide-gc-epoch":
                total += os.path.getsize(os.path.join(d, f))
    return total


def run(mb: float, days: int, edits: str = "recent", chunk_size: int = 65536, work: str | None = None,
        dvc: str | None = None, env: dict | None = None, tide: list[str] | None = None, log=None,
        plain_days: int | None = None, files: int = 0) -> dict:
    """The workload with tide to a plain and to a chunked remote, and with ``dvc`` (if given) to a
    plain remote; returns {"distinct", "days", "tools": {name: [(day, size, changed, uploaded, secs)]},
    "stored": {name: bytes}, "computed": [names whose stored bytes are computed]}.

    ``plain_days``: the plain remotes run only the first N days (at 1 GB, 30 days of whole copies are
    ~35 GB per plain remote); after that their stored bytes are computed, exactly, as the sum of every
    day's file size (a plain remote holds each version whole, one object each), and their rows stop.
    Each day's older versions leave the local caches (``gc -w``), so the disk holds about one version
    per repository. ``files``: the rows as a directory of that many small files (the module's doc)."""
    own = work is None
    work = work or tempfile.mkdtemp(prefix="tide-growing-")
    env = dict(env or os.environ)
    env.setdefault("PYTHONPATH", os.path.join(ROOT, "src"))
    tide = tide or [sys.executable, "-m", "tide"]
    log = log or (lambda msg: None)

    def call(argv: list[str], cwd: str) -> float:
        t = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
        return time.perf_counter() - t

    kinds = {"plain": tide, "chunked": tide}
    if dvc:
        kinds["dvc"] = [dvc]
    repos = {}
    for kind, exe in kinds.items():
        repo = os.path.join(work, kind, "repo")
        os.makedirs(repo)
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True, env=env)
        call([*exe, "init", "-q"], repo)
        call([*exe, "remote", "add", "-d", "store", os.path.join(work, kind, "remote")], repo)
        if kind == "chunked":
            with open(os.path.join(repo, "tide.yaml"), "w") as f:
                f.write(f"remotes:\n  store:\n    format: chunked\n    chunk_size: {chunk_size}\n")
        repos[kind] = repo

    r = random.Random(1)
    rows = []
    size = 0
    while size < mb * 1e6:
        rows.append(_row(len(rows), r))
        size += len(rows[-1])
    distinct = 0
    changed_today = 0
    per = max(1, len(rows) // files) if files else 0  # rows per file
    touched = set(range(-(-len(rows) // per))) if files else set()  # files to write today
    lines = {k: [] for k in repos}
    computed = {k: 0 for k in repos if k != "chunked"}
    target = "table" if files else "table.csv"
    for day in range(days):
        if files:
            blobs = {k: b"".join(rows[k * per:(k + 1) * per]) for k in sorted(touched)}
            changed = sum(map(len, blobs.values()))
            size = sum(map(len, rows))
        else:
            data = b"".join(rows)
            changed = len(data) if day == 0 else changed_today
            size = len(data)
        distinct += changed
        for kind in computed:
            computed[kind] += size if not files else changed  # (a plain remote dedups whole files)
        for kind, repo in repos.items():
            if kind != "chunked" and plain_days is not None and day >= plain_days:
                if os.path.isdir(os.path.join(work, kind)):
                    shutil.rmtree(os.path.join(work, kind))
                continue
            if files:
                os.makedirs(os.path.join(repo, target), exist_ok=True)
                for k, blob in blobs.items():
                    with open(os.path.join(repo, target, f"f{k:05d}.csv"), "wb") as f:
                        f.write(blob)
            else:
                with open(os.path.join(repo, target), "wb") as f:
                    f.write(data)
            remote = os.path.join(work, kind, "remote")
            before = _du(remote) if day else 0
            call([*kinds[kind], "add", "-q", target], repo)
            secs = call([*kinds[kind], "push", "-q"], repo)
            lines[kind].append((day, size, changed, _du(remote) - before, secs))
            call([*kinds[kind], "gc", "-w", "-f", "-q"], repo)  # older versions leave the local cache
        log(f"  day {day + 1}/{days}: " + ", ".join(f"{k} {v[-1][3] / 1e6:.2f} MB up in {v[-1][4]:.1f} s"
                                                  for k, v in lines.items() if v and v[-1][0] == day))
        n = len(rows)
        changed_today = 0
        touched = set()
        for _ in range(n // 1000):
            i = r.randrange(n) if edits == "uniform" else n - 1 - r.randrange(max(1, n // 20))
            rows[i] = rows[i].replace(b",", b";", 1)
            changed_today += len(rows[i])
            touched.add(i // per if per else 0)
        for j in range(n // 100):
            rows.append(_row(n + j, r))
            changed_today += len(rows[-1])
            touched.add((n + j) // per if per else 0)
    cut = plain_days is not None and plain_days < days
    stored = {k: computed[k] if cut and k != "chunked" else _du(os.path.join(work, k, "remote")) for k in repos}
    if own:
        shutil.rmtree(work, ignore_errors=True)
    return {"mb": mb, "days": days, "edits": edits, "chunk_size": chunk_size, "distinct": distinct, "files": files,
            "tools": lines, "stored": stored, "computed": sorted(computed) if cut else []}


def summary(res: dict) -> dict[str, dict]:
    """Per remote: stored/distinct, uploaded per day (after the first) against the changed bytes
    (mean and worst), first and later push times."""
    out = {}
    for kind, rows_ in res["tools"].items():
        later = rows_[1:]
        ups = [u for *_, u, _ in later]
        ratios = [u / c for _, _, c, u, _ in later if c]
        out[kind] = {
            "stored": res["stored"][kind], "stored_x": res["stored"][kind] / res["distinct"],
            "up_mean": sum(ups) / max(1, len(ups)), "up_x_mean": sum(ratios) / max(1, len(ratios)),
            "up_x_worst": max(ratios, default=0.0), "first_s": rows_[0][4],
            "later_s": sorted(s for *_, s in later)[len(later) // 2] if later else 0.0,
        }
    return out


def markdown(res: dict) -> list[str]:
    """The report's rows (bench/run.py --only growing): one per remote, with the issue's targets."""
    s = summary(res)
    ch, pl = s["chunked"], s["plain"]
    ok = lambda good: "✅" if good else "❌"  # noqa: E731
    if res.get("files"):
        shape = f"as a directory of {res['files']:,} small files at first"
        units = ("every file version ever written", "the files written that day (new or edited), whole")
    else:
        shape = "CSV"
        units = ("every row version ever exported", "the rows added or edited that day")
    lines = [
        f"### Growing table (issue 23): {res['mb']:g} MB {shape}, +1% rows a day, 0.1% of rows edited "
        f"({res['edits']}), {res['days']} days, add + push each day; local remotes",
        "",
        f"Distinct bytes ({units[0]}): {res['distinct'] / 1e6:.1f} MB. Uploaded = bytes the remote grew by "
        f"that day (packs, index files); changed = bytes of {units[1]}.",
        "",
        "| remote | stored | stored / distinct | uploaded per day (mean) | uploaded / changed (mean, worst) "
        "| first push | later push (median) |",
        "|---|---|---|---|---|---|---|",
    ]
    names = {"plain": "tide, plain (DVC layout)", "chunked": "tide, chunked", "dvc": "dvc, plain"}
    for kind, v in s.items():
        ran = len(res["tools"][kind])
        note = f" (computed: ran {ran} of {res['days']} days)" if kind in res.get("computed", ()) else ""
        lines.append(f"| {names[kind]}{note} | {v['stored'] / 1e6:.1f} MB | {v['stored_x']:.2f}x "
                     f"| {v['up_mean'] / 1e6:.2f} MB | {v['up_x_mean']:.2f}x, {v['up_x_worst']:.2f}x "
                     f"| {v['first_s']:.2f} s | {v['later_s']:.2f} s |")
    lines += [
        "",
        f"- stored ≤ 1.2x distinct: {ch['stored_x']:.2f}x {ok(ch['stored_x'] <= 1.2)} (plain: {pl['stored_x']:.1f}x)",
        f"- uploaded per day ≤ 2x the changed bytes (worst day): {ch['up_x_worst']:.2f}x {ok(ch['up_x_worst'] <= 2)} "
        f"(plain: {pl['up_x_worst']:.0f}x; chunked uploads {pl['up_mean'] / max(1, ch['up_mean']):.0f}x less a day)",
        f"- first push ≤ 1.5x the plain remote's: {ch['first_s'] / pl['first_s']:.2f}x "
        f"{ok(ch['first_s'] <= 1.5 * pl['first_s'])}",
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=20.0, help="size of the first day's CSV (MB)")
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--edits", choices=["recent", "uniform"], default="recent")
    ap.add_argument("--chunk-size", type=int, default=65536)
    ap.add_argument("--files", type=int, default=0, help="the rows as a directory of this many small files")
    ap.add_argument("--dvc", help="also run this dvc executable against a plain remote")
    ap.add_argument("--work", help="directory to work in (default: a temporary one, deleted)")
    ap.add_argument("--plain-days", type=int, help="run the plain remotes only the first N days; their stored "
                    "bytes are then the exact sum of every version's size (the disk a 1 GB run would need)")
    args = ap.parse_args(argv)
    res = run(args.mb, args.days, args.edits, args.chunk_size, args.work, args.dvc, log=print,
              plain_days=args.plain_days, files=args.files)
    print("\n".join(markdown(res)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
