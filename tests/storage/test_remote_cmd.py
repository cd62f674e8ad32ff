"""``tide remote`` writes .dvc/config and config.local byte for byte as dvc does; mistakes give one line."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import git


def _init(path, tool):
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    tool("init", cwd=path)
    return path


SCRIPTS = [
    # the seed's commands, verbatim with dvc replaced by tide
    [["remote", "add", "-d", "-f", "myremote", "gdrive://FOLDER_ID"],
     ["remote", "modify", "myremote", "gdrive_use_service_account", "true"]],
    [["remote", "add", "-d", "myremote", "../remote-dir"],
     ["remote", "add", "s3r", "s3://bucket/path"],
     ["remote", "modify", "s3r", "jobs", "8"],
     ["remote", "modify", "--local", "s3r", "credentialpath", "/home/u/.aws/credentials"],
     ["remote", "add", "--local", "sec", "ssh://user@host/path"],
     ["remote", "add", "-f", "s3r", "s3://other/bucket"],
     ["remote", "rename", "myremote", "main-store"],
     ["remote", "default", "s3r"],
     ["remote", "remove", "sec", "--local"]],
]


@pytest.mark.parametrize("script", SCRIPTS, ids=["seed", "mixed"])
def test_config_files_match_dvc(tmp_path, tide, dvc, script):
    a = _init(tmp_path / "a", tide)
    b = _init(tmp_path / "b", dvc)
    for cmd in script:
        tide(*cmd, cwd=a)
        dvc(*cmd, cwd=b)
    for name in ("config", "config.local"):
        pa, pb = a / ".dvc" / name, b / ".dvc" / name
        assert pa.exists() == pb.exists(), name
        if pb.exists():
            assert pa.read_text() == pb.read_text(), name
    # same fields in the same order (dvc wraps lines longer than its console width; tide does not)
    listed = "".join(tide("remote", "list", cwd=a).stdout.replace(str(a), "ROOT").split())
    assert listed == "".join(dvc("remote", "list", cwd=b).stdout.split()).replace(str(b), "ROOT")


def test_dvc_reads_what_tide_wrote(tmp_path, tide, dvc):
    a = _init(tmp_path / "a", tide)
    tide("remote", "add", "-d", "store", str(tmp_path / "store"), cwd=a)
    tide("remote", "modify", "store", "jobs", "3", cwd=a)
    assert dvc("config", "remote.store.jobs", cwd=a).stdout.strip() == "3"
    assert dvc("remote", "default", cwd=a).stdout.strip() == "store"


@pytest.mark.parametrize(("cmd", "message"), [
    (["remote", "modify", "r", "no_such_option", "1"], "'no_such_option' is not an option of local remotes"),
    (["remote", "add", "r", "/elsewhere"], "remote 'r' already exists; use -f/--force"),
    (["remote", "modify", "ghost", "jobs", "2"], "remote 'ghost' does not exist"),
    (["remote", "add", "x", "ftp://host/path"], "scheme 'ftp' is not one of"),
    (["remote", "modify", "r", "jobs", "many"], "must be an integer"),
    (["remote", "modify", "r", "verify", "maybe"], "must be a boolean"),
    (["remote", "remove", "ghost"], "remote 'ghost' does not exist"),
    (["remote", "rename", "r", "r"], "already exists"),
    (["push", "-r", "ghost"], "remote 'ghost' does not exist"),
])
def test_mistakes_give_one_line(repo_dir, tide, cmd, message):
    tide("remote", "add", "r", str(repo_dir / "store"), cwd=repo_dir)
    p = tide(*cmd, cwd=repo_dir, check=False)
    assert p.returncode != 0
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: ") and message in lines[0], p.stderr


def test_no_remote_configured(repo_dir, tide):
    (repo_dir / "f").write_text("x")
    tide("add", "f", cwd=repo_dir)
    p = tide("push", cwd=repo_dir, check=False)
    assert p.returncode == 1
    assert "no remote specified" in p.stderr and "Traceback" not in p.stderr


def test_missing_backend_dependency_names_the_extra(monkeypatch):
    from tide.storage import registry
    from tide.storage.base import BackendMissing, RemoteSpec

    info = registry.SCHEMES["azure"]
    monkeypatch.setitem(registry.SCHEMES, "azure", registry.SchemeInfo(info.module, "azure",
                                                                        ("tide_no_such_module",), info.options))
    with pytest.raises(BackendMissing) as exc:
        registry.open_backend(RemoteSpec("a", "azure://container/path"))
    assert str(exc.value) == ("azure remotes need the 'azure' extra: pip install 'tide-ml[azure]' "
                              "(missing module 'tide_no_such_module')")


def test_secrets_are_not_printed(repo_dir, tide):
    tide("remote", "add", "s", "s3://bucket/p", cwd=repo_dir)
    tide("remote", "modify", "--local", "s", "secret_access_key", "TOPSECRET", cwd=repo_dir)
    out = tide("remote", "list", cwd=repo_dir)
    assert "TOPSECRET" not in out.stdout + out.stderr
    assert "TOPSECRET" not in git(repo_dir, "status", "--porcelain")
