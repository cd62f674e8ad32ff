"""``TideFileSystem``: an fsspec filesystem over a repository at a revision (dvc's ``DVCFileSystem``):
git-tracked files and data tracked by dvc/tide together, tracked data listed as files.

    fs = TideFileSystem(repo="https://github.com/org/registry", rev="v1")
    fs.ls("data"); fs.find("data"); fs.info("data/train.csv"); fs.get("data", "local-data", recursive=True)
    with fs.open("data/train.csv") as f: ...

Registered as fsspec protocol ``tide`` (the ``fsspec.specs`` entry point), so
``fsspec.open("tide://data/x.csv", repo=..., rev=...)`` and ``pandas.read_csv("tide://data/x.csv")``
work (without ``repo``: the repository around the current directory).
"""

from __future__ import annotations

try:
    from fsspec.spec import AbstractFileSystem
except ImportError as exc:  # fsspec is optional: the message says which extra brings it
    raise ImportError("tide.api.TideFileSystem needs fsspec: pip install 'tide-ml[api]'") from exc


class TideFileSystem(AbstractFileSystem):
    protocol = "tide"
    root_marker = ""
    cachable = False

    def __init__(self, repo: str | None = None, rev: str | None = None, remote: str | None = None,
                 url: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        from tide.api.data import source_of

        self._src = source_of(repo or url, rev, remote)
        from tide.ops.registry_ls import View

        self._view = View(self._src)
        self._nodes: dict[str, dict] | None = None

    @classmethod
    def _strip_protocol(cls, path):
        path = path[len("tide://"):] if isinstance(path, str) and path.startswith("tide://") else path
        return (path or "").strip("/")

    def _all(self) -> dict[str, dict]:
        if self._nodes is None:
            self._view.expand_for("", True)
            self._nodes = self._view.nodes(False)
        return self._nodes

    def _entry(self, path: str, info: dict) -> dict:
        return {"name": path, "type": "directory" if info["isdir"] else "file", "size": info["size"],
                "isexec": info["isexec"], "isout": info["isout"], "md5": info["md5"]}

    def info(self, path, **kwargs):
        path = self._strip_protocol(path)
        if not path:
            return {"name": "", "type": "directory", "size": 0}
        info = self._all().get(path)
        if info is None:
            raise FileNotFoundError(path)
        return self._entry(path, info)

    def ls(self, path, detail=True, **kwargs):
        path = self._strip_protocol(path)
        nodes = self._all()
        if path and path not in nodes:
            raise FileNotFoundError(path)
        if path and not nodes[path]["isdir"]:
            out = [self._entry(path, nodes[path])]
        else:
            prefix = path + "/" if path else ""
            out = [self._entry(p, i) for p, i in sorted(nodes.items())
                   if p.startswith(prefix) and "/" not in p[len(prefix):]]
        return out if detail else [e["name"] for e in out]

    def _open(self, path, mode="rb", block_size=None, autocommit=True, cache_options=None, **kwargs):
        if "r" not in mode or "+" in mode:
            raise PermissionError("TideFileSystem is read-only")
        from tide.api.data import open_stream

        info = self.info(path)
        if info["type"] == "directory":
            raise IsADirectoryError(path)
        import io

        from tide.api.data import RawStream

        stream = open_stream(self._src, self._strip_protocol(path))
        if isinstance(stream, io.IOBase):
            return stream
        return io.BufferedReader(RawStream(stream))

    def close(self) -> None:
        self._src.close()

    def __del__(self) -> None:
        try:
            self._src.close()
        except Exception:  # interpreter shutdown
            pass
