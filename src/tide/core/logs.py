"""Third-party log records (botocore retries, asyncio's "Task exception was never retrieved",
matplotlib's font warnings) must not reach stderr: tide reports errors itself, in one line.

Without a handler, ``logging`` prints WARNING records through its last-resort handler. The CLI
calls ``quiet_library_logs`` before running a command, except for the few commands that are run
often and never load such libraries on their fast path (``status``, ``push``): those leave it to the
code that loads a library (the storage registry), so they do not pay for importing ``logging``.
With ``-v`` the CLI installs a stderr handler first and the records are shown.
"""

from __future__ import annotations


def quiet_library_logs() -> None:
    import logging

    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())


def show_library_logs() -> None:
    import logging

    logging.basicConfig(format="%(name)s: %(levelname)s: %(message)s", level=logging.WARNING)
