"""``tide demo``: the seed example run end to end on embedded defaults, in ``./.demo``.

Version 1 (this file grows with the retrain loop): a git workspace, ``tide init``, the example
project, ``tide repro`` (data from make_classification, a RandomForest), ``tide status``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

from tide.core.errors import TideError
from tide.core.fsutil import remove
from tide.core.git import Git

Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoResult:
    workspace: str
    lines: tuple[str, ...]


def example_env(day: int | None = None) -> dict[str, str]:
    """The environment for the example's scripts: this Python first on PATH (it has scikit-learn)."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.setdefault("MPLBACKEND", "Agg")
    if day is not None:
        env["TIDE_DAY"] = str(day)
    return env


def run_script(cwd: str, script: str, env: dict[str, str], say: Say) -> None:
    proc = subprocess.run([sys.executable, script], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise TideError(f"demo: '{script}' failed: {tail}", details=proc.stderr)
    for line in proc.stdout.strip().splitlines():
        say(f"    {line}")


def render_status(status: dict) -> str:
    if not status:
        return "    Data and pipelines are up to date."
    lines = []
    for name, entries in status.items():
        lines.append(f"    {name}:")
        for e in entries:
            if isinstance(e, str):
                lines.append(f"        {e}")
            else:
                for kind, changes in e.items():
                    lines.append(f"        {kind}: " + ", ".join(f"{p} ({s})" for p, s in changes.items()))
    return "\n".join(lines)


def check_example_deps() -> None:
    import importlib.util

    missing = [m for m in ("sklearn", "matplotlib", "joblib") if importlib.util.find_spec(m) is None]
    if missing:
        raise TideError(
            f"the demo needs {', '.join(missing)}; install them with: pip install 'tide[example]'"
        )


def new_workspace(path: str, say: Say) -> Git:
    from tide.ops.example import write_example
    from tide.ops.init import init

    if os.path.exists(path):
        remove(path)
    os.makedirs(path)
    git = Git(path)
    git.run("init", "-q", "-b", "main")
    for key, value in (("user.name", "tide demo"), ("user.email", "demo@tide.invalid"), ("commit.gpgsign", "false")):
        git.run("config", key, value)
    init(path)
    write_example(path)
    git.run("add", "-A")
    git.run("commit", "-q", "-m", "Example project (tide init --example)")
    say(f"[workspace] git init, tide init and the example project in {path}")
    return git


def run_demo(path: str, say: Say = print) -> DemoResult:
    check_example_deps()
    from tide.core.config import Env
    from tide.ops.repro import ReproRequest, reproduce
    from tide.ops.status import workspace_status
    from tide.workspace.repo import Repo

    path = os.path.abspath(path)
    git = new_workspace(path, say)
    repo = Repo(path, Env(example_env(day=0)))
    try:
        say("[pipeline] tide repro (get_data.py: make_classification; train.py: RandomForest)")
        res = reproduce(repo, ReproRequest(), cwd=path, say=lambda line: say("    " + line) if line else None)
        say(f"[version] model and data are in the cache; dvc.lock records them ({len(res.ran)} stages ran)")
        git.add(res.git_files + ["dvc.lock", "model/metrics.txt", "model/metrics.json", "model/confusion_matrix.png",
                                 "model/predictions.csv"])
        git.run("commit", "-q", "-m", "Model trained on day 0")
        status = workspace_status(repo, cwd=path)
    finally:
        repo.close()
    say("[status] tide status")
    say(render_status(status))
    lines = (
        f"workspace:        {path}",
        f"pipeline lock:    {os.path.join(path, 'dvc.lock')}",
        f"metrics:          {os.path.join(path, 'model', 'metrics.txt')}",
        f"confusion matrix: {os.path.join(path, 'model', 'confusion_matrix.png')}",
        f"cache:            {os.path.join(path, '.dvc', 'cache')}",
    )
    say("\nWhere to look:")
    for line in lines:
        say("  " + line)
    return DemoResult(path, lines)
