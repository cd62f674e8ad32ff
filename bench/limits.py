"""The machine's raw limits, measured in the same run as the tools: what no tool can beat."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from harness import time_shell


@dataclass(frozen=True)
class Limits:
    md5_mb_s: float | None = None  # Python hashlib.md5, 1 MiB reads, warm page cache
    md5_big: float | None = None  # seconds to md5 the big file
    cp_big: float | None = None  # `cp` of the big file
    cp_r_small: float | None = None  # `cp -r` of the small-files tree
    python_startup: float | None = None  # `python -c pass`

    def rows(self) -> list[tuple[str, str]]:
        out = []
        if self.md5_mb_s:
            out.append(("md5 throughput (Python hashlib, 1 MiB reads)", f"{self.md5_mb_s:,.0f} MB/s"))
        if self.md5_big is not None:
            out.append(("md5 of the big file", f"{self.md5_big:.2f} s"))
        if self.cp_big is not None:
            out.append(("`cp` of the big file", f"{self.cp_big:.2f} s"))
        if self.cp_r_small is not None:
            out.append(("`cp -r` of the small-files directory", f"{self.cp_r_small:.2f} s"))
        if self.python_startup is not None:
            out.append(("Python start-up (`python -c pass`)", f"{self.python_startup * 1000:.0f} ms"))
        return out


def md5_file(path: str) -> float:
    t0 = time.perf_counter()
    h = hashlib.md5(usedforsecurity=False)
    buf = bytearray(1 << 20)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(memoryview(buf)[:n])
    return time.perf_counter() - t0


def measure(work: str, big: str | None, small_dir: str | None, runs: int = 3,
            discard: Callable[[str], None] | None = None) -> Limits:
    """``discard``: how a copy of the small-files tree is cleared between runs (the harness's Trash:
    deleting it would slow the next copy down; see harness.Trash)."""
    discard = discard or (lambda p: shutil.rmtree(p, ignore_errors=True))
    scratch = os.path.join(work, "limits")
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    md5_big = md5_mb_s = cp_big = cp_r = None
    if big:
        md5_file(big)  # warm the page cache, as the tools see it
        times = sorted(md5_file(big) for _ in range(runs))
        md5_big = times[len(times) // 2]
        md5_mb_s = os.path.getsize(big) / md5_big / 1e6
        dst = os.path.join(scratch, "big.copy")
        cp_big = time_shell(["cp", big, dst], runs, reset=lambda: _rm(dst))
        _rm(dst)
    if small_dir:
        dst = os.path.join(scratch, "small.copy")
        cp_r = time_shell(["cp", "-r", small_dir, dst], runs, reset=lambda: discard(dst))
        discard(dst)
    py = time_shell([sys.executable, "-c", "pass"], 10)
    shutil.rmtree(scratch, ignore_errors=True)
    return Limits(md5_mb_s, md5_big, cp_big, cp_r, py)


def _rm(p: str) -> None:
    try:
        os.unlink(p)
    except FileNotFoundError:
        pass


def machine() -> dict[str, str]:
    """A short description of the machine the run happened on."""
    import platform

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / (1 << 20):.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": f"{os.cpu_count()} × {cpu}",
        "memory": mem,
        "os": platform.platform(),
        "python": sys.version.split()[0],
    }


def filesystem(path: str) -> str:
    try:
        out = subprocess.run(["df", "-T", path], capture_output=True, text=True, check=True).stdout
        return out.splitlines()[1].split()[1]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "?"
