"""The one error hierarchy of tide.

    TideError                  user-facing; the CLI prints ``str(err)`` on one line and exits ``exit_code``
    ├── UsageError             bad arguments or a command that makes no sense here (exit 2)
    ├── NotARepoError          not inside a tide/dvc repository
    ├── ConfigError            malformed or invalid configuration
    ├── FileFormatError        malformed .dvc / .dir / dvc.yaml / dvc.lock / params file
    ├── PathError              a path outside the repo, inside .dvc/, unsafe (``..``, escaping symlink)
    ├── OverlapError           a path already tracked by another output
    ├── MissingError           a file or object that should exist does not
    ├── LockError              another process holds the repository lock
    ├── CacheError             the cache cannot be written or holds a corrupt object
    ├── GitError               a git command failed
    ├── StorageError           a remote failed (transient or permanent)
    ├── PipelineError          a stage failed or the pipeline is invalid
    ├── ForgeError             a forge API call failed
    └── RunnerError            provisioning or teardown failed

Anything that is not a TideError reaching the CLI is a bug and is shown with its traceback.
"""

from __future__ import annotations

from tide.core.redact import redact  # the one redaction; re-exported for callers

MAX_LEN = 1000  # characters of a message; longer ones are shortened in the middle


class TideError(Exception):
    exit_code = 1

    def __init__(self, message: str, *, details: str | None = None) -> None:
        # one line, always: names taken from user files may hold line breaks (found by fuzzing);
        # never a password from a URL (found by the secrets canaries)
        text = redact(str(message)).replace("\r", "\\r").replace("\n", "\\n")
        if len(text) > MAX_LEN:  # a whole line of a garbled file is no help (found by fuzzing)
            text = text[: MAX_LEN - 300] + " [...] " + text[-280:]
        super().__init__(text)
        self.details = redact(details) if details else details


class UsageError(TideError):
    exit_code = 2


class NotARepoError(TideError):
    pass


class ConfigError(TideError):
    pass


class FileFormatError(TideError):
    pass


class PathError(TideError):
    pass


class OverlapError(TideError):
    pass


class MissingError(TideError):
    pass


class LockError(TideError):
    pass


class CacheError(TideError):
    pass


class GitError(TideError):
    pass


class StorageError(TideError):
    pass


class PipelineError(TideError):
    pass


class ForgeError(TideError):
    pass


class RunnerError(TideError):
    pass

__all__ = [
    "TideError", "UsageError", "NotARepoError", "ConfigError", "FileFormatError", "PathError", "OverlapError",
    "MissingError", "LockError", "CacheError", "GitError", "StorageError", "PipelineError", "ForgeError",
    "RunnerError", "MAX_LEN", "redact",
]
