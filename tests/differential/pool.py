"""Worker processes for the differential runs: each worker holds one runner (its own fork servers, templates
and work directory) and runs tasks ``fn(runner, *args)``; results come back in submission order, so what a
run reports depends on its seed, never on the number of workers or on which worker ran what.

``jobs <= 1`` runs every task in this process (no worker), with the same functions. Workers are spawned
(a fresh interpreter each), so a script that calls a run must guard its top level with
``if __name__ == "__main__":``.

``scratch(work)``: where the sequences' repositories go. A run writes and deletes thousands of small
repositories and both tools sync and fsync their databases; on a RAM file system (/dev/shm) that costs about
an eighth less CPU and a fifth less time than on a disk. The compared state does not depend on it (neither
ext4 nor tmpfs has reflinks: cache.type reflink fails alike). ``TIDE_DIFFTEST_SCRATCH=DIR`` chooses another
directory; set to the empty string, the run stays under its work directory.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

_RUNNER = None


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@contextlib.contextmanager
def scratch(work: Path, name: str):
    """A fresh directory for a run's repositories (removed afterwards), on /dev/shm when it has room."""
    want = os.environ.get("TIDE_DIFFTEST_SCRATCH")
    base = None
    if want:
        base = Path(want)
    elif want is None and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        st = os.statvfs("/dev/shm")
        if st.f_bavail * st.f_frsize >= 2 << 30:
            base = Path("/dev/shm")
    if base is None:
        yield Path(work) / name
        return
    base.mkdir(parents=True, exist_ok=True)
    d = Path(tempfile.mkdtemp(prefix=f"tide-{name}-", dir=base))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _make(factory: str, work: Path):
    mod, _, name = factory.partition(":")
    return getattr(importlib.import_module(mod), name)(work)


_SPEC: tuple[str, str] | None = None


def _init(factory: str, work: str) -> None:
    global _SPEC
    _SPEC = (factory, work)


def _call(fn: Callable, args: tuple):
    global _RUNNER
    if _RUNNER is None:   # made by the first task, so that a failure to start reaches the driver as it is
        from multiprocessing import util

        factory, work = _SPEC
        _RUNNER = _make(factory, Path(work) / f"w{os.getpid()}")
        # a worker exits through multiprocessing (no atexit): a finalizer stops its fork servers
        util.Finalize(_RUNNER, _RUNNER.close, exitpriority=10)
    return fn(_RUNNER, *args)


class Pool:
    """``Pool(jobs, "tests.differential.engine:Runner", work)``; ``submit(fn, *args)`` -> Future."""

    def __init__(self, jobs: int, factory: str, work: Path):
        self.jobs = max(1, jobs)
        self._runner = None
        self._ex = None
        if self.jobs == 1:
            self._runner = _make(factory, Path(work))
        else:
            # spawn: a clean interpreter per worker (the driver may hold threads; a fork would copy them)
            self._ex = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=_init, initargs=(factory, str(work)))

    def submit(self, fn: Callable, *args) -> Future:
        if self._ex is not None:
            return self._ex.submit(_call, fn, args)
        f: Future = Future()
        try:
            f.set_result(fn(self._runner, *args))
        except BaseException as e:  # handed to the caller through the future
            f.set_exception(e)
        return f

    def close(self) -> None:
        if self._ex is not None:
            self._ex.shutdown(wait=True, cancel_futures=True)
            self._ex = None
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
