"""Arguments of a frequent action read without ``argparse`` (``tide exp show -A --json``).

Importing ``argparse`` and building a command's parser with every action costs a quick command ~10 ms
of its start-up (``argparse``, ``gettext``, ``locale``, ``shutil`` with its compressors). A command lists
the actions whose plain options this reader may take (``PLAIN_ACTIONS`` in its ``cli/cmd_*.py``);
``cli.main`` asks it first. The command's ``register`` declares its arguments here as it does to
argparse; only the action being run is kept (the others go to a sink). The result is the namespace
argparse would give, or None whenever only argparse can tell: anything but exact option strings
(``--all-c``, ``--rev=x``, ``-Af``, ``-h``, ``--``), a positional argument, a value that starts with
``-`` or that its type or choices refuse, a repeated member of a mutually exclusive group, a
required option left out, nested actions, custom actions or types, ``set_defaults``. argparse then
parses as usual (and prints its help and errors). tests/foundation/test_fast_start.py checks the
two agree on generated command lines.
"""

from __future__ import annotations

from types import SimpleNamespace

_SUPPRESS = "==SUPPRESS=="  # argparse.SUPPRESS
_ACTIONS = ("store", "store_true", "store_false", "append", "count")
_TYPES = (None, int, float, str)


class Declined(Exception):
    pass


class _Sink:
    """What the actions not being run register into: nothing."""

    def __getattr__(self, name: str) -> object:
        return lambda *args, **kw: self


class _Group:
    def __init__(self, owner: _Plain) -> None:
        self.owner = owner
        self.dests: list[str] = []

    def add_argument(self, *names: str, **kw: object) -> None:
        self.dests.append(self.owner.add_argument(*names, **kw))


class _Subparsers:
    def __init__(self, owner: _Plain, word: str) -> None:
        self.owner = owner
        self.word = word

    def add_parser(self, name: str, aliases: tuple[str, ...] | list[str] = (), **kw: object) -> object:
        if self.word not in (name, *aliases):
            return _Sink()
        if self.owner.chosen is not None:
            raise Declined  # two actions of one name: argparse's business
        self.owner.chosen = _Plain(self.word)
        return self.owner.chosen


class _Plain:
    def __init__(self, word: str = "", first: str = "") -> None:
        self.word = word  # the action's name as typed (argparse keeps an alias as typed)
        self.first = first  # the command's parser: the first word, the action to keep
        self.options: dict[str, tuple[str, str, object, object]] = {}
        self.values: dict[str, object] = {}
        self.required: list[str] = []
        self.groups: list[_Group] = []
        self.sub_dest: str | None = None
        self.chosen: _Plain | None = None

    def add_argument(self, *names: str, **kw: object) -> str:
        action = kw.get("action", "store")
        if not names or any(not n.startswith("-") for n in names) or action not in _ACTIONS:
            raise Declined  # positionals, custom actions
        if kw.get("nargs") is not None or "const" in kw or kw.get("type") not in _TYPES:
            raise Declined
        long = [n for n in names if n.startswith("--")]
        dest = str(kw.get("dest") or (long[0] if long else names[0]).lstrip("-").replace("-", "_"))
        if "default" in kw:
            default = kw["default"]
        else:
            default = {"store_true": False, "store_false": True}.get(str(action))  # else None
        if default == _SUPPRESS or (isinstance(default, str) and kw.get("type") is not None):
            raise Declined  # argparse would leave it out, or convert it
        for n in names:
            if n in self.options:
                raise Declined
            self.options[n] = (dest, str(action), kw.get("type"), kw.get("choices"))
        self.values.setdefault(dest, default)
        if kw.get("required"):
            self.required.append(dest)
        return dest

    def add_mutually_exclusive_group(self, **kw: object) -> _Group:
        if kw.get("required"):
            raise Declined
        group = _Group(self)
        self.groups.append(group)
        return group

    def add_argument_group(self, *args: object, **kw: object) -> _Plain:
        return self

    def add_subparsers(self, dest: str | None = None, **kw: object) -> _Subparsers:
        if self.word or self.sub_dest is not None or not dest:
            raise Declined  # an action's own actions, or no name to keep the chosen one under
        self.sub_dest = dest
        return _Subparsers(self, self.first)

    def __getattr__(self, name: str) -> object:
        raise Declined  # set_defaults and anything else: argparse

    def parse(self, words: list[str]) -> dict[str, object]:
        """``words`` against this parser's options (values it gives, by dest)."""
        out = dict(self.values)
        given: set[str] = set()
        i = 0
        while i < len(words):
            spec = self.options.get(words[i])
            if spec is None:
                raise Declined  # a positional, an abbreviation, --x=v, -h, --, ...
            dest, action, typ, choices = spec
            if action in ("store_true", "store_false"):
                out[dest] = action == "store_true"
            elif action == "count":
                out[dest] = (out[dest] or 0) + 1  # type: ignore[operator]
            else:
                i += 1
                if i == len(words) or words[i].startswith("-"):
                    raise Declined
                try:
                    value = typ(words[i]) if typ is not None else words[i]  # type: ignore[operator]
                except (TypeError, ValueError):
                    raise Declined from None
                if choices is not None and value not in choices:  # type: ignore[operator]
                    raise Declined
                if action == "append":
                    old = out[dest]
                    if old is not None and not isinstance(old, list):
                        raise Declined  # argparse would copy it and fail to append
                    out[dest] = [*(old or []), value]
                else:
                    out[dest] = value
            given.add(dest)
            i += 1
        if any(d not in given for d in self.required):
            raise Declined
        if any(len(given.intersection(g.dests)) > 1 for g in self.groups):
            raise Declined
        return out


def parse(module, global_options, words: list[str]) -> SimpleNamespace | None:
    """The namespace argparse gives for ``words`` (the command line after the command's name), or None.
    ``global_options(parser)`` declares the options every command has (``cli.main``)."""
    if not words or words[0].startswith("-"):
        return None
    top = _Plain(first=words[0])
    try:
        global_options(top)
        module.register(top)
        if top.chosen is None or top.sub_dest is None:
            return None
        values = top.parse([])
        values[top.sub_dest] = top.chosen.word
        values.update(top.chosen.parse(words[1:]))
    except Declined:
        return None
    return SimpleNamespace(**values)
