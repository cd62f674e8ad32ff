"""Fixtures of the retrain area: real GTO (own venv), a real PostgreSQL server, example workspaces."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, _run


def gto_bin() -> str:
    path = os.environ.get("TIDE_TEST_GTO") or str(ROOT / ".venv-gto" / "bin" / "gto")
    if not os.path.exists(path):
        pytest.fail(f"gto not found at {path}: run 'make gto-venv' (registry compatibility tests never skip)")
    return path


@pytest.fixture
def gto():
    """Run real GTO (from PyPI, own venv): ``gto("show", "--json", cwd=repo)``."""
    exe = gto_bin()

    def run(*args, cwd=None, check=True):
        return _run([exe, *map(str, args)], cwd, check)

    return run


def _pg_bindir() -> str | None:
    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(os.path.realpath(found))
    base = Path("/usr/lib/postgresql")
    if base.is_dir():
        versions = sorted(base.iterdir(), key=lambda p: int(p.name) if p.name.isdigit() else 0)
        if versions:
            return str(versions[-1] / "bin")
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A real PostgreSQL server on loopback for this test session; yields a connection URL."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL is not installed: run 'make sysdeps' (scripts/sysdeps.sh installs postgresql)")
    import tempfile

    top = Path(tempfile.mkdtemp(prefix="tide-pg-"))  # under /tmp: reachable by the server's user
    data, sock = top / "data", top / "sock"
    data.mkdir()
    sock.mkdir()
    port = _free_port()
    user_args = []
    env = dict(os.environ)
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: run it as 'nobody', in directories it owns
        import pwd

        pw = pwd.getpwnam("nobody")
        for d in (top, data, sock):
            os.chown(d, pw.pw_uid, pw.pw_gid)
        user_args = ["runuser", "-u", "nobody", "--"]
    initdb = [*user_args, f"{bindir}/initdb", "-D", str(data), "-U", "tide", "--auth=trust", "-E", "UTF8"]
    subprocess.run(initdb, check=True, capture_output=True, env=env)
    log = data / "server.log"
    start = [*user_args, f"{bindir}/pg_ctl", "-D", str(data), "-l", str(log), "-w", "-t", "60", "-o",
             f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off", "start"]
    subprocess.run(start, check=True, capture_output=True, env=env)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        yield f"postgresql://tide@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*user_args, f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, env=env, check=False)
        shutil.rmtree(top, ignore_errors=True)
