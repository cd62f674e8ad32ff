"""A DVC repository to read data from (``tide ls/get/import/update``, ``tide.api``): a local path or a
git URL, at a revision, as dvc's ``Repo.open(url, rev)`` sees it.

- A local path without ``--rev`` is read as its workspace: git-side files and ``.dvc`` files from
  the disk (dvc does the same; ``rev_lock`` is still its HEAD commit).
- A local path with ``--rev`` is read from its own git objects (no clone).
- Any other URL (``file://``, ``https://``, ``ssh://``, ``git@host:x``) is cloned bare into a
  temporary directory, shallow when the revision is a branch or tag, and removed on ``close()``.

Tracked data comes from the source's cache (local sources) and then from the source's default
remote, through tide's transfer engine (``provide``).

Subrepos (directories with their own ``.dvc/``, ``dvc init --subdir``): their ``.dvc`` directories are
hidden like the top's, and the data of their outputs comes from their own cache and remote (each
location is tried in turn: the top's, then each subrepo's, ``locations``). ``ls`` hides a subrepo
from a listing of a directory above it, as dvc does (``registry_ls``).
"""

from __future__ import annotations

import os
import stat
from collections import namedtuple

from tide.core import utf8, yamlio
from tide.core.config import Config, Env
from tide.core.errors import GitError, MissingError, TideError
from tide.ops.registry_config import config_sections, strings
from tide.ops.registry_gitside import local_path, unignored
from tide.workspace import pointers
from tide.workspace.pointers import Out

MAX_CHAIN = 8  # imports of imports followed this deep (a cycle of repositories ends here)
VROOT = "/__tide_source__"  # the root .dvc files of a revision are parsed against (never touched)

# one entry of the git side: kind "file" or "dir"; size in bytes (a git tree's object size, as dvc)
Node = namedtuple("Node", "isdir size isexec")


class SourceError(TideError):
    pass


class SourceConfig(Config):
    """The source's config at the revision: ``.dvc/config`` from git (written to a temporary file),
    ``config.local`` from the disk for a local source; relative paths resolve against the source."""

    def __init__(self, files: dict[str, str], base_dir: str, env: Env) -> None:
        super().__init__(base_dir, env)
        self._files = files

    def path(self, level: str) -> str:
        if level in ("repo", "local"):
            return self._files.get(level, os.path.join(self.dvc_dir, "no such config"))
        return super().path(level)

    def _resolve_path(self, level: str, value: str) -> str:
        if "://" in value or os.path.isabs(value) or not value:
            return value
        if level in ("repo", "local"):
            return os.path.normpath(os.path.join(self.dvc_dir, value))
        return super()._resolve_path(level, value)


class Source:
    def __init__(self, url: str, rev: str | None = None, env: Env | None = None, remote: str | dict | None = None,
                 full: bool = False, config: str | dict | None = None, remote_config: dict | None = None) -> None:
        import tempfile

        from tide.core.git import Git

        self.url = url
        # what dvc's RepoDependency holds in ``repo.remote``: a remote of the source's config to read data
        # from (default: its default), or options merged into that remote; ``repo.config``: a config file
        # (or its dict) merged over the source's config
        self.remote = remote if isinstance(remote, str) else None
        self.remote_config = dict(remote) if isinstance(remote, dict) else None
        if remote_config:  # tide.api's remote_config beside a remote name (dvc.api's)
            self.remote_config = {**(self.remote_config or {}), **remote_config}
        self.config = config
        self.full = full  # a clone with every branch and tag (the model registry's tags), never shallow
        self.rev = rev
        self.env = env or Env()
        self._tmp = tempfile.mkdtemp(prefix="tide-source-")
        self._outs: list[tuple[str, Out]] | None = None
        self._tree: dict[str, Node] | None = None
        self._raw: dict[str, Node] = {}
        self._imports: dict[str, dict] = {}
        self._settings: dict[str, dict[str, dict[str, str]]] = {}
        self._subrepos: list[str] = []
        local = local_path(url)
        try:
            if local is not None:
                local = os.path.abspath(local)
                if not os.path.isdir(local):
                    raise SourceError(f"'{url}' is not a directory or a git repository URL")
                self.local: str | None = local
                self.workspace = rev is None and not url.startswith("file://")
                if url.startswith("file://") and rev is None:
                    self.git = self._clone(url, None)
                else:
                    from tide.core.git import find_root

                    top = find_root(local)
                    if (top is None or os.path.realpath(top) != os.path.realpath(local)) and not self.workspace:
                        raise SourceError(f"'{url}' is not the top of a git repository")
                    self.git = Git(local)
            else:
                self.local = None
                self.workspace = False
                self.git = self._clone(url, rev)
            if self.workspace:
                proc = self.git.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
                self.sha = proc.stdout.decode().strip() if proc.returncode == 0 else None
            else:
                self.sha = self.git.resolve(rev or "HEAD")
        except BaseException:
            self.close()
            raise

    # --- opening ---------------------------------------------------------------------------------
    def _clone(self, url: str, rev: str | None):
        from tide.core.git import Git

        dest = os.path.join(self._tmp, "repo.git")
        base = Git(self._tmp, env={"GIT_TERMINAL_PROMPT": "0"})  # a server asking for a login: fail, never wait
        shallow = [] if self.full else ["--depth=1"] + (["-b", rev] if rev else [])
        proc = base.run("clone", "--bare", "--quiet", *shallow, "--", url, dest, check=False)
        if proc.returncode != 0 and shallow and rev:  # a commit id: shallow clones take only branch or tag names
            import shutil

            shutil.rmtree(dest, ignore_errors=True)
            proc = base.run("clone", "--bare", "--quiet", "--", url, dest, check=False)
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise SourceError(f"cannot clone '{url}': {err[-1] if err else 'git clone failed'}")
        return Git(dest)

    def close(self) -> None:
        import shutil

        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def root(self) -> str:
        return self.local if self.workspace else VROOT

    # --- git side --------------------------------------------------------------------------------
    def tree(self) -> dict[str, Node]:
        """Every file and directory of the git side (workspace: the disk), ``.git``/``.dvc`` and what
        the source's ``.dvcignore`` files ignore left out (as dvc's DVCFileSystem shows it)."""
        if self._tree is None:
            self._raw = self._disk_tree() if self.workspace else self._git_tree()
            self._tree = unignored(self.read_many, self._raw)
        return self._tree

    def subrepos(self) -> list[str]:
        """The repository-relative paths of the subrepos (directories holding a ``.dvc``), sorted."""
        self.tree()
        return self._subrepos

    def locations(self) -> list[str]:
        """Where data may live: ``""`` (the top) first, then each subrepo."""
        return ["", *self.subrepos()]

    def ignored_file(self, rel: str) -> Node | None:
        """A git-side file ``.dvcignore`` hides from listings: dvc still gets it when named itself."""
        shown = self.tree()
        node = self._raw.get(rel)
        return node if node is not None and not node.isdir and rel not in shown else None

    def _git_tree(self) -> dict[str, Node]:
        fmt = "--format=%(objectmode) %(objecttype) %(objectsize)%x09%(path)"
        raw = self.git.run("ls-tree", "-r", "-z", "--full-tree", fmt, self.sha).stdout
        out: dict[str, Node] = {}
        dirs: set[str] = set()
        found: set[str] = set()
        for rec in raw.decode("utf-8", errors="surrogateescape").split("\0"):
            if not rec:
                continue
            meta, path = rec.split("\t", 1)
            mode, kind, size = meta.split()
            if kind != "blob":
                continue
            if path.startswith(".dvc/") or "/.dvc/" in path:
                if "/.dvc/" in path:  # a subrepo's own files: hidden, as the top's
                    found.add(path.split("/.dvc/", 1)[0])
                continue
            out[path] = Node(False, int(size), mode == "100755")
            parent = path.rpartition("/")[0]
            while parent and parent not in dirs:
                dirs.add(parent)
                parent = parent.rpartition("/")[0]
        if dirs:  # a directory's size is its git tree object's, as dvc shows it
            order = sorted(dirs)
            req = "".join(f"{self.sha}:{d}\n" for d in order).encode("utf-8", errors="surrogateescape")
            raw = self.git.run("cat-file", "--batch", input=req).stdout
            pos = 0
            for d in order:
                nl = raw.index(b"\n", pos)
                parts = raw[pos:nl].split()
                pos = nl + 1
                size = int(parts[2]) if len(parts) == 3 else None
                if size is not None:
                    pos += size + 1
                out[d] = Node(True, size if parts[1:2] == [b"tree"] else None, False)
        self._subrepos = sorted(found)
        return out

    def _disk_tree(self) -> dict[str, Node]:
        out: dict[str, Node] = {}
        base = self.local
        self._subrepos = []
        for d, dirs, files in os.walk(base):
            rel_d = os.path.relpath(d, base).replace(os.sep, "/")
            rel_d = "" if rel_d == "." else rel_d + "/"
            if rel_d and ".dvc" in dirs:
                self._subrepos.append(rel_d[:-1])
            dirs[:] = [x for x in dirs if x not in (".git", ".dvc")]
            for name in dirs + files:
                try:
                    st = os.stat(os.path.join(d, name))
                except OSError:
                    continue
                out[rel_d + name] = Node(stat.S_ISDIR(st.st_mode), st.st_size, bool(st.st_mode & stat.S_IXUSR)
                                         and not stat.S_ISDIR(st.st_mode))
        self._subrepos.sort()
        return out

    def root_size(self) -> int | None:
        """The size dvc shows for the repository's top: its git tree object's (the directory's on disk
        for a workspace)."""
        if self.workspace:
            return os.stat(self.local).st_size
        head = self.git.run("cat-file", "--batch", input=f"{self.sha}^{{tree}}\n".encode()).stdout.split(b"\n", 1)[0]
        parts = head.split()
        return int(parts[2]) if len(parts) == 3 and parts[1] == b"tree" else None

    def read(self, rel: str) -> bytes | None:
        """A git-side file's bytes (None when absent)."""
        if self.workspace:
            try:
                with open(os.path.join(self.local, rel), "rb") as f:
                    return f.read()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                return None
        return self.git.read_files(self.sha, [rel]).get(rel)

    def read_many(self, rels: list[str]) -> dict[str, bytes]:
        if self.workspace:
            return {r: b for r in rels if (b := self.read(r)) is not None}
        return self.git.read_files(self.sha, rels)

    # --- dvc side --------------------------------------------------------------------------------
    def outs(self) -> list[tuple[str, Out]]:
        """``(repo-relative posix path, Out)`` of every output in ``.dvc`` files and ``dvc.lock`` files."""
        if self._outs is None:
            from tide.pipeline.lockfile import LOCK_NAME, counted_outs

            names = [p for p, n in self.tree().items() if not n.isdir and (
                p.endswith(pointers.SUFFIX) or p.rsplit("/", 1)[-1] == LOCK_NAME)]
            outs: list[tuple[str, Out]] = []
            for name, raw in self.read_many(names).items():
                path = os.path.join(self.root, name)
                where = f"{self.url}:{name}"
                try:
                    data = yamlio.loads(raw.decode("utf-8"), where)
                    if name.endswith(pointers.SUFFIX):
                        found = list(pointers.parse(data, path, self.root, where).outs)
                    else:
                        found = [o for _, o in counted_outs(data, self.root, path, where, _Texts(self))]
                except (UnicodeDecodeError, TideError):
                    continue
                dep = _repo_dep(data) if name.endswith(pointers.SUFFIX) else None
                for o in found:
                    if o.md5 is not None and o.use_cache:
                        rel = os.path.relpath(o.abspath, self.root).replace(os.sep, "/")
                        outs.append((rel, o))
                        if dep is not None:
                            self._imports[rel] = dep
            self._outs = sorted(outs, key=lambda x: x[0])
        return self._outs

    def imports(self) -> dict[str, dict]:
        """``{output path: its repo dependency}`` of the source's own imports (``.dvc`` files with
        ``deps: [{path, repo: {url, rev_lock ...}}]``)."""
        self.outs()
        return self._imports

    def settings(self, where: str = "") -> dict[str, dict[str, str]]:
        """The source's config at the revision with ``config`` merged over it, ``remote`` as its
        default remote and ``remote_config`` merged into that remote (dvc's ``Config.load``).
        ``where``: a subrepo's (``locations``)."""
        if where not in self._settings:
            settings = self._read_settings(where)
            for sec, vals in config_sections(self.config).items():
                settings.setdefault(sec, {}).update(vals)
            if self.remote and not where:  # the options name the top's remote (a subrepo has its own)
                settings.setdefault("core", {})["remote"] = self.remote
            if self.remote_config and not where:
                name = self.remote or settings.get("core", {}).get("remote")
                if not name:
                    raise SourceError(f"'{self.url}' has no default remote to apply the remote config to "
                                      "(name one with --remote)")
                settings.setdefault(f"remote.{name}", {}).update(strings(self.remote_config))
            self._settings[where] = settings
        return self._settings[where]

    def _read_settings(self, where: str = "") -> dict[str, dict[str, str]]:
        files: dict[str, str] = {}
        dvc = f"{where}/.dvc" if where else ".dvc"
        if self.workspace:
            return Config(os.path.join(self.local, dvc), self.env).merged()
        raw = self.git.read_files(self.sha, [f"{dvc}/config"]).get(f"{dvc}/config")
        if raw is not None:
            files["repo"] = os.path.join(self._tmp, f"config-{len(self._settings)}")
            with open(files["repo"], "wb") as f:
                f.write(raw)
        if self.local is not None and os.path.exists(os.path.join(self.local, dvc, "config.local")):
            files["local"] = os.path.join(self.local, dvc, "config.local")
        base = os.path.join(self.local, dvc) if self.local else os.path.join(self._tmp, dvc)
        return SourceConfig(files, base, self.env).merged()

    def cache_dir(self, where: str = "") -> str | None:
        if self.local is None:
            return None
        d = self.settings(where).get("cache", {}).get("dir")
        return d or os.path.join(self.local, where, ".dvc", "cache")

    def rev_lock(self) -> str:
        if self.sha is None:
            raise SourceError(f"'{self.url}' has no commits: an import needs a commit to lock")
        return self.sha

    # --- data ------------------------------------------------------------------------------------
    def scratch_cache(self):
        """A cache in the temporary directory (removed on close) for what is only read once."""
        from tide.objects.cache import ObjectCache

        return ObjectCache(os.path.join(self._tmp, "cache"), ("copy",))

    def manifest(self, oid: str, legacy: bool = False) -> bytes:
        """The bytes of a ``.dir`` manifest (from the source's cache, else its remote)."""
        from tide.objects.ref import ObjRef

        cache = self.scratch_cache()
        if not cache.exists(oid, legacy):
            self.provide(cache, [ObjRef(oid, legacy)], [], manifests_only=True)
        return cache.read_bytes(oid, legacy)

    def resolved_remote(self):
        """The source's remote to read data from (``remote`` or its default), resolved."""
        from tide.ops.remote import resolve

        settings = self.settings()
        name = self.remote or settings.get("core", {}).get("remote")
        if not name:
            raise MissingError(f"'{self.url}' has no default remote")
        return resolve(settings, name)

    def open_object(self, ref):
        """A binary stream of one object: the source's cache file when it is there, else a stream
        from its remote (nothing downloaded first)."""
        from tide.objects.cache import ObjectCache

        local_cache = self.cache_dir()
        if local_cache:
            path = ObjectCache(local_cache).path(ref.oid, ref.legacy)
            if os.path.isfile(path):
                return open(path, "rb")  # the caller closes it
        if self.subrepos():  # which location holds it is not known: provided (downloaded) first
            scratch = self.scratch_cache()
            self.provide(scratch, [ref], [])
            return open(scratch.path(ref.oid, ref.legacy), "rb")
        rem = _open(self.resolved_remote(), None, self.env, self)
        try:
            stream = rem.store.open(ref)
        except Exception:
            rem.close()
            raise
        return _Closing(stream, rem)

    def provide(self, cache, files, dirs, jobs: int | None = None, progress=None,
                manifests_only: bool = False, depth: int = 0) -> None:
        """Bring file objects ``files`` and directories ``dirs`` (``ObjRef``s, with their contents)
        into ``cache`` (an ``ObjectCache``): from the source's cache first, then its default remote.
        ``manifests_only``: ``files`` are ``.dir`` manifests wanted without their contents."""
        from tide.objects import transfer

        fetch = _manifests if manifests_only else transfer.fetch
        files, dirs = list(dict.fromkeys(files)), list(dict.fromkeys(dirs))
        res, name = None, None
        for where in self.locations():  # the top, then each subrepo: its cache, then its remote
            found, got, named = self._provide_from(where, cache, files, dirs, jobs, progress, fetch)
            if found:
                return
            if named:  # the last remote tried is the one reported
                res, name = got, named
        if self._from_imports(cache, files, dirs, jobs, progress, manifests_only, depth):
            return
        if not name:
            raise MissingError(f"data of '{self.url}' is not in its cache and it has no default remote")
        n = len(res.missing_remote) or len(res.failed) or len(res.corrupt) or 1 if res else 1
        raise MissingError(f"{n} objects of '{self.url}' are neither in its cache nor on its remote "
                           f"'{name}' (were they pushed?)")

    def _provide_from(self, where: str, cache, files, dirs, jobs, progress, fetch):
        """``provide`` from one location: (nothing missing after, the remote's result, the remote's name)."""
        from tide.objects import transfer

        missing_from = transfer.missing_from
        local_cache = self.cache_dir(where)
        if local_cache and os.path.isdir(local_cache) and os.path.realpath(local_cache) != os.path.realpath(cache.root):
            store = _store_at(local_cache, self.env)
            try:
                fetch(cache, store, files, dirs, jobs or 1, None, verify=False)
            finally:
                store.close()
        if not objects_missing(cache, files, dirs, missing_from):
            return True, None, None
        settings = self.settings(where)
        name = (self.remote if not where else None) or settings.get("core", {}).get("remote")
        res = None
        if name:
            from tide.ops.data_scope import OpenRemote
            from tide.ops.fetch import verify_downloads
            from tide.ops.remote import resolve

            rr = resolve(settings, name)
            rem: OpenRemote = _open(rr, jobs, self.env, self)
            self.last_remote = rem.spec.url
            try:
                res = fetch(cache, rem.store, files, dirs, rem.jobs, progress, verify=verify_downloads(rem.spec))
            finally:
                rem.close()
            if res.ok and not objects_missing(cache, files, dirs, missing_from):
                return True, res, name
        return False, res, name

    def _from_imports(self, cache, files, dirs, jobs, progress, manifests_only: bool, depth: int) -> bool:
        """An import of an import: what neither the source's cache nor its remote has, when it is (in)
        an output the source itself imported, comes from that import's source at its ``rev_lock``
        (and so on, ``MAX_CHAIN`` deep), as dvc follows it. True when nothing is missing after."""
        from tide.objects.ref import ObjRef
        from tide.objects.transfer import missing_from

        imports = self.imports()
        if not imports or depth >= MAX_CHAIN:
            return False
        outs = dict(self.outs())
        for rel, dep in imports.items():
            files_left = missing_from(cache, files)
            dirs_left = missing_from(cache, dirs)
            if not files_left and not dirs_left and not objects_missing(cache, files, dirs, missing_from):
                return True
            out = outs[rel]
            ref = ObjRef(out.md5, out.legacy)
            if not (ref in files_left or ref in dirs_left or out.is_dir):
                continue
            info = dep["repo"]
            options = {k: info[k] for k in ("config", "remote") if info.get(k)}
            try:
                with open_source(info["url"], info["rev_lock"], self.env, **options) as up:
                    if ref in files_left and manifests_only:
                        up.provide(cache, [ref], [], jobs, progress, manifests_only=True, depth=depth + 1)
                    elif out.is_dir:
                        up.provide(cache, [], [ref], jobs, progress, depth=depth + 1)
                    else:
                        up.provide(cache, [ref], [], jobs, progress, depth=depth + 1)
            except TideError:
                continue  # not there either: the caller reports what is missing
        return not objects_missing(cache, files, dirs, missing_from)


def _repo_dep(data: object) -> dict | None:
    """The ``deps[0]`` of an import's ``.dvc`` data when it names a repository and a locked revision."""
    deps = data.get("deps") if isinstance(data, dict) else None
    dep = deps[0] if isinstance(deps, list) and len(deps) == 1 and isinstance(deps[0], dict) else None
    info = dep.get("repo") if dep else None
    if (isinstance(info, dict) and isinstance(info.get("url"), str) and isinstance(info.get("rev_lock"), str)
            and isinstance(dep.get("path"), str)):
        return dep
    return None


class _Closing:
    """A stream that closes the remote it came from with itself."""

    def __init__(self, stream, rem) -> None:
        self._stream, self._rem = stream, rem

    def __getattr__(self, name: str):
        return getattr(self._stream, name)

    def read(self, n: int = -1) -> bytes:
        return self._stream.read(n)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._rem.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _manifests(cache, store, files, dirs, jobs, progress, verify=True):
    """``transfer.fetch`` for manifests alone (``tide ls`` reads a directory without its files)."""
    from tide.objects.ref import TransferResult
    from tide.objects.transfer import download, missing_from

    res = TransferResult()
    for ref in missing_from(cache, files):
        try:
            res.nbytes += download(cache, store, ref)
            res.transferred += 1
        except Exception:  # absent here: the next place is tried, then reported
            res.missing_remote.append(ref)
    return res


def objects_missing(cache, files, dirs, missing_from) -> bool:
    from tide.core import manifest
    from tide.objects.ref import ObjRef

    if missing_from(cache, files) or missing_from(cache, dirs):
        return True
    for d in dirs:
        entries = manifest.parse(cache.read_bytes(d.oid, d.legacy), where=f"manifest {d.oid}")
        if missing_from(cache, [ObjRef(e.md5, d.legacy) for e in entries]):
            return True
    return False


def _store_at(path: str, env: Env):
    from tide.objects.remote import DvcLayoutStore
    from tide.storage.base import RemoteSpec
    from tide.storage.wrappers import open_retrying

    return DvcLayoutStore(open_retrying(RemoteSpec("", path), env))


def _open(rr, jobs: int | None, env: Env, source: Source):
    """The source's remote behind the retry wrapper, in the format the source's tide.yaml gives it."""
    from tide.ops.data_scope import OpenRemote
    from tide.ops.remote_format import chunk_params_of, open_store
    from tide.storage.wrappers import open_retrying

    params = chunk_params_of(source.read("tide.yaml"), rr.spec.name, env)
    wrapped = open_retrying(rr.spec, env)
    n = jobs or rr.jobs or wrapped.capabilities.default_jobs
    store = open_store(wrapped, rr.spec, "", source._tmp, env, params)
    return OpenRemote(rr.spec.name, rr.spec, store, wrapped, max(1, n))


def open_source(url: str, rev: str | None = None, env: Env | None = None, remote: str | dict | None = None,
                full: bool = False, config: str | dict | None = None, remote_config: dict | None = None) -> Source:
    try:
        return Source(url, rev, env, remote, full, config, remote_config)
    except GitError as exc:
        msg = str(exc)
        if "unknown revision" in msg:
            raise SourceError(f"unknown revision '{rev}' in '{url}'")
        raise SourceError(f"'{url}': {msg}")


class _Texts:
    """A ``definition.Reader`` of the source's git side (its dvc.yaml and what that reads)."""

    def __init__(self, src: Source) -> None:
        self.src = src

    def read_text(self, abspath: str) -> str | None:
        raw = self.src.read(os.path.relpath(abspath, self.src.root).replace(os.sep, "/"))
        if raw is None:
            return None
        return utf8.decode(raw, f"{self.src.url}:{abspath}", SourceError)
