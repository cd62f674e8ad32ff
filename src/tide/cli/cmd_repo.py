"""tide repo prepare: the same as tide ci (CML's 'repo prepare')."""


def register(p):
    from tide.cli.cmd_ci import add_prepare_options
    from tide.cli.forgeargs import add_forge_options

    p.add_argument("action", choices=("prepare",))
    add_prepare_options(p)
    add_forge_options(p)


def run(args):
    from tide.cli.cmd_ci import run_prepare

    return run_prepare(args)
