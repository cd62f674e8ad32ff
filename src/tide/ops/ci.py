"""``tide ci`` / ``tide repo prepare``: get a CI checkout ready for tide pr/comment.

Sets ``user.name``/``user.email``, installs a credential helper that reads the token from its
environment variable at push time (the token itself is never written to ``.git/config``), removes
the ``actions/checkout`` auth header that would clash with it, and fetches what reports need.
Only the repository's own config (``git config --local``) is changed, never the global one.
"""

from __future__ import annotations

from dataclasses import dataclass

from tide.core.errors import UsageError
from tide.core.git import Git
from tide.forge.detect import TOKEN_VARS, parse_remote
from tide.ops.forge import ForgeContext, open_forge, remote_url


@dataclass(frozen=True)
class Prepared:
    steps: tuple[str, ...]


def credential_helper(var: str, decode_basic: bool) -> str:
    if decode_basic:  # Bitbucket: the variable holds base64("user:app_password"), as CML expects
        return (
            '!f() { test "$1" = get || exit 0; c=$(printf %s "$' + var + '" | base64 -d); '
            'echo "username=${c%%:*}"; echo "password=${c#*:}"; }; f'
        )
    return '!f() { test "$1" = get || exit 0; echo "password=$' + var + '"; }; f'


def prepare(
    path: str | None = None,
    *,
    user_name: str = "tide[bot]",
    user_email: str = "tide-bot@users.noreply.localhost",
    fetch_depth: int | None = None,
    ctx: ForgeContext | None = None,
    **forge_options: str | None,
) -> Prepared:
    ctx = ctx or open_forge(path, **forge_options)
    git = Git(ctx.root, ctx.git_env())
    steps: list[str] = []
    git.run("config", "--local", "user.name", user_name)
    git.run("config", "--local", "user.email", user_email)
    steps.append(f"git user: {user_name} <{user_email}>")
    url = remote_url(git, ctx.remote)
    auth = ctx.forge.git_auth()
    if auth and url:
        info = parse_remote(url)
        if info.scheme in ("http", "https"):
            tok = ctx.token
            if tok is None or tok.source not in TOKEN_VARS:
                raise UsageError(
                    "tide ci reads the token from an environment variable at push time so that it is never"
                    f" written to disk: set one of {', '.join(TOKEN_VARS)} instead of --token"
                )
            host = f"{info.scheme}://{info.host}"
            git.run("config", "--local", "--unset-all", f"http.{host}/.extraheader", check=False)
            decode = auth[1] != tok.value
            helper = credential_helper(tok.source, decode)
            git.run("config", "--local", "--replace-all", f"credential.{host}.helper", helper)
            git.run("config", "--local", f"credential.{host}.username", auth[0])
            steps.append(f"git credentials for {host}: from ${tok.source} (not stored)")
    if url:
        shallow = git.out("rev-parse", "--is-shallow-repository").strip() == "true"
        args = ["fetch", "-q", "--tags", ctx.remote, f"+refs/heads/*:refs/remotes/{ctx.remote}/*"]
        if fetch_depth is not None and fetch_depth > 0:
            args.insert(2, f"--depth={fetch_depth}")
        elif fetch_depth is not None and shallow:
            args.insert(2, "--unshallow")
        git.run(*args)
        steps.append("fetched branches and tags from " + ctx.remote)
    return Prepared(tuple(steps))
