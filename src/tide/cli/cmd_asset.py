"""tide asset publish FILE   (CML's deprecated 'publish FILE' runs this too)"""


def register(p):
    from tide.cli.cmlcompat import add_publish_options
    from tide.cli.forgeargs import add_forge_options

    p.add_argument("action", choices=("publish",))
    p.add_argument("file", metavar="FILE")
    p.add_argument("--md", action="store_true", help="print markdown: ![](url) for images, [title](url) otherwise")
    p.add_argument("-t", "--title", default="", help="title in the markdown")
    p.add_argument("--to", choices=("forge", "remote"), default="forge",
                   help="the forge's own storage (default) or the project's DVC remote")
    add_publish_options(p, asset=True)
    p.add_argument("--mime-type", help="MIME type (default: from the content and name)")
    p.add_argument("--target", help="issue/PR the upload belongs to where the forge needs one (Gitea): pr, pr#N")
    p.add_argument("-f", "--file", dest="out_file", metavar="OUT",
                   help="append the output to this file (created if missing) instead of printing it")
    p.add_argument("--rm-watermark", action="store_true",
                   help="accepted for CML: tide adds no watermark to asset links")
    add_forge_options(p)


def run(args):
    from tide.cli.cmlcompat import destination
    from tide.cli.forgeargs import forge_options
    from tide.ops.asset import publish_file

    to, url = destination(args)
    res = publish_file(args.file, md=args.md, title=args.title, to=to, url=url, mime=args.mime_type,
                       target=args.target, **forge_options(args))
    if args.out_file:
        with open(args.out_file, "a", encoding="utf-8") as f:  # CML says "append" (its code overwrote)
            f.write(res.markdown + "\n")
    else:
        print(res.markdown)
    return 0
