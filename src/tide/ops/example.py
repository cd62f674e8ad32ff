"""The example project generator: ``tide init --example DIR`` and the workspace of ``tide demo``.

The files come from the ``tide.example`` package (package data); they are copied as they are, each
written atomically, and an existing file is never overwritten unless ``force`` is given.
"""

from __future__ import annotations

import os
from importlib import resources

from tide.core.errors import PathError
from tide.core.fsutil import atomic_write_bytes

FILES = ("get_data.py", "train.py", "params.yaml", "dvc.yaml", "tide.yaml", "requirements.txt")
GITIGNORE = "__pycache__/\n/deployed\n"


def example_files() -> dict[str, bytes]:
    pkg = resources.files("tide.example")
    out = {name: pkg.joinpath(name).read_bytes() for name in FILES}
    out[".gitignore"] = GITIGNORE.encode()
    return out


def write_example(dest: str, force: bool = False) -> list[str]:
    """Write the example's files into ``dest`` (created if missing); returns their names."""
    files = example_files()
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise PathError(f"'{dest}' exists and is not a directory")
    clash = [n for n in files if os.path.exists(os.path.join(dest, n)) and n != ".gitignore"]
    if clash and not force:
        raise PathError(f"'{dest}' already has {', '.join(clash)}; use --force to overwrite")
    os.makedirs(dest, exist_ok=True)
    written = []
    for name, data in files.items():
        path = os.path.join(dest, name)
        if name == ".gitignore" and os.path.exists(path):
            with open(path, "rb") as f:
                old = f.read()
            extra = b"".join(line + b"\n" for line in data.splitlines() if line not in old.splitlines())
            if not extra:
                continue
            data = old + (b"" if old.endswith(b"\n") or not old else b"\n") + extra
        atomic_write_bytes(path, data)
        written.append(name)
    return written


def init_example(dest: str, force: bool = False, nested: bool = False) -> str:
    """``tide init --example DIR``: git init DIR if needed, tide init it, write the example, stage it.
    ``nested``: DIR may be inside another git repository (it gets its own, as ``tide demo``'s does)."""
    from tide.core.git import Git, find_root
    from tide.ops.init import init

    dest = os.path.abspath(dest)
    os.makedirs(dest, exist_ok=True)
    top = find_root(dest)
    git = Git(dest)
    if top != os.path.realpath(dest):
        if top is not None and not nested:
            raise PathError(f"'{dest}' is inside the git repository '{top}'; choose a directory outside it")
        git.run("init", "-q", "-b", "main")
    write_example(dest, force=force)
    if not os.path.isdir(os.path.join(dest, ".dvc")):
        init(dest)
    git.add([*FILES, ".gitignore"])
    return dest


def next_steps(dest: str) -> list[str]:
    """Every step from ``tide init --example DEST`` to a ``tide retrain`` that runs, in order, on this
    machine alone (a local storage and the embedded local forge beside the project): the "Next:" lines.
    tests/retrain/test_issue18_check.py runs them and asks ``tide retrain --check``."""
    import shlex

    name = os.path.basename(os.path.abspath(dest).rstrip(os.sep)) or "example"
    return [f"cd {shlex.quote(dest)}",
            "pip install -r requirements.txt",
            f"tide remote add -d storage ../{shlex.quote(name + '-storage')}",
            f"tide forge init ../{shlex.quote(name + '-forge.git')} --add-remote origin",
            "git add -A && git commit -m 'example project' && git push -u origin main",
            "tide retrain"]
