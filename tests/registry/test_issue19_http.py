"""issue 19: ``import-url`` of an http(s) URL records what dvc records for the same server (the ETag as
sent, under ``checksum``), so that each tool's ``update`` sees the other's import as current."""

from __future__ import annotations

import functools
import http.server
import os
import threading

import pytest

from tests.fakes.servers import free_port, wait_port
from tests.registry.conftest import git


class _ETagged(http.server.SimpleHTTPRequestHandler):
    """A static server that sends an ETag (as nginx/apache do: from inode, size and mtime)."""

    def log_message(self, *args) -> None:
        pass

    def end_headers(self) -> None:
        p = self.translate_path(self.path)
        if os.path.isfile(p):
            st = os.stat(p)
            self.send_header("ETag", f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"')
        super().end_headers()


@pytest.fixture(scope="module")
def etag_http(tmp_path_factory):
    root = tmp_path_factory.mktemp("etagroot")
    port = free_port()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_ETagged, directory=str(root)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    wait_port(port)
    yield root, f"http://127.0.0.1:{port}"
    srv.shutdown()


def test_issue19_http_import_url_checksum_as_dvc(etag_http, tide, dvc, tmp_path):
    """Found: tide recorded the md5 of the download (aiohttp names the header ``Etag``, which a plain
    dict lookup of ``ETag`` missed; dvc records the header as sent, as ``checksum``)."""
    from tide.ops.registry_url import open_parent

    root, base = etag_http
    (root / "f.txt").write_bytes(b"hi\n")
    backend, name = open_parent(f"{base}/f.txt")
    assert list(backend.list(name + "/")) == []  # a file is not a directory holding itself (fsspec's find)
    dests = {}
    for key, tool in (("d", dvc), ("t", tide)):
        d = dests[key] = tmp_path / key
        d.mkdir()
        git(d, "init", "-q", "-b", "main")
        tool("init", cwd=d)
        tool("import-url", f"{base}/f.txt", cwd=d)
        tool("import-url", "--no-download", f"{base}/f.txt", "nd.txt", cwd=d)
    for f in ("f.txt.dvc", "nd.txt.dvc"):
        assert (dests["t"] / f).read_bytes() == (dests["d"] / f).read_bytes(), f
    assert "checksum: '\"" in (dests["t"] / "f.txt.dvc").read_text()
    assert "didn't change" in dvc("update", "f.txt.dvc", cwd=dests["t"]).stdout
    assert "didn't change" in tide("update", "f.txt.dvc", cwd=dests["d"]).stdout
    (root / "f.txt").write_bytes(b"hello\n")
    tide("update", "f.txt.dvc", cwd=dests["d"])
    assert (dests["d"] / "f.txt").read_bytes() == b"hello\n"
