"""push, pull and fetch through a fault-injecting proxy in front of real servers (moto S3, OpenSSH).

Every attempt completes or fails with one clear line; no corrupt object enters a cache or stays on
the remote; with the network healthy again, a re-run completes. scripts/torture.py runs more rounds.
"""

from __future__ import annotations

import os

import pytest

from tests.fakes.servers import S3_ENV
from tests.reliability import crashlib, netlib
from tests.reliability.faultproxy import FaultProxy


@pytest.fixture
def env(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return crashlib.isolated_env(str(home), S3_ENV)


def _check(res: netlib.RoundResult, proxy: FaultProxy) -> None:
    assert not res.problems, "\n".join(res.problems)
    assert proxy.injected > 0, "no fault was injected: the test proved nothing"


def test_s3_through_faulty_network(moto_s3, env, tmp_path):
    bucket = moto_s3.new_bucket("faults")
    port = int(moto_s3.endpoint.rsplit(":", 1)[1])
    with FaultProxy(("127.0.0.1", port), seed=7, stall_s=0.3, max_offset=48 * 1024) as proxy:
        res = netlib.fault_round(tmp_path, env, proxy, f"s3://{bucket}/store",
                                 {"endpointurl": f"http://127.0.0.1:{proxy.port}"},
                                 netlib.s3_objects(moto_s3.client(), bucket, "store"), seed=1,
                                 faulty_attempts=1, verbs=("push", "pull"))
    _check(res, proxy)


def test_issue23_s3_chunked_through_faulty_network(moto_s3, env, tmp_path):
    """The chunked format's pushes (packs, index, lock) and pulls (ranged pack reads) through resets,
    truncations and corruption: nothing corrupt on the remote or in a cache, and a re-run completes."""
    from tide.core.config import Env
    from tide.storage.base import RemoteSpec
    from tide.storage.registry import open_backend

    bucket = moto_s3.new_bucket("faultsc")
    port = int(moto_s3.endpoint.rsplit(":", 1)[1])
    direct = open_backend(RemoteSpec("", f"s3://{bucket}/store", (("endpointurl", moto_s3.endpoint),)), Env(env))
    with FaultProxy(("127.0.0.1", port), seed=11, stall_s=0.3, max_offset=48 * 1024) as proxy:
        res = netlib.fault_round(tmp_path, env, proxy, f"s3://{bucket}/store",
                                 {"endpointurl": f"http://127.0.0.1:{proxy.port}"},
                                 netlib.chunked_objects(direct, tmp_path / "reader"), seed=2,
                                 faulty_attempts=1, verbs=("push", "pull"), tide_yaml=netlib.CHUNKED_YAML)
    _check(res, proxy)


def test_ssh_through_faulty_network(sshd, env, tmp_path):
    root = tmp_path / "sftp-root"
    with FaultProxy(("127.0.0.1", sshd.port), seed=11, stall_s=0.3, max_offset=48 * 1024) as proxy:
        url = f"ssh://{sshd.user}@127.0.0.1:{proxy.port}{root}"
        res = netlib.fault_round(tmp_path, env, proxy, url, {"keyfile": sshd.client_key},
                                 netlib.dir_objects(root), seed=2, faulty_attempts=1, verbs=("push", "fetch"))
    _check(res, proxy)


def test_proxy_injects_what_it_says(tmp_path):
    """The proxy itself: resets and truncations reach the client; a clean proxy passes bytes intact."""
    import socket
    import threading

    srv = socket.create_server(("127.0.0.1", 0))
    payload = os.urandom(300_000)

    def serve() -> None:
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            c.recv(16)
            c.sendall(payload)
            c.close()

    threading.Thread(target=serve, daemon=True).start()
    got = {}
    with FaultProxy(srv.getsockname(), rate=1.0, seed=3, faults=("truncate", "reset", "corrupt"),
                    max_offset=100_000, directions=("down",)) as proxy:
        for i in range(12):
            proxy.rate = 0.0 if i == 11 else 1.0
            data = b""
            try:
                with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as s:
                    s.sendall(b"hello")
                    while chunk := s.recv(65536):
                        data += chunk
            except ConnectionResetError:
                data = None
            got[i] = data
    srv.close()
    assert got[11] == payload
    damaged = [d for i, d in got.items() if i < 11 and d != payload]
    assert len(damaged) == 11
    assert proxy.stats["connections"] == 12 and proxy.injected == 11
