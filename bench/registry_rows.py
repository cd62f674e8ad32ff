"""Issue 19's rows: the data registry (``get``, ``import``, ``update``, ``ls``) and ``api.read`` against dvc.

One source repository is built once by dvc (``git init``, ``dvc init``, the 10,000 files of the
small-files workload under ``data/``, ``dvc add data``, ``dvc push`` to a local-directory remote,
committed) and kept under ``<work>/data/registry-10k/``. Both tools read that same source, given as a
local path (``src``; its cache holds the data, as a registry's checkout does) and as a ``file://``
git URL (rows ending in "git URL": each tool clones it and reads the data from its remote, as from a
registry on a server). Every timed run starts from the same state for both tools (a fresh output
directory, a fresh copy of the same consumer repository) and is checked afterwards: the files and
bytes it wrote, the ``.dvc`` file it left, the listing it prints (compared between the tools).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Callable

from harness import BenchError, OpResult, Tool, run_pairs, sh
from workloads import _done, _mark, small_files

NFILES = 10_000
READ_PATH = "data/d000/s000/f000.bin"  # the file api.read reads
# op key -> what the timed command is given (the row labels are in scenarios.OPS)
REGISTRY_OPS = ("get", "import", "ls", "ls-dvc-only", "update-noop", "api-read",
                "get-git", "import-git", "update-noop-git", "api-read-git")
API_SNIPPET = ("import hashlib, sys, {mod}.api as a; b = a.read({path!r}, repo={repo!r}, mode='rb'); "
               "sys.exit(0 if hashlib.md5(b).hexdigest() == {md5!r} else 3)")


def source(work: str, dvc: Tool, env: dict[str, str], n: int = NFILES) -> tuple[str, str]:
    """The source repository (built once, by dvc) and its remote: ``(src, remote)``."""
    wl = small_files(work, n)
    base = os.path.join(work, "data", f"registry-{wl.key}")
    src, remote = os.path.join(base, "src"), os.path.join(base, "remote")
    params = {"n": n, "v": 1}
    if _done(base + ".json", params):
        return src, remote
    sh(["rm", "-rf", base])
    os.makedirs(base)
    sh(["cp", "-a", wl.src, src])
    sh(["git", "init", "-q", "-b", "main"], cwd=src)
    sh(dvc.command("init", "-q"), cwd=src, env=env)
    sh(dvc.command("remote", "add", "-d", "local", remote), cwd=src, env=env)
    sh(dvc.command("add", "-q", "data"), cwd=src, env=env)
    sh(["git", "add", "-A"], cwd=src)
    sh(["git", "commit", "-q", "-m", "the registry's data"], cwd=src, env=env)
    sh(dvc.command("push", "-q"), cwd=src, env=env)
    _mark(base + ".json", params)
    return src, remote


def tree_stats(path: str) -> tuple[int, int]:
    """Files and bytes under ``path``."""
    n = size = 0
    for d, _, fs in os.walk(path):
        for f in fs:
            n += 1
            size += os.lstat(os.path.join(d, f)).st_size
    return n, size


def python_beside(t: Tool) -> str:
    """The Python of the tool's environment: the ``python`` beside its executable."""
    exe = os.path.abspath(t.argv[0])
    py = os.path.join(os.path.dirname(exe), "python")
    if not os.path.exists(py):
        raise BenchError(f"{t.name}: no python beside {exe} (api.read runs in the tool's own environment)")
    return py


class RegistrySuite:
    """All registry rows, for all tools; each tool works under ``<work>/runs/registry/<tool>/``."""

    def __init__(self, lab, want: set[str], n: int = NFILES) -> None:
        self.lab = lab
        self.want = want
        self.n = n
        self.base = os.path.join(lab.work, "runs", "registry")
        self.dvc = next((t for t in lab.tools if t.name == "dvc"), None)  # builds the source
        self._imported_dvc: dict[str, bytes] = {}

    def dir(self, t: Tool, name: str = "") -> str:
        return os.path.join(self.base, t.name, name) if name else os.path.join(self.base, t.name)

    def run(self) -> list[OpResult]:
        lab = self.lab
        out: list[OpResult] = []
        if not self.want:  # --ops named none of them
            return out
        if self.dvc is None:
            lab.log("registry rows: skipped (they compare with dvc, which builds the source)")
            return out
        lab.log(f"registry: a source of {self.n:,} files, built by dvc ...")
        dvc_env = lab.env(self.dvc)
        self.src, self.remote = source(lab.work, self.dvc, dvc_env, self.n)
        self.url = "file://" + self.src
        self.want_files, self.want_bytes = tree_stats(os.path.join(self.src, "data"))
        if self.want_files != self.n:
            raise BenchError(f"the registry source holds {self.want_files} files, expected {self.n}")
        with open(os.path.join(self.src, READ_PATH), "rb") as f:
            self.read_md5 = hashlib.md5(f.read()).hexdigest()
        for t in lab.tools:
            lab.discard(self.dir(t))
            os.makedirs(self.dir(t))
        self.consumer = self._consumer_template()
        for suffix, where in (("", self.src), ("-git", self.url)):
            if "get" + suffix in self.want:
                out.append(self._measure("get" + suffix, self._clear("out"), ["get", where, "data", "-o", "out"],
                                         after=self._check_out("out")))
            if "import" + suffix in self.want:
                out.append(self._measure("import" + suffix, self._fresh_consumer("consumer"),
                                         ["import", where, "data", "-o", "out"], cwd="consumer",
                                         after=self._check_import("consumer")))
            if "update-noop" + suffix in self.want:
                self._imported(where, "updated" + suffix)
                out.append(self._measure("update-noop" + suffix, lambda t: None, ["update", "out.dvc"],
                                         cwd="updated" + suffix, after=self._check_unchanged("updated" + suffix)))
            if "api-read" + suffix in self.want:
                out.append(self._measure("api-read" + suffix, lambda t: None, None, argv_for=self._api(where)))
        for flags, op in ((["-R"], "ls"), (["-R", "--dvc-only"], "ls-dvc-only")):
            if op in self.want:
                r = self._measure(op, lambda t: None, ["ls", *flags, self.src])
                if r.samples:
                    self._compare_ls(r, flags)
                out.append(r)
        return out

    # --- starting states ---------------------------------------------------------------------------
    def _consumer_template(self) -> str:
        """An empty DVC repository (git + ``dvc init``, committed): where each import starts."""
        path = os.path.join(self.base, "consumer-template")
        self.lab.discard(path)
        os.makedirs(path)
        sh(["git", "init", "-q", "-b", "main"], cwd=path)
        sh(self.dvc.command("init", "-q"), cwd=path, env=self.lab.env(self.dvc))
        sh(["git", "add", "-A"], cwd=path)
        sh(["git", "commit", "-q", "-m", "init"], cwd=path, env=self.lab.env(self.dvc))
        return path

    def _clear(self, name: str) -> Callable[[Tool], None]:
        return lambda t: self.lab.discard(self.dir(t, name))

    def _fresh_consumer(self, name: str) -> Callable[[Tool], None]:
        def reset(t: Tool) -> None:
            self.lab.discard(self.dir(t, name))
            self.lab.discard(self.lab.site_dir(t, name))
            sh(["cp", "-a", self.consumer, self.dir(t, name)])
        return reset

    def _imported(self, where: str, name: str) -> None:
        """The same up-to-date import for every tool: made once by dvc, committed, then copied."""
        made = os.path.join(self.base, name + "-template")
        self.lab.discard(made)
        sh(["cp", "-a", self.consumer, made])
        env = self.lab.env(self.dvc, name + "-template")
        sh(self.dvc.command("import", "-q", where, "data", "-o", "out"), cwd=made, env=env)
        sh(["git", "add", "-A"], cwd=made)
        sh(["git", "commit", "-q", "-m", "import"], cwd=made, env=env)
        for t in self.lab.tools:
            self.lab.discard(self.dir(t, name))
            sh(["cp", "-a", made, self.dir(t, name)])
        with open(os.path.join(made, "out.dvc"), "rb") as f:
            self._imported_dvc[name] = f.read()

    # --- checks after each timed run (a run that did not do its work fails the row) -----------------
    def _check_out(self, name: str, root: str = "") -> Callable[[Tool], None]:
        def after(t: Tool) -> None:
            got = tree_stats(os.path.join(self.dir(t, root or name), "out") if root else self.dir(t, name))
            if got != (self.want_files, self.want_bytes):
                raise BenchError(f"{t.name}: {got[0]} files, {got[1]} bytes written; "
                                 f"expected {self.want_files}, {self.want_bytes}")
        return after

    def _check_import(self, name: str) -> Callable[[Tool], None]:
        check_out = self._check_out("out", root=name)

        def after(t: Tool) -> None:
            check_out(t)
            with open(os.path.join(self.dir(t, name), "out.dvc")) as f:
                text = f.read()
            if "rev_lock:" not in text or "frozen: true" not in text:
                raise BenchError(f"{t.name}: out.dvc is not an import's .dvc file:\n{text}")
        return after

    def _check_unchanged(self, name: str) -> Callable[[Tool], None]:
        check_out = self._check_out("out", root=name)

        def after(t: Tool) -> None:
            with open(os.path.join(self.dir(t, name), "out.dvc"), "rb") as f:
                if f.read() != self._imported_dvc[name]:
                    raise BenchError(f"{t.name}: update changed out.dvc of an up-to-date import")
            check_out(t)
        return after

    def _api(self, where: str) -> Callable[[Tool], list[str]]:
        def argv(t: Tool) -> list[str]:
            mod = "tide" if t.name == "tide" else "dvc"
            return [python_beside(t), "-c",
                    API_SNIPPET.format(mod=mod, path=READ_PATH, repo=where, md5=self.read_md5)]
        return argv

    def _compare_ls(self, r: OpResult, flags: list[str]) -> None:
        """Both tools' ``--json`` listing (untimed): the same entries, as many as the source holds."""
        outs = {}
        for t in self.lab.tools:
            proc = subprocess.run(t.command("ls", *flags, "--json", self.src), cwd=self.dir(t),
                                  env=self.lab.env(t), capture_output=True)
            outs[t.name] = json.loads(proc.stdout) if proc.returncode == 0 else None
        vals = list(outs.values())
        key = lambda e: e.get("path")  # noqa: E731
        norm = [sorted(v, key=key) if v else v for v in vals]
        files = sum(1 for e in norm[0] or [] if not e.get("isdir"))
        if files < self.n:
            raise BenchError(f"ls {' '.join(flags)}: {files} files listed, the source holds {self.n}")
        same = all(v == norm[0] for v in norm)
        r.note = "; ".join(x for x in (r.note, f"same --json from both, {files:,} files" if same
                                       else "the tools' --json differ") if x)
        self.lab.log(f"  ls {' '.join(flags)} --json: {r.note}")

    # --- running -----------------------------------------------------------------------------------
    def _measure(self, op: str, reset, args: list[str] | None, cwd: str = "",
                 after: Callable[[Tool], None] | None = None,
                 argv_for: Callable[[Tool], list[str]] | None = None) -> OpResult:
        from scenarios import OPS

        label = OPS[op][0]
        res = OpResult("registry", op)
        if args is not None:
            missing = [t.name for t in self.lab.tools if not self.lab.has(t, args[0])]
            if missing:
                res.pending = f"pending: `{' '.join(missing)} {args[0]}` does not exist yet"
                return res
        argv_for = argv_for or (lambda t: t.command(*args))
        self.lab.log(f"  {label} ...")
        t0 = time.perf_counter()
        load0 = os.getloadavg()[0]
        try:
            res.samples = run_pairs(self.lab.tools, reset, lambda t: (argv_for(t), self.dir(t, cwd)),
                                    lambda t: self.lab.env(t, cwd or "registry"), self.lab.pairs, after=after)
        except BenchError as exc:
            res.pending = "failed: " + " ".join(str(exc).split())[:300]
            self.lab.log(f"  {label}: {res.pending}")
            return res
        # the machine's 1-minute load average when the row began and ended: a busy machine squeezes ratios
        res.note = f"load {load0:.1f}-{os.getloadavg()[0]:.1f}"
        meds = ", ".join(f"{t.name} {res.median(t.name):.3f}s" for t in self.lab.tools)
        self.lab.log(f"  {label}: {meds} ({time.perf_counter() - t0:.0f}s, {res.note})")
        return res
