"""CML's flags that tide does not have: accepted by the parser, then refused with one line naming
what to do instead (main.py prints ``ERROR: <why>`` and exits 2 before the command runs)."""

from __future__ import annotations

import argparse


class _Refuse(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        if not getattr(namespace, "cml_refused", None):
            namespace.cml_refused = f"{option_string} is not supported: {self.help_text}"


def refuse(p, *names: str, why: str, takes_value: bool = True) -> None:
    """Declare CML option ``names`` that tide refuses; ``why`` names the tide equivalent."""
    action = p.add_argument(*names, action=_Refuse, nargs="?" if takes_value else 0, dest="cml_refused",
                            default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    action.help_text = why


def add_publish_options(p, *, asset: bool = False) -> None:
    """Where images go, in CML's words as well as tide's (--to)."""
    p.add_argument("--native", "--publish-native", dest="native", action="store_true",
                   help="the forge's own file storage (tide's default; GitHub: the tide-assets branch)")
    names = ("--publish-url", "--url") if asset else ("--publish-url",)
    p.add_argument(*names, dest="publish_url", default="", metavar="URL",
                   help="a self-hosted asset server spoken to with CML's protocol (POST the file, the answer is "
                        "its URL), e.g. minroud-s3; tide never uses CML's public asset.cml.dev by itself")
    if asset:
        p.add_argument("--gitlab-uploads", dest="native", action="store_true", help=argparse.SUPPRESS)


def destination(args) -> tuple[str, str]:
    """(to, url) from --to, --native and --publish-url; contradictory choices are a usage error."""
    from tide.core.errors import UsageError

    to = getattr(args, "publish_to", None) or getattr(args, "to", None) or "forge"
    if args.publish_url and args.native:
        raise UsageError("--publish-url and --native name two different places for the files: give one")
    if args.native and to != "forge":
        raise UsageError(f"--native stores files on the forge: it cannot be combined with --to {to}")
    if args.publish_url:
        if to != "forge":
            raise UsageError(f"--publish-url stores files on that host: it cannot be combined with --to {to}")
        return "url", args.publish_url
    return to, ""
