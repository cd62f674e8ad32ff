"""The server fixtures of the whole suite (a pytest plugin, loaded by tests/conftest.py): one real
server of each kind per test session (per xdist worker). Test areas build on these (tests/storage's
``make_case``, tests/runners' ``ssh_home`` and ``aws_env``) and never start a second copy."""

from __future__ import annotations

import pytest

from tests.fakes import servers


@pytest.fixture(scope="session")
def moto_s3():
    s = servers.MotoS3()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    s = servers.Sshd(str(tmp_path_factory.mktemp("sshd")))
    yield s
    s.stop()


@pytest.fixture(scope="session")
def webdav(tmp_path_factory):
    s = servers.WebDav(str(tmp_path_factory.mktemp("davroot")))
    yield s
    s.stop()


@pytest.fixture(scope="session")
def static_http(tmp_path_factory):
    s = servers.StaticHttp(str(tmp_path_factory.mktemp("httproot")))
    yield s
    s.stop()


@pytest.fixture(scope="session")
def upload_http(tmp_path_factory):
    """An HTTP server that stores POST/PUT bodies (http:// remotes that can be pushed to)."""
    from tests.fakes.http_upload import UploadHttp

    s = UploadHttp(str(tmp_path_factory.mktemp("uploadroot")))
    yield s
    s.stop()


@pytest.fixture(scope="session")
def webhdfs_fake():
    """A stateful fake of the WebHDFS REST API (namenode + datanode): no Hadoop can run here."""
    from tests.fakes.webhdfs import FakeWebHdfs

    s = FakeWebHdfs()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def gcs():
    s = servers.GcsEmulator()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    s = servers.Azurite(str(tmp_path_factory.mktemp("azurite")))
    yield s
    s.stop()


@pytest.fixture(scope="session")
def gdrive_fake():
    from tests.fakes.gdrive import FakeDrive

    s = FakeDrive()
    yield s
    s.stop()
