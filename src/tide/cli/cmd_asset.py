"""tide asset publish FILE"""


def register(p):
    from tide.cli.forgeargs import add_forge_options

    p.add_argument("action", choices=("publish",))
    p.add_argument("file", metavar="FILE")
    p.add_argument("--md", action="store_true", help="print markdown: ![](url) for images, [title](url) otherwise")
    p.add_argument("-t", "--title", default="", help="title in the markdown")
    p.add_argument("--to", choices=("forge", "remote"), default="forge",
                   help="the forge's own storage (default) or the project's DVC remote")
    p.add_argument("--mime-type", help="MIME type (default: from the content and name)")
    p.add_argument("--target", help="issue/PR the upload belongs to where the forge needs one (Gitea): pr, pr#N")
    add_forge_options(p)


def run(args):
    from tide.cli.forgeargs import forge_options
    from tide.ops.asset import publish_file

    res = publish_file(args.file, md=args.md, title=args.title, to=args.to, mime=args.mime_type,
                       target=args.target, **forge_options(args))
    print(res.markdown)
    return 0
