"""``tide demo``: the seed's whole system on embedded defaults, in ``./.demo``.

A project from ``tide init --example``, a local forge (a bare repository with PRs and comments on
disk, rendered as HTML), local remote storage, and a local runner. Then several simulated days of
``tide retrain``: each day the data grows, the model is retrained on the runner, versioned and
pushed, a PR and its report comment are opened, the gate decides, a promoted model is deployed and
its PR merged (standing in for the reviewer), a rejected one is left open. It ends by printing
where to look.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

from tide.core.errors import TideError, UsageError
from tide.core.fsutil import remove
from tide.core.git import Git

Say = Callable[[str], None]
FIRST_DAY = datetime.date(2026, 1, 1)
MARKER = ".tide-demo"   # written first into every directory the demo creates; only those are ever removed


@dataclass(frozen=True)
class DemoResult:
    workspace: str
    lines: tuple[str, ...]
    outcomes: tuple[str, ...]


def example_env(day: int | None = None) -> dict[str, str]:
    """The environment for the example's scripts: this Python first on PATH (it has scikit-learn)."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("GIT_AUTHOR_NAME", "tide demo")
    env.setdefault("GIT_AUTHOR_EMAIL", "demo@tide.invalid")
    env.setdefault("GIT_COMMITTER_NAME", "tide demo")
    env.setdefault("GIT_COMMITTER_EMAIL", "demo@tide.invalid")
    if day is not None:
        env["TIDE_DAY"] = str(day)
    return env


def check_example_deps() -> None:
    import importlib.util

    missing = [m for m in ("sklearn", "matplotlib", "joblib") if importlib.util.find_spec(m) is None]
    if missing:
        raise TideError(f"the demo needs {', '.join(missing)}; install them with: pip install 'tide-ml[example]'")


def tide_cli(cwd: str, *args: str, env: dict[str, str], say: Say, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "tide", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=False)
    if check and proc.returncode != 0:
        err = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        raise TideError(f"demo: 'tide {' '.join(args)}' failed: {err}", details=proc.stdout + proc.stderr)
    return proc


def _inside(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip(os.sep) + os.sep)


def claim_dir(path: str) -> str:
    """The demo's directory, emptied: created here, or one an earlier demo created (it holds MARKER).

    Anything else is refused in one line and left alone: a directory that is not empty and has no
    marker, the current directory or one holding it (so the repository the user is in), HOME, ``/``.
    """
    top = os.path.realpath(os.path.abspath(path))
    here = os.path.realpath(os.getcwd())
    home = os.path.realpath(os.path.expanduser("~"))
    if top == os.path.dirname(top) or _inside(here, top) or _inside(home, top):
        raise UsageError(f"--dir '{path}' holds the current directory, HOME or is '/'; give the demo a directory "
                         "of its own (default .demo)")
    if os.path.lexists(top) or os.path.islink(os.path.abspath(path)):
        marker = os.path.join(top, MARKER)
        if not os.path.isdir(top) or os.path.islink(os.path.abspath(path)):
            raise UsageError(f"--dir '{path}' exists and is not a directory; choose another --dir")
        if os.listdir(top) and not (os.path.isfile(marker) and not os.path.islink(marker)):
            raise UsageError(f"--dir '{path}' is not empty and was not made by 'tide demo'; choose another --dir "
                             "or empty it yourself")
        for name in os.listdir(top):
            if name != MARKER:
                remove(os.path.join(top, name))
    else:
        os.makedirs(top)
    with open(os.path.join(top, MARKER), "w", encoding="utf-8") as f:
        f.write("made by 'tide demo': the next demo run in this directory empties it\n")
    return top


def setup(top: str, say: Say) -> tuple[str, Git]:
    from tide.ops.example import init_example

    top = claim_dir(top)
    env = example_env()
    project = os.path.join(top, "project")
    init_example(project, nested=True)
    git = Git(project)
    for key, value in (("user.name", "tide demo"), ("user.email", "demo@tide.invalid"), ("commit.gpgsign", "false")):
        git.run("config", key, value)
    with open(os.path.join(project, "tide.yaml"), "a", encoding="utf-8") as f:
        f.write("# tide demo: train on the embedded local runner\n")
    _set_runner(project)
    git.run("add", "-A")
    git.run("commit", "-q", "-m", "Example project (tide init --example)")
    tide_cli(project, "forge", "init", os.path.join(top, "forge.git"), "--add-remote", "origin", env=env, say=say)
    tide_cli(project, "remote", "add", "-d", "storage", os.path.join(top, "storage"), env=env, say=say)
    git.run("commit", "-q", "-am", "Local remote storage")
    git.run("push", "-q", "origin", "main")
    say(f"[setup] example project {project}\n"
        f"[setup] local forge {os.path.join(top, 'forge.git')}, local storage {os.path.join(top, 'storage')}, "
        "local runner")
    return project, git


def _set_runner(project: str) -> None:
    path = os.path.join(project, "tide.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("retrain:\n  base: main\n", "retrain:\n  base: main\n  runner: local\n", 1)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def merge_and_sync(project: str, git: Git, pr_number: int) -> None:
    """The reviewer merges a promoted model's PR; the workspace follows main."""
    from tide.ops.checkout import checkout
    from tide.ops.forge import open_forge
    from tide.workspace.repo import Repo

    ctx = open_forge(project)
    pr = ctx.forge.get_pr(pr_number)
    ctx.forge.merge_pr(pr, "merge", False)
    git.run("fetch", "-q", "origin")
    git.run("reset", "-q", "--hard", "origin/main")
    repo = Repo(project)
    try:
        checkout(repo, None, force=True, cwd=project)
    finally:
        repo.close()


def reset_to_main(project: str, git: Git) -> None:
    """A rejected candidate stays in its PR; the workspace goes back to main and its model."""
    from tide.ops.checkout import checkout
    from tide.workspace.repo import Repo

    git.run("reset", "-q", "--hard", "origin/main")
    repo = Repo(project)
    try:
        checkout(repo, None, force=True, cwd=project)
    finally:
        repo.close()


def run_demo(path: str, days: int = 4, say: Say = lambda line: None) -> DemoResult:
    import json

    check_example_deps()
    top = os.path.abspath(path)
    project, git = setup(top, say)
    outcomes = []
    for day in range(days):
        date = (FIRST_DAY + datetime.timedelta(days=day * 2)).isoformat()
        say(f"\n=== day {day + 1} of {days} ({date}): tide retrain ===")
        proc = tide_cli(project, "retrain", "--day", date, "--json", env=example_env(day * 2), say=say, check=False)
        for line in proc.stderr.splitlines():  # --json: the step logs are on stderr, the result on stdout
            if line.startswith("["):
                say("  " + line)
        if proc.returncode != 0:
            err = (proc.stderr.strip().splitlines() or [""])[-1]
            raise TideError(f"demo: day {day + 1}: {err}", details=proc.stderr)
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        outcomes.append(res["outcome"])
        if res["outcome"] == "promoted":
            merge_and_sync(project, git, res["pr_number"])
            say(f"  [review] merged PR #{res['pr_number']}: {res['version']} is in production")
        else:
            reset_to_main(project, git)
            say(f"  [review] PR #{res['pr_number']} stays open: {res['version']} was {res['outcome']}")
    site = tide_cli(project, "forge", "show", env=example_env(), say=say).stdout.strip()
    registry = tide_cli(project, "model", "show", env=example_env(), say=say).stdout.rstrip()
    say("\nRegistry (GTO-compatible git tags):\n" + "\n".join("  " + ln for ln in registry.splitlines()))
    lines = (
        f"PRs and reports (HTML): {site}",
        f"project:                {project}",
        f"registry:               cd {project} && tide model show; tide model history example-model",
        f"promotion records:      {os.path.join(project, 'promotions', 'example-model')}",
        f"deployed model:         {os.path.join(project, 'deployed')}",
        f"remote storage:         {os.path.join(top, 'storage')}",
        f"web UI:                 cd {project} && tide ui --open   (needs pip install 'tide-ml[ui]')",
    )
    say("\nWhere to look:")
    for line in lines:
        say("  " + line)
    return DemoResult(project, lines, tuple(outcomes))
