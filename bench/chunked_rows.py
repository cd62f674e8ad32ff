"""Issue 23's speed rows for the chunked remote format (``bench/run.py --only chunked``).

    python bench/run.py --dvc DVC --only chunked [--big-size 1G] [--pairs 3] [--scale 10k]

Rows, each measured as interleaved rounds (warm-up, then A B C ... per round, from the same state):

- first push of one big file (``--big-size``) to a fresh local remote, and pull of it into a fresh
  cache: tide to a plain remote (DVC's layout), to a chunked remote (zstd, the default) and to a
  chunked remote with ``compression: none``. Two contents: random bytes (incompressible: the
  chunked format tries zstd on the first chunks and stops) and a CSV (compressible: zstd runs on
  every chunk). Target: chunked within 1.5x plain, push and pull.
- the same first push and pull to an S3 remote on loopback (``bench/s3lite.py``, which lets the
  clients be measured; it shares the machine's cores): a remote slower than the local disk, as every
  remote the format is meant for is (left out with ``--no-s3``).
- push and pull of ``--scale`` small files to S3, against s3lite and against moto (whose ~3.6 ms of
  CPU per request makes it the slow remote of the two): tide to a plain remote, one request per
  file, and to a chunked one, whose packs make it a few requests. Target: plain / chunked >= 3x.
- ``status -c`` with nothing to do, ``--scale`` small files: tide on a chunked remote and on a
  plain one, dvc on a plain one. Target: dvc / tide chunked >= 10x.

Ratios are medians of the per-round ratios (robust to a loaded machine: each round's runs are
seconds apart); CPU is user + system of the process tree (GNU time).
"""

from __future__ import annotations

import os
import random
import shutil
import statistics

from harness import Sample, Tool, Trash, run_pairs, sh
from workloads import parse_size, small_files

YAML = {"chunked": "remotes:\n  store:\n    format: chunked\n",
        "chunked-raw": "remotes:\n  store:\n    format: chunked\n    compression: none\n"}
TARGET_PUSH = 1.5  # chunked / plain, at most
TARGET_STATUS = 10.0  # dvc / tide chunked, at least
TARGET_SMALL_S3 = 3.0  # plain / chunked, at least: many small files to S3


def csv_file(path: str, size: int) -> None:
    """A CSV shaped like bench/growing_table.py's table (zstd level 1: ~0.33 of its size)."""
    if os.path.exists(path) and os.path.getsize(path) >= size:
        return
    r = random.Random(23)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        n = i = 0
        while n < size:
            rows = []
            for _ in range(20000):
                rows.append(f"{i},{r.randrange(10**9)},{r.choice(['alpha', 'beta', 'gamma', 'delta'])},"
                            f"{r.random():.6f},2026-01-{1 + i % 28:02d},{r.randrange(10**6)}\n")
                i += 1
            b = "".join(rows).encode()
            f.write(b)
            n += len(b)
    os.replace(tmp, path)


def random_file(path: str, size: int) -> None:
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    r = random.Random(9)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        left = size
        while left:
            n = min(left, 8 << 20)
            f.write(r.randbytes(n))
            left -= n
    os.replace(tmp, path)


class Rows:
    def __init__(self, work: str, env: dict[str, str], tide: str, dvc: str, pairs: int, log, trash: Trash) -> None:
        self.work, self.env, self.tide, self.dvc, self.pairs, self.log = work, env, tide, dvc, pairs, log
        self.trash = trash  # resets move trees of many files here (deleting them slows the next run's creates)
        self.rows: list[dict] = []
        self.s3 = None  # an S3LiteServer: the big file's rows run against it too

    def _repo(self, base: str, kind: str, exe: str, server=None) -> str:
        """A repository with a default remote ``store``: a local directory, or a bucket on ``server``."""
        repo = os.path.join(base, kind, "repo")
        self.trash.discard(os.path.dirname(repo))
        os.makedirs(repo)
        sh(["git", "init", "-q", "-b", "main"], cwd=repo)
        sh([exe, "init", "-q"], cwd=repo, env=self.env)
        if server is not None:
            server.empty(_bucket(kind))
            sh([exe, "remote", "add", "-d", "store", f"s3://{_bucket(kind)}/store"], cwd=repo, env=self.env)
            sh([exe, "remote", "modify", "store", "endpointurl", server.url], cwd=repo, env=self.env)
        else:
            sh([exe, "remote", "add", "-d", "store", os.path.join(base, kind, "remote")], cwd=repo, env=self.env)
        if kind in YAML:
            with open(os.path.join(repo, "tide.yaml"), "w") as f:
                f.write(YAML[kind])
        return repo

    def _record(self, op: str, data: str, samples: dict[str, list[Sample]], base: str, other: str,
                target: str) -> None:
        row = {"op": op, "data": data, "samples": samples, "base": base, "other": other, "target": target}
        self.rows.append(row)
        self.log(f"  {op} ({data}): " + ", ".join(
            f"{k} {statistics.median(s.wall for s in v):.2f} s" for k, v in samples.items()))

    def big(self, size: int) -> None:
        kinds = ("plain", "chunked", "chunked-raw")
        tools = [Tool(k, (self.tide,)) for k in kinds]
        for data in ("random", "csv"):
            src = os.path.join(self.work, "data", f"{data}-{size}.bin")
            os.makedirs(os.path.dirname(src), exist_ok=True)
            (random_file if data == "random" else csv_file)(src, size)
            self._big(data, src, kinds, tools, s3=False)
            if self.s3 is not None:
                self._big(data, src, kinds, tools, s3=True)

    def _big(self, data: str, src: str, kinds: tuple[str, ...], tools: list[Tool], s3: bool) -> None:
        base = os.path.join(self.work, f"big-{data}")
        repos = {}
        for k in kinds:
            repo = repos[k] = self._repo(base, k, self.tide, self.s3 if s3 else None)
            sh(["cp", "--reflink=auto", src, os.path.join(repo, "big.bin")])
            sh([self.tide, "add", "-q", "big.bin"], cwd=repo, env=self.env)

        def fresh_remote(t: Tool) -> None:
            if s3:
                self.s3.empty(_bucket(t.name))
            else:
                shutil.rmtree(os.path.join(base, t.name, "remote"), ignore_errors=True)
            shutil.rmtree(os.path.join(repos[t.name], ".dvc", "tmp", "tide"), ignore_errors=True)

        env_for = lambda t: self.env  # noqa: E731
        where = "S3 (s3lite)" if s3 else "local"
        push = run_pairs(tools, fresh_remote, lambda t: (t.command("push", "-q"), repos[t.name]), env_for,
                         self.pairs)
        self._record(f"first push, {where}", data, push, "plain", "chunked", f"≤ {TARGET_PUSH:g}x plain")

        def fresh_cache(t: Tool) -> None:  # the remote as pushed; no cache, no workspace copy
            repo = repos[t.name]
            shutil.rmtree(os.path.join(repo, ".dvc", "cache"), ignore_errors=True)
            shutil.rmtree(os.path.join(repo, ".dvc", "tmp", "tide"), ignore_errors=True)
            if os.path.exists(os.path.join(repo, "big.bin")):
                os.unlink(os.path.join(repo, "big.bin"))

        pull = run_pairs(tools, fresh_cache, lambda t: (t.command("pull", "-q"), repos[t.name]), env_for,
                         self.pairs)
        self._record(f"pull, {where}", data, pull, "plain", "chunked", f"≤ {TARGET_PUSH:g}x plain")
        self.trash.discard(base)

    def small_s3(self, nfiles: int, server, pairs: int, warmup: int) -> None:
        """Push and pull of ``nfiles`` small files to an S3 server, plain against chunked."""
        wl = small_files(self.work, nfiles)
        base = os.path.join(self.work, f"small-{server.name}")
        kinds = ("plain", "chunked")
        tools = [Tool(k, (self.tide,)) for k in kinds]
        repos = {}
        for k in kinds:
            repo = repos[k] = self._repo(base, k, self.tide, server)
            sh(["cp", "-a", os.path.join(wl.src, "data"), os.path.join(repo, "data")])
            sh([self.tide, "add", "-q", "data"], cwd=repo, env=self.env)

        def fresh_remote(t: Tool) -> None:
            server.empty(_bucket(t.name))
            shutil.rmtree(os.path.join(repos[t.name], ".dvc", "tmp", "tide"), ignore_errors=True)

        def fresh_cache(t: Tool) -> None:
            repo = repos[t.name]
            for sub in (".dvc/cache", ".dvc/tmp/tide", "data"):
                self.trash.discard(os.path.join(repo, sub))

        env_for = lambda t: self.env  # noqa: E731
        data = f"{nfiles:,} small files"
        where = f"S3 ({'moto' if server.name == 's3' else server.name})"
        push = run_pairs(tools, fresh_remote, lambda t: (t.command("push", "-q"), repos[t.name]), env_for,
                         pairs, warmup=warmup)
        self._record(f"push, {where}", data, push, "chunked", "plain", f"plain ≥ {TARGET_SMALL_S3:g}x chunked")
        pull = run_pairs(tools, fresh_cache, lambda t: (t.command("pull", "-q"), repos[t.name]), env_for,
                         pairs, warmup=warmup)
        self._record(f"pull, {where}", data, pull, "chunked", "plain", f"plain ≥ {TARGET_SMALL_S3:g}x chunked")
        self.trash.discard(base)

    def status(self, nfiles: int) -> None:
        wl = small_files(self.work, nfiles)
        base = os.path.join(self.work, "status-c")
        tools = [Tool("chunked", (self.tide,)), Tool("plain", (self.tide,)), Tool("dvc", (self.dvc,))]
        repos = {}
        for t in tools:
            repo = repos[t.name] = self._repo(base, t.name, t.argv[0])
            sh(["cp", "-a", os.path.join(wl.src, "data"), os.path.join(repo, "data")])
            sh([t.argv[0], "add", "-q", "data"], cwd=repo, env=self.env)
            sh([t.argv[0], "push", "-q"], cwd=repo, env=self.env)
        res = run_pairs(tools, lambda t: None, lambda t: (t.command("status", "-c"), repos[t.name]),
                        lambda t: self.env, max(self.pairs, 5))
        self._record("status -c, nothing to do", f"{nfiles:,} small files", res, "chunked", "dvc",
                     f"dvc ≥ {TARGET_STATUS:g}x tide chunked")
        self.trash.discard(base)

    def markdown(self) -> list[str]:
        names = [k for r in self.rows for k in r["samples"]]
        names = list(dict.fromkeys(names))
        lines = ["| operation | data | " + " | ".join(f"{n} (wall, CPU)" for n in names)
                 + " | ratio (median of rounds) | target | |", "|---|---|" + "---:|" * len(names) + "---:|---|---|"]
        for r in self.rows:
            s = r["samples"]
            cells = []
            for n in names:
                if n in s:
                    cells.append(f"{statistics.median(x.wall for x in s[n]):.2f} s, "
                                 f"{statistics.median(x.cpu for x in s[n]):.2f} s")
                else:
                    cells.append("")
            a, b = r["other"], r["base"]
            ratio = statistics.median(x.wall / max(y.wall, 1e-9) for x, y in zip(s[a], s[b], strict=False))
            if r["op"].startswith("status"):
                label, ok = f"{a} / {b} {ratio:.1f}x", ratio >= TARGET_STATUS
            elif r["data"].endswith("small files"):
                label, ok = f"{a} / {b} {ratio:.1f}x", ratio >= TARGET_SMALL_S3
            else:
                label, ok = f"{a} / {b} {ratio:.2f}x", ratio <= TARGET_PUSH
                if "chunked-raw" in s:
                    raw = statistics.median(x.wall / max(y.wall, 1e-9) for x, y in zip(s["chunked-raw"], s[b],
                                                                                          strict=False))
                    label += f" (chunked-raw / plain {raw:.2f}x)"
            lines.append(f"| {r['op']} | {r['data']} | " + " | ".join(cells)
                         + f" | {label} | {r['target']} | {'✅' if ok else '❌'} |")
        return lines + [""]


def _bucket(kind: str) -> str:
    return f"bench-{kind}"


def run(work: str, env: dict[str, str], tide: str, dvc: str, size: str, nfiles: int, pairs: int, log,
        s3: bool = True) -> list[str]:
    """The rows; returns the report's lines (a table and what it measured)."""
    os.makedirs(work, exist_ok=True)
    server = None
    trash = Trash(os.path.join(work, "trash"))
    if s3:
        from s3server import CREDS, S3LiteServer

        server = S3LiteServer(os.path.join(work, "s3lite"), os.path.join(work, "s3lite.log"), trash.discard)
        env = {**env, **CREDS}
    rows = Rows(work, env, tide, dvc, pairs, log, trash)
    rows.s3 = server
    nbytes = parse_size(size)
    log(f"chunked rows: first push and pull of {size} (random, csv) to a local remote"
        f"{' and to S3 (s3lite); small files to S3 (s3lite, moto)' if s3 else ''}, status -c on {nfiles:,} files ...")
    try:
        rows.big(nbytes)
        if server is not None:
            rows.small_s3(nfiles, server, pairs, warmup=1)
            from s3server import MotoServer

            moto = MotoServer(os.path.join(work, "moto.log"))
            try:  # moto's rows are long and server-bound: 2 rounds, no warm-up (as the main bench's)
                rows.small_s3(nfiles, moto, min(pairs, 2), warmup=0)
            finally:
                moto.stop()
        rows.status(nfiles)
    finally:
        if server is not None:
            server.stop()
        trash.empty()  # after the last measurement
    load = os.getloadavg()
    where = "Local remotes" + (" and S3 on loopback (s3lite, sharing the cores)" if s3 else "")
    return [f"### Chunked remote (issue 23): {size} file first push and pull; status -c on {nfiles:,} small files",
            "", f"{where}; {pairs} round(s) after a warm-up (status -c: {max(pairs, 5)}); load average at the "
            f"end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on {os.cpu_count()} cores. "
            "`chunked-raw`: a chunked remote with `compression: none`.", "", *rows.markdown()]
