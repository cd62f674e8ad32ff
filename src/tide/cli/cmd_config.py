LEVEL_FLAGS = ("system", "global", "project", "local")


def add_level_flags(p):
    g = p.add_mutually_exclusive_group()
    g.add_argument("--global", dest="level", action="store_const", const="global", help="use the global config")
    g.add_argument("--system", dest="level", action="store_const", const="system", help="use the system config")
    g.add_argument("--project", dest="level", action="store_const", const="repo", help="use .dvc/config (default)")
    g.add_argument("--local", dest="level", action="store_const", const="local",
                   help="use .dvc/config.local (git-ignored; for secrets)")


def register(p):
    p.add_argument("name", nargs="?", help="option name, e.g. core.remote or remote.NAME.url")
    p.add_argument("value", nargs="?", help="value to set")
    p.add_argument("-u", "--unset", action="store_true", help="remove the option")
    p.add_argument("-l", "--list", action="store_true", help="list all options")
    p.add_argument("--show-origin", action="store_true", help="show the file each value comes from")
    add_level_flags(p)


def run(args):
    from tide.ops.config import config_cli

    return config_cli(args)
