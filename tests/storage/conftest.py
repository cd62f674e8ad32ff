"""Fixtures of the storage area: a fresh remote of each kind (``make_case``) on the shared servers of
tests/fakes/fixtures.py (one per test session and xdist worker)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.fakes import servers


@pytest.fixture
def s3_env(monkeypatch):
    for k, v in servers.S3_ENV.items():
        monkeypatch.setenv(k, v)


@dataclass
class Case:
    """A remote for one test: its URL and options, and how to put bytes there behind the backend's back."""

    kind: str
    url: str
    options: tuple[tuple[str, str], ...]
    seed: Callable[[str, bytes], None] | None  # write a key directly (read-only backends)
    raw_path: Callable[[str], str] | None = None  # local path of a key, where the server stores files

    def spec(self):
        from tide.storage.base import RemoteSpec

        return RemoteSpec("t", self.url, self.options)

    def open(self):
        from tide.core.config import Env
        from tide.storage.registry import open_backend

        return open_backend(self.spec(), Env(dict(os.environ)))


def _seed_dir(root: str) -> Callable[[str, bytes], None]:
    def seed(key: str, data: bytes) -> None:
        p = os.path.join(root, *key.split("/"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)

    return seed


BACKENDS = ["local", "s3", "gs", "azure", "ssh", "webdav", "http", "gdrive", "webhdfs"]


@pytest.fixture
def make_case(request, tmp_path, monkeypatch):
    """``make_case(kind)`` -> a fresh, empty remote of that kind on its loopback server."""

    def make(kind: str) -> Case:
        sub = uuid.uuid4().hex[:10]
        if kind == "local":
            root = str(tmp_path / f"remote-{sub}")
            return Case(kind, root, (), None, lambda k: os.path.join(root, *k.split("/")))
        if kind == "s3":
            s3 = request.getfixturevalue("moto_s3")
            for k, v in servers.S3_ENV.items():
                monkeypatch.setenv(k, v)
            bucket = s3.new_bucket()
            return Case(kind, f"s3://{bucket}/store", (("endpointurl", s3.endpoint),), None)
        if kind == "gs":
            g = request.getfixturevalue("gcs")
            return Case(kind, f"gs://{g.new_bucket()}/store",
                        (("endpointurl", g.endpoint), ("allow_anonymous_login", "true")), None)
        if kind == "azure":
            a = request.getfixturevalue("azurite")
            return Case(kind, f"azure://{a.new_container()}/store", (("connection_string", a.conn),), None)
        if kind == "ssh":
            d = request.getfixturevalue("sshd")
            root = str(tmp_path / f"sftp-{sub}")
            return Case(kind, d.url(root), (("keyfile", d.client_key),), None,
                        lambda k: os.path.join(root, *k.split("/")))
        if kind == "webdav":
            d = request.getfixturevalue("webdav")
            os.makedirs(os.path.join(d.root, sub))
            root = os.path.join(d.root, sub)
            return Case(kind, d.url(sub), (("user", d.user), ("password", d.password)), None,
                        lambda k: os.path.join(root, *k.split("/")))
        if kind == "http":
            h = request.getfixturevalue("upload_http")
            root = os.path.join(h.root, "basic", sub)
            return Case(kind, h.url(f"basic/{sub}"), (("auth", "basic"), ("user", h.user), ("password", h.password)),
                        None, lambda k: os.path.join(root, *k.split("/")))
        if kind == "gdrive":
            g = request.getfixturevalue("gdrive_fake")
            monkeypatch.setenv("TIDE_GDRIVE_API_URL", g.base)
            folder = g.new_folder()
            keyfile = g.service_account_file(str(tmp_path / f"sa-{sub}.json"))
            return Case(kind, f"gdrive://{folder}/store",
                        (("gdrive_use_service_account", "true"), ("gdrive_service_account_json_file_path", keyfile)),
                        None)
        if kind == "webhdfs":
            w = request.getfixturevalue("webhdfs_fake")
            return Case(kind, w.url(f"user/tide/{sub}"), (("user", "tide"),), None)
        raise AssertionError(kind)

    return make
