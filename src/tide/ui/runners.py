"""The overview's "runners alive now": local runners and those of each cloud tide is set up for, through the
runner layer's listing (``ops.runner.provisioner(...).list()``, what ``tide runner list`` and ``reap`` use).

Which clouds: ``ui.runners`` in tide.yaml (``KIND[:REGION]``, asked as named), else the clouds that
``retrain.runner``, ``ci.runner`` and the ``runners:`` profiles name, when this machine has their credentials
(``ops.readiness.runner_credentials_missing``). Each provider is asked in its own thread, at most every
``ttl`` seconds; a page always gets the answers held at once (never waiting on a cloud), with ``pending``
while a first answer is out and an error when none came within ``timeout``. Errors are one line, redacted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tide.core.errors import TideError

CLOUDS = ("aws", "gcp", "azure", "kubernetes")
TTL = {"local": 10.0}  # seconds an answer is shown before it is asked again; clouds: CLOUD_TTL
CLOUD_TTL = 60.0
TIMEOUT = 20.0  # a provider that has not answered by then is shown as an error (the answer still lands later)


@dataclass
class Answer:
    kind: str
    region: str = ""
    machines: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    answered: float = 0.0   # monotonic time of the last answer (0: none yet)
    started: float = 0.0    # monotonic time the running question was asked (0: none running)


def targets(root: str, env: Any) -> list[tuple[str, str]]:
    """``(kind, region)`` of each provider to ask, local first."""
    from tide.core import settings as S
    from tide.ops.readiness import runner_credentials_missing
    from tide.ops.run import parse_on

    out: list[tuple[str, str]] = [("local", "")]
    st = S.load(root)
    named = S.ui_runners(st)
    if named:
        for spec in named:
            kind, _, region = spec.partition(":")
            out.append((kind, region or ("" if kind == "kubernetes" else "us-west")))  # a cluster has no region
        return list(dict.fromkeys(out))
    profiles = st.section("runners")
    specs = [st.get("retrain.runner"), st.get("ci.runner"), *profiles]
    for spec in specs:
        if not isinstance(spec, str) or not spec:
            continue
        try:
            t = parse_on(spec, profiles)
        except TideError:
            continue  # `tide retrain --check` names what is wrong with it
        if t.kind in CLOUDS and not runner_credentials_missing(t.kind, env):
            out.append((t.kind, t.region))
    return list(dict.fromkeys(out))


def _list(kind: str, region: str, env: Any) -> list[dict[str, Any]]:
    from tide.ops.runner import provisioner
    from tide.runners.base import RunnerSpec

    machines = provisioner(RunnerSpec(name="tide-x", cloud=kind, region=region or "us-west"), env).list()
    return [m.to_json() for m in machines if m.alive]


class Watch:
    """Cached, asynchronous answers of the providers ``find_targets()`` names (asked again when they change)."""

    def __init__(self, find_targets: Callable[[], list[tuple[str, str]]], env: Any = None,
                 lister: Callable[[str, str, Any], list[dict[str, Any]]] = _list, timeout: float = TIMEOUT) -> None:
        self.find_targets, self.env, self.lister, self.timeout = find_targets, env, lister, timeout
        self.lock = threading.Lock()
        self.answers: dict[tuple[str, str], Answer] = {}
        self._targets: tuple[float, list[tuple[str, str]], str | None] = (0.0, [], None)

    def _current(self, now: float) -> tuple[list[tuple[str, str]], str | None]:
        at, found, err = self._targets
        if not at or now - at > TTL["local"]:  # tide.yaml may change while the server runs
            try:
                found, err = self.find_targets(), None
            except TideError as exc:
                found, err = [("local", "")], str(exc)
            self._targets = (now, found, err)
        return found, err

    def _ask(self, key: tuple[str, str], ans: Answer) -> None:
        from tide.core.redact import redact

        try:
            machines, error = self.lister(key[0], key[1], self.env), None
        except TideError as exc:
            machines, error = [], redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        except Exception as exc:  # a cloud library's own error: its kind only (its text may carry a request)
            machines, error = [], f"{key[0]}: listing failed ({type(exc).__name__})"
        with self.lock:
            ans.machines, ans.error, ans.answered, ans.started = machines, error, time.monotonic(), 0.0

    def snapshot(self) -> dict[str, Any]:
        """What is known now; questions whose answer is older than its TTL are sent (never waited for)."""
        now = time.monotonic()
        with self.lock:
            found, err = self._current(now)
            out = []
            for key in found:
                ans = self.answers.setdefault(key, Answer(*key))
                ttl = TTL.get(key[0], CLOUD_TTL)
                if not ans.started and (not ans.answered or now - ans.answered > ttl):
                    ans.started = now
                    threading.Thread(target=self._ask, args=(key, ans), daemon=True,
                                     name=f"tide-ui-runners-{key[0]}").start()
                late = bool(ans.started) and now - ans.started > self.timeout
                error = f"{key[0]}: no answer within {self.timeout:.0f} s" if late and not ans.answered else ans.error
                out.append({"kind": key[0], "region": key[1], "machines": ans.machines, "error": error,
                            "pending": not ans.answered and not late,
                            "age": round(now - ans.answered, 1) if ans.answered else None})
        machines = [{**m, "cloud": m.get("cloud") or p["kind"]} for p in out for m in p["machines"]]
        return {"providers": out, "machines": machines, "error": err,
                "pending": any(p["pending"] for p in out)}
