"""Which format a remote is in: ``remotes: {NAME: {format: chunked, ...}}`` in ``tide.yaml``
(nothing in ``.dvc/config``, which stays dvc's). Absent: DVC's layout.

    remotes:
      store:
        format: chunked        # dvc (default) | chunked
        chunk_size: 65536      # FastCDC's average chunk size in bytes (256 B .. 4 MiB)
        pack_size: 33554432    # a pack is sealed at this many bytes (64 KiB .. 1 GiB)
        compression: zstd      # zstd (default: where it saves a tenth) | none
"""

from __future__ import annotations

import os

from tide.core.errors import ConfigError

KEYS = {"format", "chunk_size", "pack_size", "compression"}


def chunk_params(root: str, name: str, env) -> object | None:
    """``ChunkParams`` for remote ``name`` when the repository's tide.yaml makes it chunked, else None."""
    from tide.core.settings_keys import FILE_NAME

    try:
        with open(os.path.join(root, FILE_NAME), "rb") as f:
            return chunk_params_of(f.read(), name, env)
    except FileNotFoundError:
        return None


def chunk_params_of(raw: bytes | None, name: str, env) -> object | None:
    """``chunk_params`` from the bytes of a tide.yaml (None: there is none), e.g. another repository's
    at a revision (``tide get`` / ``import`` from a repository whose remote is chunked)."""
    if not raw or b"remotes" not in raw or not name:  # no section to read: spare the YAML parser
        return None
    from tide.core import settings_keys as S  # (not tide.core.settings: its dataclasses cost status -c ~10 ms)
    from tide.core import yamlio

    data = yamlio.loads(raw.decode("utf-8", "replace"), S.FILE_NAME) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{S.FILE_NAME}: expected a mapping of sections")
    remotes = S.section(data, "remotes")
    sec = remotes.get(name)
    if sec is None:
        return None
    where = f"remotes.{name}"
    if not isinstance(sec, dict):
        raise ConfigError(f"{S.FILE_NAME}: '{where}' must be a mapping")
    S.only_keys(sec, KEYS, where)
    fmt = S.typed(sec, "format", str, where, "dvc")
    if fmt not in ("dvc", "chunked"):
        raise ConfigError(f"{S.FILE_NAME}: '{where}.format' must be 'dvc' or 'chunked', got {fmt!r}")
    if fmt == "dvc":
        return None
    from tide.objects.chunked_format import ChunkParams

    dflt = ChunkParams()
    avg = S.typed(sec, "chunk_size", int, where, dflt.avg)
    pack = S.typed(sec, "pack_size", int, where, dflt.pack)
    comp = S.typed(sec, "compression", str, where, "zstd")
    if not 256 <= avg <= 4 << 20:
        raise ConfigError(f"{S.FILE_NAME}: '{where}.chunk_size' must be between 256 and 4194304, got {avg}")
    if not 64 << 10 <= pack <= 1 << 30:
        raise ConfigError(f"{S.FILE_NAME}: '{where}.pack_size' must be between 65536 and 1073741824, got {pack}")
    if comp not in ("zstd", "none"):
        raise ConfigError(f"{S.FILE_NAME}: '{where}.compression' must be 'zstd' or 'none', got {comp!r}")
    stale = _seconds(env, "TIDE_CHUNKED_LOCK_STALE", dflt.stale)
    return ChunkParams(avg=avg, pack=pack, level=1 if comp == "zstd" else 0, stale=stale)


def _seconds(env, name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got '{raw}'") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got '{raw}'")
    return value


def open_store(wrapped, spec, root: str, tmp_dir: str, env, params=None):
    """The ``ObjectStore`` for a remote: DVC's layout, or the chunked format tide.yaml asks for
    (``params``: already read, e.g. from another repository's tide.yaml)."""
    if params is None:
        params = chunk_params(root, spec.name, env) if root else None
    if params is None:
        from tide.objects.remote import DvcLayoutStore

        return DvcLayoutStore(wrapped)
    from importlib.util import find_spec

    for module in ("pyfastcdc", "zstandard"):  # found, not imported: status -c needs neither (start-up time)
        if find_spec(module) is None:
            from tide.storage.base import BackendMissing

            raise BackendMissing(f"chunked remotes need the 'chunked' extra: pip install 'tide-ml[chunked]' "
                                 f"(missing module '{module}')")
    import hashlib

    from tide.objects.chunked import ChunkedStore

    where = f"{spec.url}|{spec.get('endpointurl') or ''}"
    local = os.path.join(tmp_dir, "tide", "chunked", hashlib.sha256(where.encode()).hexdigest()[:24])
    return ChunkedStore(wrapped, local, params)
