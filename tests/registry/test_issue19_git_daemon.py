"""issue 19: a source served by a real git server on loopback (``git daemon``): ls/get/import at a branch, a
tag and a commit, the same as dvc's, and dvc updates tide's import of it."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from tests.registry.conftest import git


@pytest.fixture
def served(dvc_source):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = dvc_source.path.parent
    proc = subprocess.Popen(["git", "daemon", "--export-all", f"--base-path={base}", "--listen=127.0.0.1",
                             f"--port={port}", "--reuseaddr", str(base)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"git://127.0.0.1:{port}/{dvc_source.path.name}"
    proc.terminate()
    proc.wait(10)


@pytest.mark.parametrize("rev", ["main", "v1", "commit"])
def test_issue19_git_daemon_source(served, dvc_source, tide, dvc, dest, tmp_path, rev):
    rev = dvc_source.v1 if rev == "commit" else rev
    for args in (["-R", "--json"], ["data", "--size"]):
        assert tide("ls", served, *args, "--rev", rev).stdout == dvc("ls", served, *args, "--rev", rev).stdout
    tide("get", served, "hello.txt", "--rev", rev, "-o", str(tmp_path / "h.txt"))
    want = b"hello2\n" if rev == "main" else b"hello\n"
    assert (tmp_path / "h.txt").read_bytes() == want
    tide("import", served, "data", "--rev", rev, cwd=dest)
    assert (dest / "data" / "sub" / "b.txt").read_bytes() == b"b\n"
    git(dest, "add", "-A")
    git(dest, "commit", "-qm", "import")
    r = dvc("update", "data.dvc", cwd=dest)
    assert "didn't change" in r.stdout + r.stderr
