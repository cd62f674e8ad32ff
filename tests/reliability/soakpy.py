"""A warm ``python`` for the soak's pipeline stages: ``python SCRIPT.py ...`` forked from an interpreter that
has the example's libraries imported already (numpy, scikit-learn, matplotlib: ~3 s of imports per day that
are neither tide's work nor the example's training).

    warm = WarmPython(bindir, preload=PRELOAD, env=env)   # bindir/python: the shim; put bindir first on PATH
    ...
    warm.stop()

The shim (``bindir/python``) hands its argv, working directory, environment and stdin/stdout/stderr (the
descriptors themselves) to the server over a unix socket and exits with the script's exit code. The server
forks one child per script: it takes the descriptors, directory and environment, runs the script as
``__main__`` and answers its exit code. When the shim dies (a SIGKILL of its process group, a watchdog) the
child SIGKILLs itself: a kill still ends the stage at once. Anything else (``python -m ...``, ``python -``,
no server) is exec'd to the real interpreter unchanged.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PRELOAD = ("numpy", "yaml", "joblib", "matplotlib", "matplotlib.pyplot", "sklearn.datasets", "sklearn.ensemble",
           "sklearn.metrics")

SHIM = '''#!{python} -SE
import json, os, socket, sys
a = sys.argv[1:]
here = os.path.dirname(os.path.abspath(__file__))
if a and a[0].endswith(".py") and not a[0].startswith("-"):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(os.path.join(here, "warm.sock"))
    except OSError:
        s = None
    if s is not None:
        body = json.dumps({{"argv": a, "cwd": os.getcwd(), "env": dict(os.environ)}}).encode()
        socket.send_fds(s, [len(body).to_bytes(8, "big")], [0, 1, 2])
        s.sendall(body)
        code = b""
        while len(code) < 4:
            part = s.recv(4 - len(code))
            if not part:
                sys.exit(1)
            code += part
        sys.exit(int.from_bytes(code, "big", signed=True))
os.execv({python!r}, [{python!r}] + a)
'''


def serve(sock_path: str, preload: list[str]) -> None:
    """The server: import ``preload``, then fork one child per connection (children reaped automatically)."""
    import importlib
    import threading

    parent = os.getppid()

    def orphaned() -> None:  # the soak that started it died without stopping it: so does the server
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()  # not in the forked children (one thread forks)
    for name in preload:
        importlib.import_module(name)
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(sock_path + ".tmp")
    os.rename(sock_path + ".tmp", sock_path)  # clients see the socket only when it listens
    srv.listen(32)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        if os.fork() == 0:
            srv.close()
            _child(conn)
        conn.close()


def _child(conn: socket.socket) -> None:
    import json
    import runpy
    import threading
    import traceback

    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        head, fds, _, _ = socket.recv_fds(conn, 8, 3)
        n = int.from_bytes(head, "big")
        body = b""
        while len(body) < n:
            part = conn.recv(n - len(body))
            if not part:
                os._exit(1)
            body += part
        req = json.loads(body)
        for i, fd in enumerate(fds):
            os.dup2(fd, i)
            os.close(fd)
    except Exception:
        os._exit(1)

    def watch() -> None:  # the shim went away (killed): so does the script
        if conn.recv(1) == b"":
            os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    sys.argv = list(req["argv"])
    sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
    code = 0
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except (OSError, ValueError):
            pass
    try:
        conn.sendall(int(code).to_bytes(4, "big", signed=True))
    finally:
        os._exit(0)


class WarmPython:
    def __init__(self, bindir: Path, preload: tuple[str, ...] = PRELOAD, env: dict[str, str] | None = None,
                 timeout: float = 120) -> None:
        bindir.mkdir(parents=True, exist_ok=True)
        self.bindir = bindir
        self.sock = bindir / "warm.sock"
        self.sock.unlink(missing_ok=True)
        shim = bindir / "python"
        shim.write_text(SHIM.format(python=sys.executable))
        shim.chmod(0o755)
        self.proc = subprocess.Popen([sys.executable, __file__, str(self.sock), *preload], env=env,
                                     stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=str(bindir),
                                     start_new_session=True)
        end = time.monotonic() + timeout
        line = self.proc.stdout.readline() if self.proc.stdout else b""
        if line.strip() != b"ready" or time.monotonic() > end:
            self.stop()
            raise RuntimeError(f"the warm python did not start ({self.proc.returncode})")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)  # its children have their own connections
            self.proc.wait()
        self.sock.unlink(missing_ok=True)


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2:])
