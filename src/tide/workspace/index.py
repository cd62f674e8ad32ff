"""Finding and loading every ``.dvc`` pointer file of the workspace."""

from __future__ import annotations

import os
from collections.abc import Iterable

from tide.workspace.ignore import ALWAYS, Ignore

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from tide.workspace.pointers import PointerFile

SUFFIX = ".dvc"  # pointers.SUFFIX: finding .dvc files needs not the parser (exp show's warm run lists them)
LOCK_NAME = "dvc.lock"
YAML_NAME = "dvc.yaml"


def find_pointer_files(root: str, ignore: Ignore) -> list[str]:
    return find_dvc_files(root, ignore)[0]


def find_dvc_files(root: str, ignore: Ignore, unreadable: list[str] | None = None) -> tuple[list[str], list[str]]:
    """Absolute paths of all ``*.dvc`` files and of all ``dvc.yaml`` files, skipping ignored dirs and
    directories tracked by a sibling ``NAME.dvc`` (a pointer file can never live inside a tracked output).
    ``unreadable``: where to note directories that could not be listed (gc must not go on)."""
    found: list[str] = []
    pipelines: list[str] = []
    stack = [(root, "")]
    while stack:
        d, rel = stack.pop()
        try:
            entries = list(os.scandir(d))
        except (FileNotFoundError, NotADirectoryError):
            continue
        except PermissionError:
            if unreadable is not None:
                unreadable.append(f"directory '{rel or '.'}' of the workspace: permission denied")
            continue
        names = {e.name for e in entries}
        for e in entries:
            sub = f"{rel}/{e.name}" if rel else e.name
            if e.is_dir(follow_symlinks=False):
                if e.name in ALWAYS or (e.name + SUFFIX) in names:
                    continue
                if ignore.is_ignored(sub, is_dir=True):
                    continue
                stack.append((e.path, sub))
            elif e.name.endswith(SUFFIX) and e.name != SUFFIX and e.is_file():
                if not ignore.is_ignored(sub):
                    found.append(e.path)
            elif e.name == YAML_NAME and e.is_file() and not ignore.is_ignored(sub):
                pipelines.append(e.path)
    return sorted(found), sorted(pipelines)


def load_all(root: str, ignore: Ignore, paths: Iterable[str] | None = None) -> list[PointerFile]:
    from tide.workspace.pointers import load

    files = find_pointer_files(root, ignore) if paths is None else list(paths)
    return [load(p, root) for p in files]


def pointer_for_target(root: str, target_abspath: str) -> str:
    """Accept either ``data`` or ``data.dvc`` and return the pointer file path."""
    if target_abspath.endswith(SUFFIX) and os.path.isfile(target_abspath):
        return target_abspath
    return target_abspath + SUFFIX
