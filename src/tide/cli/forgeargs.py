"""Options every forge command shares (--driver, --repo, --token, --remote)."""

from __future__ import annotations


def add_forge_options(p) -> None:
    g = p.add_argument_group("forge")
    g.add_argument("--driver", choices=("github", "gitlab", "bitbucket", "gitea", "local"),
                   help="forge driver (default: tide.yaml forge.driver, the CI environment, then the remote URL)")
    g.add_argument("--repo", help="repository URL or owner/name (default: the git remote)")
    g.add_argument("--token", "--driver-token", dest="token",
                   help="API token (prefer the REPO_TOKEN/TIDE_TOKEN variables: flags show in process lists)")
    g.add_argument("--remote", default="origin", help="git remote to push to and infer the repo from")


def forge_options(args) -> dict:
    return {"driver": args.driver, "repo": args.repo, "token": args.token, "remote": args.remote}
