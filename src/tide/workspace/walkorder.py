"""The order in which dvc meets the files of a workspace: ``os.walk`` from the root, top down, each
directory's files in listing order before its subdirectories. dvc's index (and so the order of
``dag`` nodes and of ``data status --not-in-remote``) follows it."""

from __future__ import annotations

import os


def walk_key(root: str):
    """Sort key giving dvc's walk order of files under ``root`` (os.walk, top down, listing order)."""
    listings: dict[str, dict[str, int]] = {}

    def pos(d: str, name: str) -> int:
        if d not in listings:
            try:
                listings[d] = {n: i for i, n in enumerate(os.listdir(d))}
            except OSError:
                listings[d] = {}
        return listings[d].get(name, len(listings[d]))

    def key(path: str) -> tuple:
        parts = os.path.relpath(path, root).split(os.sep)
        d, k = root, []
        for p in parts[:-1]:
            k.append((1, pos(d, p)))
            d = os.path.join(d, p)
        k.append((0, pos(d, parts[-1])))
        return tuple(k)

    return key
