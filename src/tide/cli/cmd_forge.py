"""tide forge init|show|info: the embedded local forge, and what the current forge supports."""


def register(p):
    from tide.cli.forgeargs import add_forge_options

    sub = p.add_subparsers(dest="action", required=True)
    i = sub.add_parser("init", help="create a bare repository to serve as a local forge")
    i.add_argument("path", help="where to create the bare repository (e.g. ../forge/project.git)")
    i.add_argument("--add-remote", metavar="NAME", help="also add it as a git remote of this repository")
    s = sub.add_parser("show", help="render the local forge's pull requests, comments and checks as HTML")
    s.add_argument("-o", "--output", help="directory for the site (default: <bare repo>/tide-forge/site)")
    add_forge_options(s)
    f = sub.add_parser("info", help="show the forge tide would use here and its capabilities")
    add_forge_options(f)


def run(args):
    from tide.cli.forgeargs import forge_options

    if args.action == "init":
        import os

        from tide.core.git import Git, find_root
        from tide.forge.local import init_bare

        path = init_bare(args.path)
        if args.add_remote:
            root = find_root(os.getcwd())
            if root is None:
                from tide.core.errors import GitError

                raise GitError("--add-remote needs to run inside a git repository")
            Git(root).run("remote", "add", args.add_remote, path)
        print(path)
        return 0
    from tide.ops.forge import open_forge

    ctx = open_forge(**forge_options(args))
    if args.action == "show":
        from tide.core.errors import UsageError

        if ctx.forge.name != "local":
            raise UsageError(f"tide forge show renders the local forge; this repository uses {ctx.forge.name}")
        from tide.forge.site import render

        print(render(ctx.forge, args.output))
        return 0
    import dataclasses

    print(f"driver: {ctx.forge.name}")
    print(f"repository: {ctx.forge.web_url}")
    print(f"token: {'from ' + ctx.token.source if ctx.token else 'none'}")
    if ctx.ci.provider:
        print(f"ci: {ctx.ci.provider} (branch {ctx.ci.branch or '-'}, pr {ctx.ci.pr or '-'})")
    for f in dataclasses.fields(ctx.forge.capabilities):
        v = getattr(ctx.forge.capabilities, f.name)
        if isinstance(v, frozenset):
            v = ",".join(sorted(v))
        print(f"  {f.name}: {v}")
    return 0
