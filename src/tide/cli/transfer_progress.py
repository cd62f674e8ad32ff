"""What push, pull, fetch and checkout print: a rich progress bar on a terminal, one summary line in CI logs,
dvc's change lines and file counts."""

from __future__ import annotations

import sys
import time


def is_interactive(env) -> bool:
    return sys.stderr.isatty() and not env.get("CI") and env.get("TERM") != "dumb"


class RichProgress:
    """Objects, bytes, rate and ETA, redrawn on stderr while a transfer runs."""

    def __init__(self, verb: str, console=None) -> None:  # a rich Console (tests pass one)
        import threading

        self._verb = verb
        self._console = console
        self._progress = None  # rich is imported when there is something to show, not before
        self._task = None
        self._lock = threading.Lock()
        self._started = False
        self._t0 = time.monotonic()

    def start(self, objects: int, nbytes: int | None) -> None:
        if objects == 0:
            return
        with self._lock:
            if self._progress is None:
                from rich.console import Console
                from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

                self._progress = Progress(
                    TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[detail]}"),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=self._console or Console(stderr=True),
                    transient=True,
                )
            if not self._started:
                self._progress.start()
                self._started = True
            if self._task is not None:
                self._progress.remove_task(self._task)
            self._objects, self._done, self._bytes, self._total_bytes = objects, 0, 0, nbytes
            self._t0 = time.monotonic()
            self._task = self._progress.add_task(self._desc(), total=objects, detail="")

    def _desc(self) -> str:
        return f"{self._verb} {self._done}/{self._objects} files"

    def advance(self, nbytes: int) -> None:
        with self._lock:
            if self._task is None:
                return
            self._done += 1
            self._bytes += nbytes
            elapsed = max(1e-3, time.monotonic() - self._t0)
            total = f"/{human_bytes(self._total_bytes)}" if self._total_bytes else ""
            detail = f"{human_bytes(self._bytes)}{total} {human_bytes(int(self._bytes / elapsed))}/s"
            self._progress.update(self._task, advance=1, description=self._desc(), detail=detail)

    def close(self) -> None:
        with self._lock:
            if self._started:
                self._progress.stop()
                self._started = False
                self._task = None


class Timer:
    def __init__(self) -> None:
        self.t0 = time.monotonic()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.t0


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def counts(pairs) -> str:
    """dvc's ``get_summary``: ``3 files fetched, 1 file modified and 2 files added`` (zero counts left out)."""
    words = [f"{n} file{'s' if n > 1 else ''} {kind}" for kind, n in pairs if n]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + (" and " + words[-1] if words else "")


def change_lines(res) -> list[str]:
    """A checkout's changed outputs as dvc prints them: modified, added, deleted, each ``X<TAB>path``
    through rich, which expands the tab to column 8."""
    return [f"{mark:<8}{p}" for mark, paths in (("M", res.modified), ("A", res.added), ("D", res.deleted))
            for p in paths]


def summary_line(verb: str, objects: int, nbytes: int, seconds: float, then=()) -> str:
    """dvc's summary of a transfer (``then``: the checkout's counts after a pull's), and what tide adds to
    it: the bytes moved, the time, the rate."""
    rate = f", {human_bytes(int(nbytes / seconds))}/s" if seconds > 0.05 and nbytes else ""
    return f"{counts([(verb, objects), *then])} ({human_bytes(nbytes)} in {seconds:.1f}s{rate})"


def make_progress(verb: str, quiet: bool, env):
    if quiet or not is_interactive(env):
        return None
    return RichProgress(verb)
