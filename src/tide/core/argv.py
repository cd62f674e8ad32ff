"""Values tide passes to external programs (ssh, git, ...) are checked here, where they are parsed.

A value that starts with ``-`` would be read as an option (``ssh -oProxyCommand=...`` runs a
command; so does ``git ls-remote --upload-pack=...``), and control characters or whitespace have no
place in a host name. Hosts, users and ports are checked by :func:`host`, :func:`user` and
:func:`port` (``runners.transport.SSHTarget`` calls them for every target it holds); git's
arguments by :func:`git_args` (``core.git.Git.run`` calls it for every git command); other
programs get ``--`` before their positional arguments. ``tests/reliability/test_issue17_security.py``
checks that every subprocess call is one of the known ones.
"""

from __future__ import annotations

import re

from tide.core.errors import UsageError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_IPV6 = re.compile(r"[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?")
_USER = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.$-]{0,63}")  # used with fullmatch


def value(text: str, what: str) -> str:
    """A value that goes where a program also reads options: no leading '-', no control characters."""
    if not text or text.startswith("-") or _CONTROL.search(text):
        raise UsageError(f"{what} {text!r} is not allowed: it is empty, starts with '-' or holds control characters")
    return text


def host(text: str, what: str = "host") -> str:
    """A DNS name, an IPv4 address or an IPv6 address (brackets already removed)."""
    if not text or len(text) > 253 or not (_HOSTNAME.fullmatch(text) or (":" in text and _IPV6.fullmatch(text))):
        raise UsageError(f"{what} {text!r} is not a host name or address")
    return text


def user(text: str, what: str = "user") -> str:
    if text and not _USER.fullmatch(text):
        raise UsageError(f"{what} {text!r} is not a user name")
    return text


def port(number: int | str, what: str = "port") -> int:
    try:
        n = int(number)
    except (TypeError, ValueError):
        raise UsageError(f"{what} {number!r} is not a port number")
    if not 0 < n < 65536:
        raise UsageError(f"{what} {number!r} is not a port number (1-65535)")
    return n


# Every option tide passes to git, and those whose next argument is their value. Anything else that
# starts with '-' came from a value (a remote, a revision, a config value) and is refused.
GIT_OPTIONS = frozenset({
    "-A", "-D", "-F", "-a", "-am", "-b", "-e", "-m", "-p", "-q", "-r", "-w", "-z",
    "--all", "--bare", "--batch", "--cached", "--exclude-standard", "--full-tree", "--get", "--hard", "--heads",
    "--is-ancestor", "--is-shallow-repository", "--local", "--name-only", "--no-renames", "--others",
    "--porcelain=v1", "--quiet", "--replace-all", "--show-current", "--stdin", "--tags", "--unset-all",
    "--unshallow", "--untracked-files=all", "--verify", "--write-tree", "--format=tar", "--end-of-options",
    "--no-tags", "--refs", "--porcelain", "--force", "--delete", "--prune", "--annotate", "--allow-empty",
    "--git-dir", "--git-path", "-uno", "-uall",
    "--add", "--cacheinfo", "-d", "--no-walk", "--no-walk=unsorted", "--diff-filter=D", "--branches",
    "--remotes", "--detach", "--soft", "-f", "--first-parent",  # tide exp
    "--name-status",  # tide ui: compared files
    "--diff-merges=first-parent", "--root", "--raw", "--no-abbrev", "--reverse",  # tide ui: a history's trees
    "--absolute-git-dir", "--git-common-dir", "--get-regexp",  # core.gitlock: where a stale lock may be removed
})
GIT_OPTION_PREFIXES = ("--format=", "--depth=", "--max-count=")
GIT_VALUED = frozenset({"-m", "-am", "-F", "-p", "-b", "--git-path"})


def git_args(args: tuple[str, ...] | list[str]) -> None:
    """Refuse a git command line in which a value would be read as an option. After ``--`` come paths."""
    skip = False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a == "--":
            return
        if a.startswith("-"):
            if a not in GIT_OPTIONS and not a.startswith(GIT_OPTION_PREFIXES):
                raise UsageError(f"refusing to run git {args[0]} with {a!r}: a value that starts with '-' "
                                 "would be read as an option")
            skip = a in GIT_VALUED
