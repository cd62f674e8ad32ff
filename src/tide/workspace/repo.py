"""Repo: the composition root of one repository (root, config, cache, state, ignore rules, git)."""

from __future__ import annotations

import os
from functools import cached_property

from tide.core.config import CACHE_TYPES, Config, Env, to_bool, to_int
from tide.core.errors import ConfigError, NotARepoError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:  # the parts are imported where they are made: a command imports only those it uses
    from tide.core.git import Git
    from tide.core.temps import TempJournal
    from tide.objects.cache import ObjectCache
    from tide.workspace.gitignore import IgnoreJournal
    from tide.workspace.hashing import Hasher
    from tide.workspace.ignore import Ignore
    from tide.workspace.lock import RepoLock
    from tide.workspace.state import State

DVC_DIR = ".dvc"


def find_repo_root(start: str) -> str | None:
    d = os.path.realpath(start)
    while True:
        if os.path.isdir(os.path.join(d, DVC_DIR)):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


class Repo:
    def __init__(self, root: str, env: Env | None = None) -> None:
        self.root = root
        self.env = env if env is not None else Env()

    def __repr__(self) -> str:
        return f"Repo({self.root!r})"

    @classmethod
    def find(cls, cwd: str | None = None, env: Env | None = None) -> Repo:
        cwd = cwd or os.getcwd()
        root = find_repo_root(cwd)
        if root is None:
            raise NotARepoError(
                "you are not inside a tide/dvc repository (no .dvc directory found); run 'tide init' first"
            )
        repo = cls(root, env or Env())
        repo.settings  # noqa: B018 - validate the config files up front, like dvc
        return repo

    @property
    def dvc_dir(self) -> str:
        return os.path.join(self.root, DVC_DIR)

    @property
    def tmp_dir(self) -> str:
        return os.path.join(self.dvc_dir, "tmp")

    @cached_property
    def config(self) -> Config:
        return Config(self.dvc_dir, self.env)

    @cached_property
    def settings(self) -> dict[str, dict[str, str]]:
        return self.config.merged()

    def option(self, name: str, default: str | None = None) -> str | None:
        section, _, key = name.rpartition(".")
        return self.settings.get(section, {}).get(key, default)

    @cached_property
    def no_scm(self) -> bool:
        return to_bool(self.option("core.no_scm", "false"), "core.no_scm")

    @cached_property
    def git(self) -> Git | None:
        if self.no_scm:
            return None
        from tide.core.git import Git, find_root  # subprocess is not needed by every command

        top = find_root(self.root)
        return Git(top) if top else None

    @cached_property
    def cache_dir(self) -> str:
        d = self.option("cache.dir")
        return d if d else os.path.join(self.dvc_dir, "cache")

    @cached_property
    def link_types(self) -> tuple[str, ...]:
        raw = self.option("cache.type") or "reflink,copy"
        types = tuple(t.strip() for t in raw.split(",") if t.strip())
        bad = [t for t in types if t not in CACHE_TYPES]
        if bad or not types:
            raise ConfigError(f"cache.type: unknown link type '{','.join(bad)}' (use {', '.join(CACHE_TYPES)})")
        return types

    @cached_property
    def cache(self) -> ObjectCache:
        from tide.objects.cache import ObjectCache

        shared = self.option("cache.shared") == "group"
        return ObjectCache(self.cache_dir, self.link_types, shared, temps=self.temps)

    @cached_property
    def temps(self) -> TempJournal:
        """tide's temporary files in the workspace, journaled (see core/temps.py)."""
        from tide.core.temps import TempJournal

        return TempJournal(os.path.join(self.tmp_dir, "tide", "temps"), self.root)

    @cached_property
    def state(self) -> State:
        from tide.workspace.state import State

        return State(os.path.join(self.tmp_dir, "tide", "state.db"))

    @cached_property
    def ignore(self) -> Ignore:
        from tide.workspace.ignore import Ignore

        return Ignore(self.root, self.temps)

    @cached_property
    def ignore_journal(self) -> IgnoreJournal:
        """The .gitignore entries the running command added, taken back if it fails (workspace/gitignore.py)."""
        from tide.workspace.gitignore import IgnoreJournal

        return IgnoreJournal(self.root)

    @cached_property
    def hasher(self) -> Hasher:
        from tide.workspace.hashing import Hasher

        jobs = self.option("core.checksum_jobs")
        return Hasher(self.root, self.state, self.ignore, to_int(jobs, "core.checksum_jobs") if jobs else None)

    @cached_property
    def autostage(self) -> bool:
        return to_bool(self.option("core.autostage", "false"), "core.autostage")

    def lock(self) -> RepoLock:
        from tide.workspace.lock import RepoLock

        timeout = float(self.env.get("TIDE_LOCK_TIMEOUT") or 3)
        # taking the lock deletes what killed tide processes left half-written (core/temps.py);
        # releasing it ends this process's journal: every temporary of its own is gone by then
        return RepoLock(os.path.join(self.tmp_dir, "lock"), timeout, self.temps.recover, self.temps.close)

    def rel(self, abspath: str) -> str:
        return os.path.relpath(abspath, self.root).replace(os.sep, "/")

    def close(self) -> None:
        if "state" in self.__dict__:
            self.state.close()
