"""``tide install [--use-pre-commit-tool]``: git hooks running checkout after git checkout, status before a
commit and push before git push."""


def register(p):
    p.add_argument("--use-pre-commit-tool", action="store_true",
                   help="add the hooks to .pre-commit-config.yaml instead of .git/hooks")


def run(args):
    from tide.cli.output import repo
    from tide.ops.install import install

    r = repo()
    for p in install(r, args.use_pre_commit_tool):
        if not args.quiet:
            print(f"Installed {r.rel(p) if p.startswith(r.root) else p}")
    return 0
