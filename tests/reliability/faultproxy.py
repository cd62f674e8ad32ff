"""A fault-injecting TCP proxy for loopback test servers (S3 on moto, OpenSSH sshd, WebDAV...).

    proxy = FaultProxy(("127.0.0.1", upstream_port), rate=0.3, seed=1).start()
    ... point the client at 127.0.0.1:proxy.port ...
    proxy.stats   # Counter: connections and faults injected, by kind
    proxy.rate = 0  # a clean network for the re-run

Each new connection draws one fault (with probability ``rate``) and a direction (client→server for
uploads, server→client for downloads), then lets a random number of bytes through before acting:

    reset     abort both sides with an RST (SO_LINGER 0)
    truncate  close cleanly (FIN) in the middle of the stream
    stall     stop forwarding for ``stall_s`` seconds, then go on
    latency   delay every chunk by ``latency_s``
    corrupt   flip one byte of the stream and go on (downloads only, see ``_draw``)
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections import Counter

FAULTS = ("reset", "truncate", "stall", "latency", "corrupt")


class FaultProxy:
    def __init__(self, upstream: tuple[str, int], rate: float = 0.3, seed: int = 0,
                 faults: tuple[str, ...] = FAULTS, max_offset: int = 256 * 1024,
                 stall_s: float = 1.0, latency_s: float = 0.01, directions: tuple[str, ...] = ("up", "down")) -> None:
        self.upstream = upstream
        self.rate = rate
        self.faults = faults
        self.max_offset = max_offset
        self.stall_s = stall_s
        self.latency_s = latency_s
        self.directions = directions
        self.stats: Counter[str] = Counter()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._conns: set[socket.socket] = set()

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FaultProxy:
        self._sock.listen(128)
        threading.Thread(target=self._accept_loop, daemon=True, name="faultproxy-accept").start()
        return self

    def stop(self) -> None:
        self._stop.set()
        try:
            self._sock.close()
        except OSError:
            pass
        with self._lock:
            for s in list(self._conns):
                _close(s)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def injected(self) -> int:
        return sum(v for k, v in self.stats.items() if k in FAULTS)

    # --- plumbing -------------------------------------------------------------------------------
    def _draw(self) -> tuple[str | None, str, int]:
        with self._lock:
            self.stats["connections"] += 1
            if self._rng.random() >= self.rate:
                return None, "down", 0
            fault = self._rng.choice(self.faults)
            self.stats[fault] += 1
            # corruption only on the way down: an upload's bytes are protected by the protocol's own
            # checksums on real servers (S3 Content-MD5/CRC, SSH MACs), which moto does not verify
            direction = "down" if fault == "corrupt" else self._rng.choice(self.directions)
            return fault, direction, self._rng.randint(0, self.max_offset)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._conns |= {client, server}
            fault, direction, offset = self._draw()
            up = fault if direction == "up" else None
            down = fault if direction == "down" else None
            pending = [2]
            for src, dst, f in ((client, server, up), (server, client, down)):
                threading.Thread(target=self._pump, args=(src, dst, f, offset, client, server, pending),
                                 daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, fault: str | None, offset: int,
              client: socket.socket, server: socket.socket, pending: list[int]) -> None:
        sent = 0
        acted = False
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if fault and not acted and sent + len(data) > offset:
                    cut = max(0, offset - sent)
                    acted = True
                    if fault in ("reset", "truncate"):
                        if cut:
                            dst.sendall(data[:cut])
                        if fault == "reset":
                            _rst(client)
                            _rst(server)
                        else:
                            _close(client)
                            _close(server)
                        return
                    if fault == "stall":
                        time.sleep(self.stall_s)
                    elif fault == "corrupt":
                        b = bytearray(data)
                        b[cut % len(b)] ^= 0x5A
                        data = bytes(b)
                if fault == "latency":
                    time.sleep(self.latency_s)
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            with self._lock:
                pending[0] -= 1
                last = pending[0] == 0
                if last:
                    self._conns.discard(client)
                    self._conns.discard(server)
            if last:
                _close(client)
                _close(server)


def _rst(s: socket.socket) -> None:
    """Abort with an RST: linger 0, wake a reader blocked on the socket in the other thread, close."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    _close(s, graceful=False)


def _close(s: socket.socket, graceful: bool = True) -> None:
    """Close with a FIN; shutdown() first, since close() alone does not wake a thread blocked in recv()."""
    try:
        if graceful:
            s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
