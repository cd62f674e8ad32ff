"""Issue 21, the static half: the storage contract checked over the source tree (AST; run by
``make lint``). No probing a backend or store for an operation, no operation a base does not
declare, the environment only through ``Env``, no reaching into the cache's or hasher's state."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from tide.storage.base import Backend

SRC = Path(__file__).resolve().parents[2] / "src" / "tide"
# getattr/hasattr in storage/ and objects/ only on these (modules and foreign objects, never a backend)
PROBE_ALLOWED = {"os", "aiohttp", "exc", "resp"}
PROBED_WORDS = ("backend", "store")


def _modules(*parts: str) -> list[Path]:
    return sorted(p for part in parts for p in (SRC / part).rglob("*.py"))


def _probes(path: Path) -> list[tuple[int, str]]:
    """``(line, first argument)`` of every getattr/hasattr call in ``path``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr") \
                and node.args:
            out.append((node.lineno, ast.unparse(node.args[0])))
    return out


def test_issue21_no_getattr_probe_for_a_backend_or_store_operation():
    """An operation is called, never discovered: a misspelt name must fail, not turn a feature off."""
    bad = []
    for path in _modules("."):
        for line, target in _probes(path):
            if any(w in target.lower() for w in PROBED_WORDS):
                bad.append(f"{path.relative_to(SRC)}:{line}: {target}")
    for path in _modules("storage", "objects"):
        for line, target in _probes(path):
            if target not in PROBE_ALLOWED:
                bad.append(f"{path.relative_to(SRC)}:{line}: {target}")
    assert bad == []


def _subclasses(cls: type) -> list[type]:
    out, todo = [], [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            out.append(sub)
            todo.append(sub)
    return out


def test_issue21_every_backend_and_store_declares_only_the_contracts_operations():
    """Every backend (and wrapper) is a ``Backend``, every remote format an ``ObjectStore``, and none
    adds a public method the base does not declare: a misspelt override (``list_age``) would be a
    method nobody calls."""
    import tide.storage.gdrive
    import tide.storage.http
    import tide.storage.local
    import tide.storage.s3_plain
    import tide.storage.webhdfs
    import tide.storage.wrappers  # noqa: F401 - every backend of this tree (none needs its SDK to import)
    from tide.objects.remote import DvcLayoutStore, ObjectStore

    def public(cls: type) -> set[str]:
        return {n for n, v in vars(cls).items() if not n.startswith("_") and inspect.isfunction(v)}

    names = {c.__name__ for c in _subclasses(Backend) if c.__module__.startswith("tide.")}
    assert {"LocalBackend", "FsspecBackend", "HttpBackend", "WebHdfsBackend", "GDriveBackend", "S3FsBackend",
            "S3PlainBackend", "BackendWrapper", "RetryingBackend"} <= names
    declared = public(Backend)
    for cls in _subclasses(Backend):
        if cls.__module__.startswith("tide."):
            assert public(cls) <= declared, f"{cls.__name__} adds {public(cls) - declared}"
    from tide.objects.chunked import ChunkedStore

    for store in (DvcLayoutStore, ChunkedStore):
        assert issubclass(store, ObjectStore)
        extra = public(store) - public(ObjectStore) - {"cheap_open"}
        assert not extra, f"{store.__name__} adds {extra}"


def test_issue21_storage_reads_the_environment_only_through_env():
    for path in _modules("storage", "objects"):
        text = path.read_text()
        for word in ("os.environ", "getenv(", "getproxies("):
            assert word not in text.replace("``os.environ``", ""), f"{path.relative_to(SRC)} reads {word}"


def test_issue21_objects_never_reach_into_the_caches_private_state():
    for path in _modules("objects", "ops"):
        if path.name == "cache.py":
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                owner = ast.unparse(node.value)
                assert "cache" not in owner.lower() and "hasher" not in owner.lower(), \
                    f"{path.relative_to(SRC)}:{node.lineno}: {owner}.{node.attr}"


def test_issue21_add_sets_the_hashers_sink_only_through_hash_storing():
    """``ops`` never sets ``Hasher.sink``: the Hasher owns it for the length of ``hash_storing``."""
    for path in _modules("ops", "cli", "pipeline"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    assert not (isinstance(t, ast.Attribute) and t.attr == "sink" and "hasher" in ast.unparse(t)), \
                        f"{path.relative_to(SRC)}:{node.lineno}"


def _calls(path: Path, names: set[str]) -> list[tuple[int, str]]:
    """``(line, name)`` of every call of a function (or method) named in ``names`` in ``path``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            if name in names:
                out.append((node.lineno, name))
    return out


def test_issue21_backends_are_opened_behind_the_one_retry_layer():
    """Outside ``storage/`` a backend is opened only by ``open_retrying``: a backend opened bare
    (``open_backend``, ``RetryingBackend`` built by hand) would fail on the first 503 that the retry
    policy absorbs everywhere else (found: asset publishing and deploy targets)."""
    bad = [f"{p.relative_to(SRC)}:{line}: {name}" for p in _modules(".") if "storage" not in p.parts
           for line, name in _calls(p, {"open_backend", "RetryingBackend"})]
    assert bad == []


def _handlers_in_loops(tree: ast.AST):
    """Every ``except`` clause that sits inside a ``for``/``while`` body (a loop that may repeat the call)."""
    for loop in ast.walk(tree):
        if isinstance(loop, (ast.For, ast.While, ast.AsyncFor)):
            for node in ast.walk(loop):
                if isinstance(node, ast.ExceptHandler) and node.type is not None:
                    yield node


def test_issue21_one_retry_loop():
    """``RetryPolicy.run`` (core/retry.py) is the only loop that repeats a call that failed
    transiently: no other loop catches the ``Transient`` marker, its storage and runner subclasses,
    or an HTTP client's connection errors (runners/rest.py had its own loop of 4 tries)."""
    bad = []
    for p in _modules("."):
        if p.name == "retry.py" and p.parent.name == "core":
            continue
        for node in set(_handlers_in_loops(ast.parse(p.read_text(), str(p)))):
            caught = ast.unparse(node.type)
            if "Transient" in caught or "Retryable" in caught or "httpx.HTTPError" in caught:
                bad.append(f"{p.relative_to(SRC)}:{node.lineno}: except {caught}")
    assert sorted(bad) == [], "retry through core.retry.RetryPolicy, not a loop of your own"
