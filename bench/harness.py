"""Timing machinery: run one command, measure wall time and peak RSS, pair two tools A B A B.

Peak memory is the kernel's ``ru_maxrss`` of the command and of every descendant it waited for
(git, for instance), taken through GNU time so that it does not start at this process's size.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Tool:
    name: str
    argv: tuple[str, ...]  # the executable (and fixed leading arguments)
    env: tuple[tuple[str, str], ...] = ()

    def command(self, *args: str) -> list[str]:
        return [*self.argv, *args]


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    rss_kb: int  # peak resident set size, KiB
    rc: int
    err: str = ""
    cpu: float = 0.0  # user + system CPU seconds of the process and the children it waited for


class BenchError(RuntimeError):
    pass


GNU_TIME = "/usr/bin/time"


def run_measured(argv: list[str], cwd: str, env: dict[str, str]) -> Sample:
    """Run ``argv`` to completion; wall time from spawn to reap, peak RSS of the process tree.

    The kernel's peak-RSS figure survives ``exec`` and so starts at the size of the process that
    forked: spawned from this Python process, every command would inherit its ~50 MB. GNU time
    (a 1 MB process) does the fork instead and reports the child's ``ru_maxrss`` (children it
    waited for included); without it, ``wait4`` on our own child is the fallback.
    """
    import tempfile

    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        use_time = os.path.exists(GNU_TIME)
        full = [GNU_TIME, "-q", "-f", "%M %U %S", "-o", rss_file.name, *argv] if use_time else argv
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # stderr is small for these commands; read it before reaping so a chatty tool never blocks
        err = proc.stderr.read() if proc.stderr else b""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.stderr:
            proc.stderr.close()
        rss = int(usage.ru_maxrss)
        cpu = usage.ru_utime + usage.ru_stime  # GNU time's own, without it: the command's
        if use_time:
            try:
                fields = rss_file.read().strip().splitlines()[-1].split()
                rss, cpu = int(fields[0]), float(fields[1]) + float(fields[2])
            except (ValueError, IndexError):
                pass
    return Sample(wall, rss, proc.returncode, err.decode("utf-8", "replace")[-2000:], cpu)


class Trash:
    """Where resets put the trees they clear: renamed aside during the run, deleted after it.

    Deleting a tree of many files between timed runs would charge the deletion to whichever tool
    runs next. On ext4 without a journal (this VM's root filesystem) the inode allocator skips
    every inode freed in the last minute (six while its inode block is dirty), re-reading the
    block of each to learn that (``recently_deleted`` in fs/ext4/ialloc.c). After a 10,000-file
    tree was deleted, every file created in the next minutes cost up to 30× its usual system time
    (perf: ~70% of the time in ``recently_deleted``; ``cp -r`` of 10,000 files took 9.1 s instead of
    0.3 s), an amount added to both tools' times that squeezed every ratio towards 1.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self._n = 0

    def discard(self, path: str) -> None:
        """Take ``path`` out of the way: a directory of many files is renamed into the trash; a file
        or a directory of few files (a 1 GB workload: keeping those would fill the disk) is deleted,
        a few freed inodes cost nothing measurable."""
        if os.path.isdir(path) and not os.path.islink(path) and not _few_files(path):
            os.makedirs(self.root, exist_ok=True)
            self._n += 1
            os.rename(path, os.path.join(self.root, f"{os.getpid()}-{self._n}"))
        elif os.path.isdir(path) and not os.path.islink(path):
            import shutil

            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.unlink(path)

    def empty(self) -> None:
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)


def _few_files(path: str, limit: int = 1000) -> bool:
    """Whether the tree at ``path`` holds at most ``limit`` entries (stops counting past it)."""
    n = 0
    for _, dirs, files in os.walk(path):
        n += len(dirs) + len(files)
        if n > limit:
            return False
    return True


def sh(argv: list[str], cwd: str | None = None, env: dict[str, str] | None = None) -> str:
    """Run an untimed setup command; fail loudly with its output."""
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"setup command failed: {' '.join(argv)} (in {cwd})\n{proc.stdout}{proc.stderr}")
    return proc.stdout


# the limit_names of the floors that are what any tool must do at least: the repro row's (the stage
# commands, scenarios.Suite._stages_floor) and the checkout row's (the files made from the cache alone,
# scenarios.Suite._files_floor); report.verdict tells from them when a floor puts the row's ratio out of
# any tool's reach
STAGES_FLOOR = "the two stage commands alone"
FILES_FLOOR = "the files alone (2 threads)"
FLOORS = (STAGES_FLOOR, FILES_FLOOR)


@dataclass
class OpResult:
    workload: str
    op: str
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    note: str = ""
    pending: str = ""  # reason the row could not be measured (e.g. a tide command not written yet)
    limit: float | None = None  # the machine's raw limit for this operation, seconds
    limit_name: str = ""
    target: str = ""

    def median(self, tool: str) -> float | None:
        s = self.samples.get(tool)
        return statistics.median(x.wall for x in s) if s else None

    def cpu(self, tool: str) -> float | None:
        """Median CPU seconds (user + system) of the tool's runs."""
        s = self.samples.get(tool)
        return statistics.median(x.cpu for x in s) if s else None

    def peak_rss_mb(self, tool: str) -> float | None:
        s = self.samples.get(tool)
        return max(x.rss_kb for x in s) / 1024 if s else None

    def ratio(self, a: str = "dvc", b: str = "tide") -> float | None:
        """Median of the per-pair ratios a/b."""
        sa, sb = self.samples.get(a), self.samples.get(b)
        if not sa or not sb:
            return None
        return statistics.median(x.wall / max(y.wall, 1e-9) for x, y in zip(sa, sb, strict=False))


def run_pairs(
    tools: list[Tool],
    reset: Callable[[Tool], None],
    timed: Callable[[Tool], tuple[list[str], str]],
    env_for: Callable[[Tool], dict[str, str]],
    pairs: int,
    warmup: int = 1,
    after: Callable[[Tool], None] | None = None,
) -> dict[str, list[Sample]]:
    """Warm up each tool, then run ``pairs`` rounds of A B (A B ...), resetting before every run.

    ``timed(tool)`` returns the argv and working directory of the timed command. A failing command
    stops the benchmark of this operation with its error text.
    """
    out: dict[str, list[Sample]] = {t.name: [] for t in tools}
    for i in range(warmup + pairs):
        for tool in tools:
            reset(tool)
            argv, cwd = timed(tool)
            os.sync()  # equalise: no dirty pages of the setup left for the timed command to flush
            s = run_measured(argv, cwd, env_for(tool))
            if s.rc != 0:
                raise BenchError(f"{tool.name}: '{' '.join(argv[len(tool.argv):])}' exited {s.rc}\n{s.err}")
            if after is not None:
                after(tool)
            if i >= warmup:
                out[tool.name].append(s)
    return out


def time_shell(argv: list[str], runs: int, cwd: str | None = None, reset: Callable[[], None] | None = None,
               env: dict[str, str] | None = None) -> float:
    """Median wall time of a raw-limit command."""
    times = []
    for _ in range(runs):
        if reset:
            reset()
        os.sync()
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
