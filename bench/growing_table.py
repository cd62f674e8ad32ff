"""Issue 23's growing-table workload, scaled down: a CSV exported daily from a table that grows 1% a
day with 0.1% of its rows edited; each day ``tide add`` + ``tide push``, to a plain (DVC layout)
and to a chunked remote (local directories). Prints, per remote: stored bytes against the distinct
bytes (every row version ever exported), and uploaded bytes per day against the changed bytes.

    python bench/growing_table.py --mb 50 --days 30 [--edits recent|uniform] [--chunk-size 65536]

``recent``: edits fall among the newest 5% of rows (orders, tickets: what changes is recent);
``uniform``: anywhere in the table (the worst case for any chunking).
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=20.0, help="size of the first day's CSV (MB)")
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--edits", choices=["recent", "uniform"], default="recent")
    ap.add_argument("--chunk-size", type=int, default=65536)
    ap.add_argument("--work", help="directory to work in (default: a temporary one, deleted)")
    args = ap.parse_args(argv)
    work = args.work or tempfile.mkdtemp(prefix="tide-growing-")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))

    def tide(*a: str, cwd: str) -> float:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tide", *a], cwd=cwd, env=env, check=True, capture_output=True)
        return time.perf_counter() - t

    repos = {}
    for kind in ("plain", "chunked"):
        repo = os.path.join(work, kind, "repo")
        os.makedirs(repo)
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
        tide("init", "-q", cwd=repo)
        tide("remote", "add", "-d", "store", os.path.join(work, kind, "remote"), cwd=repo)
        if kind == "chunked":
            with open(os.path.join(repo, "tide.yaml"), "w") as f:
                f.write(f"remotes:\n  store:\n    format: chunked\n    chunk_size: {args.chunk_size}\n")
        repos[kind] = repo

    r = random.Random(1)
    rows = []
    size = 0
    while size < args.mb * 1e6:
        rows.append(_row(len(rows), r))
        size += len(rows[-1])
    distinct = 0
    changed_today = 0
    lines = {k: [] for k in repos}
    for day in range(args.days):
        data = b"".join(rows)
        changed = len(data) if day == 0 else changed_today
        distinct += changed
        for kind, repo in repos.items():
            with open(os.path.join(repo, "table.csv"), "wb") as f:
                f.write(data)
            before = _du(os.path.join(work, kind, "remote")) if day else 0
            tide("add", "table.csv", cwd=repo)
            secs = tide("push", cwd=repo)
            up = _du(os.path.join(work, kind, "remote")) - before
            lines[kind].append((day, len(data), changed, up, secs))
        n = len(rows)
        changed_today = 0
        for _ in range(n // 1000):
            i = r.randrange(n) if args.edits == "uniform" else n - 1 - r.randrange(max(1, n // 20))
            rows[i] = rows[i].replace(b",", b";", 1)
            changed_today += len(rows[i])
        for j in range(n // 100):
            rows.append(_row(n + j, r))
            changed_today += len(rows[-1])
    print(f"growing table: first day {args.mb} MB, {args.days} days, edits {args.edits}, "
          f"chunk_size {args.chunk_size}; distinct bytes {distinct / 1e6:.1f} MB")
    for kind, rows_ in lines.items():
        stored = _du(os.path.join(work, kind, "remote"))
        ups = [u for _, _, _, u, _ in rows_[1:]]
        chs = [c for _, _, c, _, _ in rows_[1:]]
        ratio = max(u / c for u, c in zip(ups, chs, strict=True)) if ups else 0
        print(f"{kind:8s} stored {stored / 1e6:8.1f} MB = {stored / distinct:5.2f}x distinct; "
              f"uploaded/day (after day 0) mean {sum(ups) / max(1, len(ups)) / 1e6:6.2f} MB, "
              f"worst {ratio:5.2f}x the changed bytes; first push {rows_[0][4]:.1f} s, "
              f"later pushes mean {sum(s for *_, s in rows_[1:]) / max(1, len(rows_) - 1):.1f} s")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
