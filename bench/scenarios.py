"""The operations benchmarked on each workload, with the setup that puts both tools in the same state.

Every tool gets its own repository, remote and clone under ``<work>/runs/<workload>/<tool>/``; the
timed command is the same argv for both (``add data``, ``status``, ``push`` ...). Setup steps that
are not being measured (git commits, clones, planting garbage) run untimed between the runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from harness import FILES_FLOOR, STAGES_FLOOR, BenchError, OpResult, Tool, Trash, run_pairs, sh, time_shell
from workloads import Workload

# scenarios.Suite._files_floor's timed process: argv listing ("object<TAB>file" lines), cache type
FILES_FLOOR_SCRIPT = """
import os, shutil, sys, threading
groups = {}
for line in open(sys.argv[1]).read().split("\\n"):
    src, dst = line.split("\\t")
    groups.setdefault(os.path.dirname(dst), []).append((src, dst))
for d in groups:
    os.makedirs(d, exist_ok=True)
make = {"hardlink": os.link, "symlink": os.symlink}.get(sys.argv[2], shutil.copyfile)
def work(dirs):
    for d in dirs:
        for src, dst in groups[d]:
            make(src, dst)
dirs = sorted(groups)
threads = [threading.Thread(target=work, args=(dirs[i::2],)) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""

# op key -> (row label, short name)
OPS: dict[str, tuple[str, str]] = {
    "add": ("add", "add"),
    "add-noop": ("add again, nothing changed", "noop"),
    "status": ("status, nothing changed", "status"),
    "status-touched": ("status after touching 1% of files", "status"),
    "push": ("push to a local-directory remote", "push"),
    "push-noop": ("push with nothing to send", "noop"),
    "pull": ("pull into a fresh clone", "pull"),
    "checkout": ("checkout after deleting the workspace copy", "checkout"),
    "checkout-noop": ("checkout with nothing to do", "noop"),
    "gc": ("gc -w (1% of objects unused)", "gc"),
    "push-s3": ("push to S3 (moto server)", "push"),
    "pull-s3": ("pull from S3 into a fresh clone", "pull"),
    "push-s3lite": ("push to S3 (s3lite server: clients measured)", "push"),
    "pull-s3lite": ("pull from S3 (s3lite) into a fresh clone", "pull"),
    # issue 26's rows: measured on the mid-size workloads (bench/run.py --only mid), and on the
    # others only when --ops names them (MORE_OPS: not in the default run, which keeps its time)
    "add-half": ("add after changing half the files", "add"),
    "status-first": ("status, first run after the data was added", "status"),
    "diff": ("diff after changing half the files (added, not committed)", "diff"),
    "fetch": ("fetch into a fresh clone", "fetch"),
    "pull-noop": ("pull with nothing to do", "noop"),
    "checkout-force": ("checkout --force after adding a file to the directory", "checkout"),
    "gc-c": ("gc -w -c (1% of objects unused, in the cache and on the remote)", "gc"),
    "repro": ("repro of a two-stage pipeline over the data", "repro"),
    "repro-noop": ("repro with nothing changed", "noop"),
    # issue 22's rows (bench/exps.py): the workload "exps", run by `--only exp` or one of these names
    "exp-show": ("exp show -A, 200 experiments on 20 commits (each tool's cache filled)", "exp"),
    "exp-show-cold": ("exp show -A, 200 experiments on 20 commits, first run (no cache)", "exp"),
    "exp-run": ("exp run -S of a two-stage pipeline (both stages run)", "exp"),
    "exp-sweep": ("12-point -S sweep queued, then run on 2 workers", "exp"),
    # issue 19's rows (bench/registry_rows.py): the workload "registry", a 10,000-file source read by both tools
    "get": ("get SRC data -o out (local path)", "get"),
    "import": ("import SRC data -o out into a fresh repository (local path)", "import"),
    "ls": ("ls -R SRC (local path)", "ls"),
    "ls-dvc-only": ("ls -R --dvc-only SRC (local path)", "ls"),
    "update-noop": ("update of an import that is up to date (local path)", "noop"),
    "api-read": ("api.read of one file, a fresh python process (local path)", "api"),
    "get-git": ("get file://SRC data -o out (git URL: clone, data from the remote)", "get"),
    "import-git": ("import file://SRC data -o out into a fresh repository (git URL)", "import"),
    "update-noop-git": ("update of an import that is up to date (git URL)", "noop"),
    "api-read-git": ("api.read of one file, a fresh python process (git URL)", "api"),
}
S3_OPS = {"push-s3", "pull-s3", "push-s3lite", "pull-s3lite"}  # push-<remote>, pull-<remote>
MORE_OPS = {"add-half", "status-first", "diff", "fetch", "pull-noop", "checkout-force", "gc-c", "repro",
            "repro-noop"}

# the pipeline of the repro rows: each file reversed into prepared/, then one line per file
PREP_PY = """import os, sys
for d, _, fs in os.walk("data"):
    for f in fs:
        with open(os.path.join(d, f), "rb") as src:
            b = src.read()
        out = os.path.join("prepared", os.path.relpath(d, "data"))
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, f), "wb") as dst:
            dst.write(b[::-1])
"""
SUMS_PY = """import hashlib, os
rows = []
for d, _, fs in os.walk("prepared"):
    for f in fs:
        with open(os.path.join(d, f), "rb") as src:
            rows.append(f"{hashlib.md5(src.read()).hexdigest()}  {os.path.join(d, f)}")
with open("sums.txt", "w") as out:
    out.write("\\n".join(sorted(rows)) + "\\n")
"""
DVC_YAML = """stages:
  prep:
    cmd: python3 prep.py
    deps:
    - prep.py
    - data
    outs:
    - prepared
  sums:
    cmd: python3 sums.py
    deps:
    - sums.py
    - prepared
    outs:
    - sums.txt
"""


@dataclass
class Lab:
    """Shared settings of one benchmark run."""

    work: str
    tools: list[Tool]
    pairs: int
    base_env: dict[str, str]
    s3_pairs: int = 2
    s3: list = field(default_factory=list)  # s3server servers (MotoServer, S3LiteServer) whose rows are wanted
    trash: Trash | None = None  # where resets put what they clear (deleted after the run)
    log: Callable[[str], None] = print
    _has: dict[tuple[str, str], bool] = field(default_factory=dict)

    def env(self, tool: Tool, site: str = "repo") -> dict[str, str]:
        env = dict(self.base_env)
        env.update(tool.env)
        env["DVC_SITE_CACHE_DIR"] = self.site_dir(tool, site)
        for server in self.s3:
            env.update(server.env())
        return env

    def discard(self, path: str) -> None:
        if self.trash is None:
            self.trash = Trash(os.path.join(self.work, "trash"))
        self.trash.discard(path)

    def site_dir(self, tool: Tool, site: str) -> str:
        return os.path.join(self.work, "site", tool.name, site)

    def has(self, tool: Tool, command: str) -> bool:
        """Whether ``tool`` has ``command`` (tide grows commands over time; missing ones are pending)."""
        key = (tool.name, command)
        if key not in self._has:
            proc = subprocess.run(tool.command(command, "--help"), env=self.env(tool), capture_output=True)
            self._has[key] = proc.returncode == 0
        return self._has[key]


class Suite:
    """All operations of one workload, for all tools, in dependency order."""

    def __init__(self, lab: Lab, wl: Workload, want: set[str]) -> None:
        self.lab = lab
        self.wl = wl
        self.want = want
        self.base = os.path.join(lab.work, "runs", wl.key)

    # --- paths -----------------------------------------------------------------------------------
    def repo(self, t: Tool) -> str:
        return os.path.join(self.base, t.name, "repo")

    def remote(self, t: Tool) -> str:
        return os.path.join(self.base, t.name, "remote")

    def clone(self, t: Tool) -> str:
        return os.path.join(self.base, t.name, "clone")

    def files(self, t: Tool) -> list[str]:
        root = self.repo(t)
        out = []
        for target in self.wl.targets:
            p = os.path.join(root, target)
            if os.path.isdir(p):
                out.extend(os.path.join(d, f) for d, _, fs in os.walk(p) for f in fs)
            else:
                out.append(p)
        return sorted(out)

    # --- setup -----------------------------------------------------------------------------------
    def prepare(self) -> None:
        for t in self.lab.tools:
            self.lab.discard(os.path.join(self.base, t.name))
            self.lab.discard(os.path.join(self.lab.work, "site", t.name))
            repo = self.repo(t)
            os.makedirs(os.path.dirname(repo))
            sh(["cp", "-a", self.wl.src, repo])
            sh(["git", "init", "-q", "-b", "main"], cwd=repo)
            sh(t.command("init"), cwd=repo, env=self.lab.env(t))
            with open(os.path.join(repo, ".dvc", "config"), "a") as f:
                f.write(f"[core]\n    remote = local\n['remote \"local\"']\n    url = {self.remote(t)}\n")
                for server in self.lab.s3:
                    f.write(server.remote_config(_bucket(t)))
                if self.wl.cache_type:
                    f.write(f"[cache]\n    type = {self.wl.cache_type}\n")
            sh(["git", "add", "-A", ".dvc", ".dvcignore"], cwd=repo)
            sh(["git", "commit", "-q", "-m", "init"], cwd=repo, env=self.lab.env(t))

    def _add_state_reset(self, t: Tool) -> None:
        repo = self.repo(t)
        self.lab.discard(os.path.join(repo, ".dvc", "cache"))
        self.lab.discard(os.path.join(repo, ".dvc", "tmp", "tide"))
        self.lab.discard(self.lab.site_dir(t, "repo"))
        for target in self.wl.targets:
            _unlink(os.path.join(repo, target + ".dvc"))
            if self.wl.cache_type in ("hardlink", "symlink"):
                # the workspace files are links into the cache just cleared: put plain files back
                self.lab.discard(os.path.join(repo, target))
                sh(["cp", "-a", os.path.join(self.wl.src, target), os.path.join(repo, target)])
            _unlink(os.path.join(repo, os.path.dirname(target), ".gitignore"))

    def _commit(self, t: Tool, msg: str) -> None:
        repo = self.repo(t)
        sh(["git", "add", "-A", "."], cwd=repo)
        sh(["git", "commit", "-q", "--allow-empty", "-m", msg], cwd=repo, env=self.lab.env(t))

    # --- running ---------------------------------------------------------------------------------
    def measure(
        self, op: str, reset: Callable[[Tool], None], args: list[str], where: Callable[[Tool], str] | None = None,
        site: str = "repo", needs: str | None = None, pairs: int | None = None,
    ) -> OpResult:
        label, _ = OPS[op]
        res = OpResult(self.wl.key, op)
        command = needs or args[0]
        missing = [t.name for t in self.lab.tools if not self.lab.has(t, command)]
        if missing:
            res.pending = f"pending: `{' '.join(missing)} {command}` does not exist yet"
            self.lab.log(f"  {label}: {res.pending}")
            return res
        where = where or self.repo
        self.lab.log(f"  {label} ...")
        t0 = time.perf_counter()
        try:
            res.samples = self._pairs(reset, args, where, site, pairs)
        except BenchError as exc:
            # one failing operation is a finding, not the end of the run: report it and go on
            res.samples = {}
            res.pending = "failed: " + " ".join(str(exc).split())[:300]
            self.lab.log(f"  {label}: {res.pending}")
            return res
        res.note = f"{pairs} pairs, no warm-up" if pairs else ""
        meds = ", ".join(f"{t.name} {res.median(t.name):.3f}s" for t in self.lab.tools)
        self.lab.log(f"  {label}: {meds} ({time.perf_counter() - t0:.0f}s)")
        return res

    def _pairs(self, reset, args, where, site, pairs):
        return run_pairs(
            self.lab.tools, reset, lambda t: (t.command(*args), where(t)), lambda t: self.lab.env(t, site),
            pairs or self.lab.pairs, warmup=0 if pairs else 1,
        )

    def run(self) -> list[OpResult]:
        results = self._run()
        if self.wl.key.startswith(("mid", "tiny")):  # issue 26: a no-op's floor, in the same run
            floor = self._stat_floor()
            for r in results:
                if r.samples and (r.op.endswith("-noop") or r.op == "status"):
                    r.limit, r.limit_name = floor, "start-up + a stat per file"
                elif r.samples and r.op == "repro":
                    r.limit, r.limit_name = self._stages_floor(), STAGES_FLOOR
                elif r.samples and r.op == "checkout":
                    r.limit, r.limit_name = self._files_floor(), FILES_FLOOR
        return results

    def _stages_floor(self) -> float:
        """The repro row's floor: the pipeline's two commands run by hand in the tide repository, their
        outputs taken away before each run as for the row (what any tool's repro costs at least: a
        ratio above dvc / this floor cannot be reached)."""
        t = self.lab.tools[0]
        script = "python3 prep.py && python3 sums.py"  # the stage commands of DVC_YAML, in order
        return time_shell(["sh", "-c", script], 3, cwd=self.repo(t), reset=lambda: self._unrun_pipeline(t),
                          env=self.lab.env(t))

    def _files_floor(self) -> float:
        """The checkout row's floor: a fresh Python process makes each tracked file from its object in the
        tide repository's cache as the cache type makes it (a copy, a hard link, a symbolic link to the
        object's path) on two threads, each in its own directories, as tide does; nothing else (no
        manifest read, no state written). The pairs are listed beforehand from the tide repository's
        manifest; the files go to a scratch directory of the work directory (the same filesystem)."""
        import yaml

        repo = self.repo(self.lab.tools[0])
        cache = os.path.join(repo, ".dvc", "cache", "files", "md5")
        dst = os.path.join(self.lab.work, "files-floor", self.wl.key)
        lines = []
        for target in self.wl.targets:
            with open(os.path.join(repo, target + ".dvc")) as f:
                oid = yaml.safe_load(f)["outs"][0]["md5"]
            with open(os.path.join(cache, oid[:2], oid[2:])) as f:
                for e in json.load(f):
                    obj = os.path.join(cache, e["md5"][:2], e["md5"][2:])
                    lines.append(f"{obj}\t{os.path.join(dst, target, e['relpath'])}")
        listing = os.path.join(self.lab.work, f"files-floor-{self.wl.key}.txt")
        with open(listing, "w") as f:
            f.write("\n".join(lines))
        seconds = time_shell([sys.executable, "-c", FILES_FLOOR_SCRIPT, listing, self.wl.cache_type or "copy"], 3,
                             reset=lambda: self.lab.discard(dst))
        self.lab.discard(dst)
        return seconds

    def _stat_floor(self) -> float:
        """Python's start-up plus one ``stat`` of each tracked file (issue 26's no-op floor): a fresh
        Python process that stats every file of the tide repository's workspace, listed beforehand."""
        repo = self.repo(self.lab.tools[0])
        paths = [os.path.join(d, f) for target in self.wl.targets
                 for d, _, fs in os.walk(os.path.join(repo, target)) for f in fs]
        listing = os.path.join(self.lab.work, f"stat-floor-{self.wl.key}.txt")
        with open(listing, "w") as f:
            f.write("\n".join(paths))
        script = "import os, sys\nfor p in open(sys.argv[1]).read().split('\\n'):\n    os.stat(p)\n"
        return time_shell([sys.executable, "-c", script, listing], 10)

    def _run(self) -> list[OpResult]:
        lab, wl = self.lab, self.wl
        results: list[OpResult] = []
        lab.log(f"workload {wl.key}: {wl.title}")
        self.prepare()
        # add (the state it leaves is what every later operation starts from)
        if "add" in self.want:
            results.append(self.measure("add", self._add_state_reset, ["add", *wl.targets]))
        else:
            for t in lab.tools:
                self._add_state_reset(t)
                sh(t.command("add", *wl.targets), cwd=self.repo(t), env=lab.env(t))
        if "add-noop" in self.want:
            results.append(self.measure("add-noop", lambda t: None, ["add", *wl.targets]))
        for t in lab.tools:
            self._commit(t, "track data")

        if "status" in self.want:
            results.append(self.measure("status", lambda t: None, ["status"]))
        if "status-touched" in self.want:
            results.append(self.measure("status-touched", self._touch, ["status"]))

        self._remote_rows(results, "local", ["push"], ["pull"], "push", "push-noop", "pull")
        if "checkout" in self.want:
            results.append(self.measure("checkout", self._delete_workspace, ["checkout"]))
        if "checkout-noop" in self.want:
            results.append(self.measure("checkout-noop", lambda t: None, ["checkout"]))
        if "gc" in self.want:
            results.append(self.measure("gc", self._plant_garbage, ["gc", "-w", "-f"]))
        self._more_rows(results)
        for server in lab.s3:  # the remote is named after the server: s3 (moto), s3lite
            r = server.name
            self._remote_rows(results, server, ["push", "-r", r], ["pull", "-r", r], f"push-{r}", None, f"pull-{r}")
        return results

    def _more_rows(self, results: list[OpResult]) -> None:
        """issue 26's rows, after the standard ones (the repositories hold the added data, committed,
        pushed to the local remote; the clones hold a pull)."""
        want = self.want
        if "pull-noop" in want and "pull" in want:
            results.append(self.measure("pull-noop", lambda t: None, ["pull"], where=self.clone, site="clone"))
        if "fetch" in want:
            results.append(self.measure("fetch", self._fresh_clone, ["fetch"], where=self.clone, site="clone"))
        if "checkout-force" in want:
            results.append(self.measure("checkout-force", self._add_stray_file, ["checkout", "--force"]))
        if "gc-c" in want:
            results.append(self.measure("gc-c", self._plant_garbage_both, ["gc", "-w", "-c", "-f"]))
        if "status-first" in want:
            results.append(self.measure("status-first", self._fresh_add, ["status"]))
        if want & {"add-half", "diff"}:
            for t in self.lab.tools:
                self._commit(t, "track data again")
        if "add-half" in want:
            results.append(self.measure("add-half", self._change_half, ["add", *self.wl.targets]))
        if "diff" in want:
            if "add-half" not in want:
                for t in self.lab.tools:
                    self._change_half(t)
                    sh(t.command("add", *self.wl.targets), cwd=self.repo(t), env=self.lab.env(t))
            results.append(self.measure("diff", lambda t: None, ["diff"]))
        if want & {"repro", "repro-noop"} and self.wl.targets == ("data",):
            for t in self.lab.tools:
                for name, text in (("prep.py", PREP_PY), ("sums.py", SUMS_PY), ("dvc.yaml", DVC_YAML)):
                    with open(os.path.join(self.repo(t), name), "w") as f:
                        f.write(text)
            if "repro" in want:
                results.append(self.measure("repro", self._unrun_pipeline, ["repro"]))
            if "repro-noop" in want:
                if "repro" not in want:
                    for t in self.lab.tools:
                        sh(t.command("repro"), cwd=self.repo(t), env=self.lab.env(t))
                results.append(self.measure("repro-noop", lambda t: None, ["repro"]))

    def _remote_rows(self, results, kind, push_args, pull_args, push_op, noop_op, pull_op) -> None:
        """``kind``: "local", or the S3 server of the remote."""
        lab = self.lab
        empty = self._empty_local_remote if kind == "local" else lambda t: self._empty_s3(kind, t)
        # moto's rows are long and server-bound: --s3-pairs, no warm-up; s3lite's are measured as
        # the local rows are (a warm-up, then --pairs): they are short and measure the clients
        pairs = lab.s3_pairs if kind != "local" and kind.name == "s3" else None
        measured = False
        if push_op in self.want:
            r = self.measure(push_op, empty, push_args, pairs=pairs)
            results.append(r)
            measured = not r.pending
        if not measured:
            # fill the remotes untimed; a tool without push gets its remote filled by dvc (same layout)
            dvc = next(t for t in lab.tools if t.name == "dvc")
            for t in lab.tools:
                empty(t)
                pusher = t if lab.has(t, "push") else dvc
                sh(pusher.command(*push_args), cwd=self.repo(t), env=lab.env(pusher))
        if noop_op and noop_op in self.want:
            results.append(self.measure(noop_op, lambda t: None, push_args))
        if pull_op in self.want:
            results.append(
                self.measure(pull_op, self._fresh_clone, pull_args, where=self.clone, site="clone", pairs=pairs)
            )

    # --- resets ----------------------------------------------------------------------------------
    def _touch(self, t: Tool) -> None:
        files = self.files(t)
        k = max(1, len(files) // 100)
        now = time.time_ns()
        for i, p in enumerate(files[:: max(1, len(files) // k)][:k]):
            os.utime(p, ns=(now + i, now + i))

    def _empty_local_remote(self, t: Tool) -> None:
        self.lab.discard(self.remote(t))
        os.makedirs(self.remote(t))
        self._forget_remote(t)

    def _empty_s3(self, server, t: Tool) -> None:
        server.empty(_bucket(t))
        self._forget_remote(t)

    def _forget_remote(self, t: Tool) -> None:
        """Both tools remember what a remote holds (dvc in its site cache, tide in .dvc/tmp/tide);
        an emptied remote must be forgotten, or the next push would rightly send nothing."""
        _drop_remote_index(self.lab.site_dir(t, "repo"))
        self.lab.discard(os.path.join(self.repo(t), ".dvc", "tmp", "tide", "remote-index"))

    def _fresh_clone(self, t: Tool) -> None:
        self.lab.discard(self.clone(t))
        self.lab.discard(self.lab.site_dir(t, "clone"))
        sh(["git", "clone", "-q", self.repo(t), self.clone(t)])

    def _delete_workspace(self, t: Tool) -> None:
        for target in self.wl.targets:
            p = os.path.join(self.repo(t), target)
            self.lab.discard(p)

    def _add_stray_file(self, t: Tool) -> None:
        """A new untracked file in the tracked directory, which ``checkout --force`` removes."""
        with open(os.path.join(self.repo(t), self.wl.targets[0], "stray.bin"), "wb") as f:
            f.write(b"stray\n" * 1000)

    def _fresh_add(self, t: Tool) -> None:
        """The state a first ``status`` meets: the data added a moment ago (untimed)."""
        self._add_state_reset(t)
        sh(t.command("add", *self.wl.targets), cwd=self.repo(t), env=self.lab.env(t))

    _round = 0

    def _change_half(self, t: Tool) -> None:
        """Rewrite the first 64 bytes of every other file (new bytes each time, the same for both
        tools); a link into the cache is replaced by a plain file, as an editing user does."""
        import random

        if t is self.lab.tools[0]:
            self._round += 1
        rng = random.Random(self._round)
        for p in self.files(t)[::2]:
            with open(p, "rb") as f:
                data = bytearray(f.read())
            data[:64] = rng.randbytes(64)
            os.unlink(p)
            with open(p, "wb") as f:
                f.write(data)

    def _unrun_pipeline(self, t: Tool) -> None:
        """As if the pipeline never ran: no outputs, no lock file, no run cache."""
        repo = self.repo(t)
        for name in ("prepared", "sums.txt", "dvc.lock", os.path.join(".dvc", "cache", "runs")):
            p = os.path.join(repo, name)
            if os.path.isdir(p) and not os.path.islink(p):
                self.lab.discard(p)
            else:
                _unlink(p)

    def _plant_garbage_both(self, t: Tool) -> None:
        """Unused objects in the cache and the same number on the remote."""
        self._plant_garbage(t)
        self._plant_garbage(t, os.path.join(self.remote(t), "files", "md5"))

    def _plant_garbage(self, t: Tool, root: str | None = None) -> None:
        """Put unused objects (1% of the workload's file count, at least one) into the cache."""
        import hashlib

        root = root or os.path.join(self.repo(t), ".dvc", "cache", "files", "md5")
        for i in range(max(1, self.wl.nfiles // 100)):
            data = f"garbage {t.name} {i} {time.time_ns()}".encode()
            oid = hashlib.md5(data).hexdigest()
            d = os.path.join(root, oid[:2])
            os.makedirs(d, exist_ok=True)
            p = os.path.join(d, oid[2:])
            with open(p, "wb") as f:
                f.write(data)
            os.chmod(p, 0o444)


def _bucket(t: Tool) -> str:
    return f"bench-{t.name}"


def _unlink(p: str) -> None:
    try:
        os.unlink(p)
    except FileNotFoundError:
        pass


def _drop_remote_index(site: str) -> None:
    """dvc remembers what a remote holds in its site cache; forget it when the remote is emptied."""
    for d, dirs, _ in os.walk(site):
        for name in list(dirs):
            if name == "index":
                shutil.rmtree(os.path.join(d, name), ignore_errors=True)
                dirs.remove(name)


__all__ = ["Lab", "MORE_OPS", "OPS", "S3_OPS", "Suite", "BenchError"]
