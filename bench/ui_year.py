"""``tide ui`` on a year of history: how long each page's JSON takes, cold and warm.

    python bench/ui_year.py [--days 365] [--dir /tmp/ui-year]

Builds a repository with one commit a day on main (metrics.json, params.yaml, a tracked data pointer that
grows), a registered version every 3rd day and a promotion every 6th, starts ``tide ui`` on it, and times
every API endpoint: the first request (the commit cache is filled), then warm requests (median of 5), then
again after a restart of the server (the cache on disk is read). Prints one line per endpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request

ENDPOINTS = ("overview", "trends", "registry", "runs", "data", "plots", "compare?a=HEAD~30&b=HEAD")


def git(ws: str, *args: str, env: dict | None = None) -> str:
    return subprocess.run(["git", "-C", ws, *args], check=True, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}).stdout


def build(ws: str, days: int) -> None:
    if os.path.exists(ws):
        shutil.rmtree(ws)
    os.makedirs(ws)
    git(ws, "init", "-q", "-b", "main")
    subprocess.run([sys.executable, "-m", "tide", "init", "-q"], cwd=ws, check=True)
    with open(os.path.join(ws, "tide.yaml"), "w") as f:
        f.write("registry:\n  model: m\ngate:\n  metrics: metrics.json\nretrain:\n  base: main\n")
    with open(os.path.join(ws, "dvc.yaml"), "w") as f:
        f.write("metrics:\n- metrics.json\nplots:\n- loss.csv:\n    x: step\n    y: loss\n")
    t0 = 1767225600  # 2026-01-01
    version = 0
    for d in range(days):
        acc = 0.7 + 0.2 * d / days + (0.01 if d % 7 == 0 else 0)
        with open(os.path.join(ws, "metrics.json"), "w") as f:
            json.dump({"accuracy": round(acc, 4), "loss": round(1 - acc, 4), "rows": 100 * (d + 1)}, f)
        with open(os.path.join(ws, "params.yaml"), "w") as f:
            f.write(f"train:\n  rows: {100 * (d + 1)}\n  seed: {d % 5}\n")
        with open(os.path.join(ws, "loss.csv"), "w") as f:
            f.write("step,loss\n" + "".join(f"{s},{round((1 - acc) / (s + 1), 4)}\n" for s in range(10)))
        with open(os.path.join(ws, "data.dvc"), "w") as f:
            f.write(f"outs:\n- md5: {d:032x}.dir\n  size: {1000 * (d + 1)}\n  nfiles: {d + 1}\n  hash: md5\n"
                    "  path: data\n")
        stamp = f"{t0 + d * 86400} +0000"
        env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        git(ws, "add", "-A")
        git(ws, "commit", "-qm", f"day {d + 1}", env=env)
        if d % 3 == 0:
            version += 1
            git(ws, "tag", "-a", f"m@v0.0.{version}", "-m", f"Registering artifact m version v0.0.{version}",
                env=env)
            if d % 6 == 0:
                git(ws, "tag", "-a", f"m#prod#{version}", "-m", f"Assigning stage prod to artifact m version "
                    f"v0.0.{version}", env=env)


def start(ws: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "tide", "ui", "--port", "0"], cwd=ws, stdout=subprocess.PIPE,
                            text=True)
    line = proc.stdout.readline()
    return proc, line.split()[2]


def timed(url: str) -> float:
    t = time.perf_counter()
    with urllib.request.urlopen(url) as r:
        r.read()
    return (time.perf_counter() - t) * 1000


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--dir", default="/tmp/tide-ui-year")
    a = ap.parse_args()
    t = time.perf_counter()
    build(a.dir, a.days)
    print(f"built {a.days} commits in {time.perf_counter() - t:.1f}s")
    shutil.rmtree(os.path.join(a.dir, ".dvc", "tmp", "tide-ui"), ignore_errors=True)
    rows: dict[str, dict[str, float]] = {}
    phases = ("cold", "warm", "restart", "restart+5s", "new commit")
    for phase in ("cold", "restart"):
        proc, base = start(a.dir)
        try:
            if phase == "restart":
                for ep in ENDPOINTS:
                    rows.setdefault(ep, {})["restart"] = timed(base + "api/" + ep)
                proc.terminate()
                proc.wait()
                proc, base = start(a.dir)
                time.sleep(5)
                phase = "restart+5s"
            for ep in ENDPOINTS:
                rows.setdefault(ep, {})[phase] = timed(base + "api/" + ep)
                rows[ep]["warm"] = statistics.median(timed(base + "api/" + ep) for _ in range(5))
            if phase == "restart+5s":  # one more day: the pages are rebuilt from the cache plus one commit
                with open(os.path.join(a.dir, "metrics.json"), "w") as f:
                    json.dump({"accuracy": 0.95, "loss": 0.05, "rows": 100 * (a.days + 1)}, f)
                git(a.dir, "commit", "-qam", "one more day")
                for ep in ENDPOINTS:
                    rows[ep]["new commit"] = timed(base + "api/" + ep)
        finally:
            proc.terminate()
            proc.wait()
    print(f"{'endpoint (ms)':<28}" + "".join(f"{p:>12}" for p in phases))
    for ep, r in rows.items():
        print(f"{ep:<28}" + "".join(f"{r[p]:>12.0f}" for p in phases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
