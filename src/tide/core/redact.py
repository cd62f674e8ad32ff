"""One redaction for everything tide prints or writes: output, records, tags, commits, HTML, logs.

Two kinds of secrets are masked with ``***``:

* the password of any URL (``scheme://user:password@host``);
* the value of every credential tide knows: environment variables named like a credential (a word
  TOKEN, SECRET, PASSWORD, PASSWD, CREDENTIAL(S), or PRIVATE_KEY, ACCESS_KEY, API_KEY, SECRET_KEY,
  CONNECTION_STRING in the name: ``REPO_TOKEN``, ``GITHUB_TOKEN``, ``AWS_SECRET_ACCESS_KEY``...), and
  values handed to :func:`remember` at run time (a ``--token`` flag).

The sinks apply it, so new code cannot bypass it: the CLI's stdout and stderr
(:func:`redacting_streams`, installed by ``tide.cli.main.run_command``; rich consoles write there
too), error messages (``TideError``), the git module for tag and commit messages
(``tide.core.git.Git.run``), promotion records (``tide.registry.records.write``), comments
(``tide.ops.comment``) and the local forge's HTML pages (``tide.forge.site``).

The environment is read here, lazily, because a sink has no ``Env`` at hand; values shorter than
:data:`MIN_SECRET` characters and file paths are not treated as secrets (masking ``1`` everywhere
would garble output without protecting anything).
"""

from __future__ import annotations

import os

MASK = "***"
MIN_SECRET = 8
# ``scheme://user:password@host``: the password part of a URL
_URL_PASSWORD = r"([A-Za-z][\w+.-]*://[^/\s:@]*:)[^/\s@]+@"
_WORDS = frozenset({"TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "CREDENTIALS"})
_PAIRS = ("PRIVATE_KEY", "ACCESS_KEY", "API_KEY", "SECRET_KEY", "CONNECTION_STRING", "CREDENTIALS_DATA")

_remembered: set[str] = set()
_cache: list = [None, ()]  # [key, secrets]: recomputed when the environment or the remembered set grows


def secret_name(name: str) -> bool:
    """Whether an environment variable of this name holds a credential."""
    upper = name.upper()
    return bool(_WORDS.intersection(upper.split("_"))) or any(p in upper for p in _PAIRS)


def remember(value: str | None) -> None:
    """Treat ``value`` (a token given on the command line, say) as a secret from now on."""
    if value and len(value) >= MIN_SECRET:
        _remembered.add(value)


def _usable(value: str) -> bool:
    return len(value) >= MIN_SECRET and not value.startswith(("/", "~")) and value.lower() not in ("true", "false")


def known_secrets() -> tuple[str, ...]:
    """Every secret value known now, longest first (a secret holding another is masked whole)."""
    key = (len(os.environ), len(_remembered))
    if _cache[0] != key:
        found = {v for k, v in os.environ.items() if secret_name(k) and _usable(v)}
        found |= _remembered
        _cache[0], _cache[1] = key, tuple(sorted(found, key=len, reverse=True))
    return _cache[1]


def redact(text: str) -> str:
    """``text`` with URL passwords and known secret values replaced by ``***``."""
    if not text:
        return text
    if "@" in text and "://" in text:
        import re  # here, not at the top: `re` costs start-up time to every command

        text = re.sub(_URL_PASSWORD, rf"\1{MASK}@", text)
    for s in known_secrets():
        if s in text:
            text = text.replace(s, MASK)
    return text


def redact_bytes(data: bytes) -> bytes:
    if not data:
        return data
    return redact(data.decode("utf-8", errors="surrogateescape")).encode("utf-8", errors="surrogateescape")


class _RedactingBytes:
    """A binary stream (``sys.stdout.buffer``) whose writes are redacted."""

    def __init__(self, raw) -> None:
        self._raw = raw

    def write(self, data: bytes) -> int:
        self._raw.write(redact_bytes(bytes(data)))
        return len(data)

    def __getattr__(self, name: str):
        return getattr(self._raw, name)


class RedactingStream:
    """A text stream whose writes are redacted; everything else is the wrapped stream's."""

    def __init__(self, stream) -> None:
        self._stream = stream

    @property
    def wrapped(self):
        return self._stream

    @property
    def buffer(self) -> _RedactingBytes:
        self._stream.flush()  # text written before goes out before these bytes
        return _RedactingBytes(self._stream.buffer)

    def write(self, text: str) -> int:
        self._stream.write(redact(text))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


class redacting_streams:  # used as a context manager
    """``with redacting_streams():`` ``sys.stdout`` and ``sys.stderr`` redact what is written to them;
    the previous streams come back at the end (nesting is harmless)."""

    def __enter__(self) -> None:
        import sys

        self._saved = (sys.stdout, sys.stderr)
        if sys.stdout is not None and not isinstance(sys.stdout, RedactingStream):
            sys.stdout = RedactingStream(sys.stdout)
        if sys.stderr is not None and not isinstance(sys.stderr, RedactingStream):
            sys.stderr = RedactingStream(sys.stderr)

    def __exit__(self, *exc: object) -> None:
        import sys

        sys.stdout, sys.stderr = self._saved
