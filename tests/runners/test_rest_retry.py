"""The runners' REST client retries through the one retry policy (core.retry, issue 21 item 5):
429/5xx and connection errors are repeated a stated number of times, other errors fail at once,
and the final one-line error says how many attempts were made, without the bearer token."""

from __future__ import annotations

import socket

import pytest

from tide.core.errors import RunnerError
from tide.core.retry import RetryPolicy
from tide.runners.rest import Rest

TOKEN = "secret-bearer-token-123"


class Flaky:
    """Answers ``codes`` in turn, then 200 with a small JSON body."""

    def __init__(self, *codes: int) -> None:
        self.codes = list(codes)
        self.hits = 0

    def handle(self, method, path, q, body, headers):
        self.hits += 1
        if self.codes:
            return self.codes.pop(0), {"error": {"message": "busy"}}
        return 200, {"ok": True}


def _rest(url: str, attempts: int = 4) -> Rest:
    return Rest(url, TOKEN, where="test", policy=RetryPolicy(attempts=attempts, base_delay=0.001),
                sleep=lambda s: None)


def test_transient_answers_are_repeated_until_success(serve):
    app = Flaky(503, 429, 502)
    s = serve(app)
    assert _rest(s.url).request("GET", "/x") == {"ok": True}
    assert app.hits == 4


def test_a_client_error_fails_at_once(serve):
    app = Flaky(400)
    s = serve(app)
    with pytest.raises(RunnerError) as exc:
        _rest(s.url).request("GET", "/x")
    assert app.hits == 1 and "HTTP 400" in str(exc.value) and "gave up" not in str(exc.value)


def test_a_server_that_stays_down_is_asked_attempts_times(serve):
    app = Flaky(*[503] * 10)
    s = serve(app)
    with pytest.raises(RunnerError) as exc:
        _rest(s.url, attempts=3).request("GET", "/x")
    msg = str(exc.value)
    assert app.hits == 3 and "gave up after 3 attempts" in msg and "HTTP 503" in msg
    assert TOKEN not in msg and "\n" not in msg


def test_a_dead_port_is_a_one_line_error_after_the_budget():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there
    with pytest.raises(RunnerError) as exc:
        _rest(f"http://127.0.0.1:{port}", attempts=2).request("GET", "/x")
    assert "gave up after 2 attempts" in str(exc.value) and "ConnectError" in str(exc.value)
