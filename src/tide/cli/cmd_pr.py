"""tide pr create [GLOB...]   (also: tide pr GLOB...)"""


def register(p):
    from tide.cli.forgeargs import add_forge_options

    p.add_argument("globs", nargs="*", metavar="GLOB",
                   help="'create' then the changed files to include (default: every changed file)")
    p.add_argument("--branch", help="PR branch (default: <target>-cml-pr-<sha8>)")
    p.add_argument("--target-branch", help="branch to merge into (default: the current branch)")
    p.add_argument("--title", help="PR title (default: 'CML PR for <target> <sha8>')")
    p.add_argument("--body", help="PR description")
    p.add_argument("--message", help="commit message (default: 'CML PR for <sha8>')")
    p.add_argument("--skip-ci", action="store_true", help="add [skip ci] to the commit message")
    m = p.add_mutually_exclusive_group()
    m.add_argument("--merge", "--auto-merge", dest="merge", action="store_const", const="merge",
                   help="enable auto-merge (merge commit) where the forge has it, else merge now")
    m.add_argument("--rebase", dest="merge", action="store_const", const="rebase", help="as --merge, rebasing")
    m.add_argument("--squash", dest="merge", action="store_const", const="squash", help="as --merge, squashing")
    p.add_argument("--md", action="store_true", help="print a markdown link instead of the URL")
    p.add_argument("--user-name", help="commit author name (default: git's, else tide[bot])")
    p.add_argument("--user-email", help="commit author email")
    add_forge_options(p)


def run(args):
    import sys

    from tide.cli.forgeargs import forge_options
    from tide.core.errors import UsageError
    from tide.ops.pr import create_pr

    globs = list(args.globs)
    if globs and globs[0] == "create":
        globs = globs[1:]
    elif not globs:
        raise UsageError("usage: tide pr create [GLOB...]  (or tide pr GLOB...)")
    res = create_pr(
        globs, branch=args.branch, target_branch=args.target_branch, title=args.title, body=args.body,
        message=args.message, skip_ci=args.skip_ci, merge=args.merge, user_name=args.user_name,
        user_email=args.user_email, **forge_options(args),
    )
    if res is None:
        print("No changed files matched the given paths. Nothing to do.", file=sys.stderr)
        return 0
    if not args.quiet:
        verb = "opened" if res.created else "updated"
        extra = {"auto": ", auto-merge enabled", "merged": ", merged"}.get(res.merge, "")
        print(f"{verb} #{res.number} from {res.branch} into {res.target}{extra}", file=sys.stderr)
    print(res.markdown() if args.md else res.url)
    return 0
