"""issue 19: a source repository whose remote is S3 (a moto server): tide get/import/ls/tide.api read it
with tide's transfer engine, dvc updates tide's import; import-url/get-url of s3:// URLs."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.fakes.servers import S3_ENV, MotoS3
from tests.registry.conftest import git, make_source


@pytest.fixture(scope="module")
def moto():
    s = MotoS3()
    yield s
    s.stop()


@pytest.fixture
def s3_source(moto, tmp_path, dvc, monkeypatch):
    for k, v in S3_ENV.items():
        monkeypatch.setenv(k, v)
    bucket = moto.new_bucket("reg")
    src_dir = tmp_path / "pre"
    src_dir.mkdir()

    def run(*args, cwd=None, check=True):
        if args[:2] == ("remote", "add"):
            r = dvc(*args, cwd=cwd)
            dvc("remote", "modify", "r", "endpointurl", moto.endpoint, cwd=cwd)
            return r
        return dvc(*args, cwd=cwd, check=check)

    src = make_source(tmp_path, run, remote_url=f"s3://{bucket}/store")
    git(src.path, "commit", "-qam", "endpoint", "--allow-empty")
    shutil.rmtree(src.path / ".dvc" / "cache")  # data only on S3 from now on
    src.bucket = bucket
    src.endpoint = moto.endpoint
    return src


def test_issue19_s3_get_ls_import_api(s3_source, tide, dvc, dest, tmp_path):
    src = s3_source
    tide("get", src.url, "data", "-o", str(tmp_path / "got"), cwd=tmp_path)
    assert (tmp_path / "got" / "sub" / "b.txt").read_bytes() == b"b\n"
    assert tide("ls", src.url, "data", "-R", "--json").stdout == dvc("ls", src.url, "data", "-R", "--json").stdout
    tide("import", src.url, "hello.txt", "--rev", "v1", cwd=dest)
    assert (dest / "hello.txt").read_bytes() == b"hello\n"
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "import")
    dvc("update", "hello.txt.dvc", "--rev", "main", cwd=dest)
    assert (dest / "hello.txt").read_bytes() == b"hello2\n"
    code = f"import tide.api; print(tide.api.read('data/a.txt', repo={str(src.path)!r}), end='')"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "a\n"


def test_issue19_s3_pull_of_import_comes_from_the_source(s3_source, tide, dvc, dest, tmp_path):
    """A clone of a repository with an import and no remote of its own: pull fetches from the source's S3."""
    tide("import", s3_source.url, "data", cwd=dest)
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "import")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(dest), str(clone))
    tide("pull", cwd=clone)
    assert (clone / "data" / "a.txt").read_bytes() == b"a\n"
    assert "up to date" in dvc("status", cwd=clone).stdout


def test_issue19_s3_get_url_and_import_url(moto, tide, dvc, dest, tmp_path, monkeypatch):
    for k, v in S3_ENV.items():
        monkeypatch.setenv(k, v)
    bucket = moto.new_bucket("url")
    c = moto.client()
    c.put_object(Bucket=bucket, Key="d/x.csv", Body=b"x\n")
    c.put_object(Bucket=bucket, Key="d/y/z.csv", Body=b"z\n")
    cfg = f"endpointurl={moto.endpoint}"
    tide("get-url", f"s3://{bucket}/d", "got", "--fs-config", cfg, cwd=tmp_path)
    assert (tmp_path / "got" / "y" / "z.csv").read_bytes() == b"z\n"
    tide("import-url", f"s3://{bucket}/d/x.csv", "--fs-config", cfg, cwd=dest)
    assert (dest / "x.csv").read_bytes() == b"x\n"
    assert f"path: s3://{bucket}/d/x.csv" in (dest / "x.csv.dvc").read_text()
    r = tide("get-url", f"s3://{bucket}/nope", "--fs-config", cfg, cwd=tmp_path, check=False)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1
    # the .dvc file dvc writes: the server's etag (a directory: the md5 of its etag tree) and --fs-config
    # as fs_config, so that each tool sees the other's import as unchanged (test_issue19_s3_import_url_etag)
    tide("import-url", f"s3://{bucket}/d", "dd", "--fs-config", cfg, cwd=dest)
    by_dvc = tmp_path / "by-dvc"
    by_dvc.mkdir()
    git(by_dvc, "init", "-q")
    dvc("init", cwd=by_dvc)
    dvc("import-url", f"s3://{bucket}/d/x.csv", "--fs-config", cfg, cwd=by_dvc)
    dvc("import-url", f"s3://{bucket}/d", "dd", "--fs-config", cfg, cwd=by_dvc)
    for f in ("x.csv.dvc", "dd.dvc"):
        assert (dest / f).read_bytes() == (by_dvc / f).read_bytes(), f
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "import-url")
    assert dvc("update", "x.csv.dvc", "dd.dvc", cwd=dest).stdout.count("didn't change") == 2
    assert tide("update", "x.csv.dvc", "dd.dvc", cwd=by_dvc).stdout.count("didn't change") == 2
    c.put_object(Bucket=bucket, Key="d/x.csv", Body=b"x2\n")
    tide("update", "x.csv.dvc", cwd=dest)
    assert (dest / "x.csv").read_bytes() == b"x2\n"
    # ls-url lists a bucket as dvc does
    for args in (["-R", "--size"], ["-T"], ["-R", "-L", "1"]):
        want = dvc("ls-url", f"s3://{bucket}/d", *args, "--fs-config", cfg).stdout
        assert tide("ls-url", f"s3://{bucket}/d", *args, "--fs-config", cfg).stdout == want, args


def test_issue19_s3_import_url_version_aware(moto, tide, dvc, dest, tmp_path, monkeypatch):
    """``import-url --version-aware`` on a versioned bucket: the .dvc files dvc writes (each object's
    version_id, ``push: false``), pull gets the recorded versions (not the latest), update follows new
    versions; each tool sees the other's import as current."""
    for k, v in S3_ENV.items():
        monkeypatch.setenv(k, v)
    bucket = moto.new_bucket("ver")
    c = moto.client()
    c.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    c.put_object(Bucket=bucket, Key="d/x.csv", Body=b"x\n")
    c.put_object(Bucket=bucket, Key="d/y/z.csv", Body=b"z\n")
    cfg = f"endpointurl={moto.endpoint}"
    by_dvc = tmp_path / "by-dvc"
    by_dvc.mkdir()
    git(by_dvc, "init", "-q")
    dvc("init", cwd=by_dvc)
    for tool, d in ((tide, dest), (dvc, by_dvc)):
        tool("import-url", "--version-aware", f"s3://{bucket}/d/x.csv", "--fs-config", cfg, cwd=d)
        tool("import-url", "--version-aware", f"s3://{bucket}/d", "dd", "--fs-config", cfg, cwd=d)
        git(d, "add", "-A")
        git(d, "commit", "-qm", "import-url")
    for f in ("x.csv.dvc", "dd.dvc"):
        assert (dest / f).read_bytes() == (by_dvc / f).read_bytes(), f
    assert "version_id:" in (dest / "dd.dvc").read_text()
    c.put_object(Bucket=bucket, Key="d/x.csv", Body=b"x2\n")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(dest), str(clone))
    tide("pull", cwd=clone)  # no remote of its own: the recorded versions, from the bucket
    assert (clone / "x.csv").read_bytes() == (clone / "dd" / "x.csv").read_bytes() == b"x\n"
    tide("update", "x.csv.dvc", "dd.dvc", cwd=dest)
    dvc("update", "x.csv.dvc", "dd.dvc", cwd=by_dvc)
    assert (dest / "x.csv").read_bytes() == (dest / "dd" / "x.csv").read_bytes() == b"x2\n"
    for f in ("x.csv.dvc", "dd.dvc"):
        assert (dest / f).read_bytes() == (by_dvc / f).read_bytes(), f
    assert dvc("update", "x.csv.dvc", "dd.dvc", cwd=dest).stdout.count("didn't change") == 2
    assert tide("update", "x.csv.dvc", "dd.dvc", cwd=by_dvc).stdout.count("didn't change") == 2
    # the s3fs backend (an acl option: tide's own client does not send it) reads versions too
    tide("import-url", "--version-aware", f"s3://{bucket}/d", "viafs", "--fs-config", cfg, "--fs-config", "acl=private",
         cwd=clone)
    assert (clone / "viafs" / "x.csv").read_bytes() == b"x2\n" and "version_id:" in (clone / "viafs.dvc").read_text()
