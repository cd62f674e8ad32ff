"""GitHub Actions expressions (``${{ ... }}``), the subset workflows use, evaluated strictly.

Literals (``'str'`` with ``''`` escapes, numbers, ``true``/``false``/``null``), context access
(``a.b``, ``a['b']``, ``a.*`` is not supported), ``!``, ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``,
``&&``, ``||``, parentheses and the functions ``success() failure() always() cancelled()
contains() startsWith() endsWith() format() join() toJSON() fromJSON()``.

Unlike GitHub, nothing unknown becomes an empty string: an unknown context, a property the context
does not have (a secret nobody created, a step output nobody wrote) or an unknown function raises
:class:`ExpressionError`, so a workflow that depends on something the rehearsal does not provide fails
instead of running with a blank value.
"""

from __future__ import annotations

import json
import re


class ExpressionError(Exception):
    pass


_TOKEN = re.compile(r"""\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,])
                         |(?P<name>[A-Za-z_][A-Za-z0-9_-]*))""", re.X)


def tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExpressionError(f"cannot parse expression {text!r} at {text[pos:]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _str(v) -> str:
    if v is None:
        return ""
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v, indent=2)
    return str(v)


def truthy(v) -> bool:
    return not (v is None or v is False or v == 0 or v == "")


def _coerce_eq(a, b) -> bool:
    if type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return a.lower() == b.lower() if isinstance(a, str) else a == b
    def num(x):
        if x is None:
            return 0
        if isinstance(x, bool):
            return int(x)
        if isinstance(x, (int, float)):
            return x
        try:
            return float(x) if str(x).strip() else 0
        except ValueError:
            return float("nan")
    return num(a) == num(b)


class Evaluator:
    """``contexts``: name -> value (dicts for github/env/secrets/steps/needs/inputs/matrix...);
    ``status``: the job status the status functions see ('success', 'failure', 'cancelled')."""

    def __init__(self, contexts: dict, status: str = "success") -> None:
        self.contexts = contexts
        self.status = status

    # --- parsing and evaluation in one pass ----------------------------------------------------
    def evaluate(self, text: str):
        self.toks = tokens(text)
        self.i = 0
        self.text = text
        if not self.toks:
            raise ExpressionError("empty expression")
        v = self._or()
        if self.i != len(self.toks):
            raise ExpressionError(f"unexpected {self.toks[self.i][1]!r} in {text!r}")
        return v

    def _peek(self) -> str | None:
        return self.toks[self.i][1] if self.i < len(self.toks) else None

    def _take(self, want: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise ExpressionError(f"unexpected end of {self.text!r}")
        tok = self.toks[self.i]
        if want is not None and tok[1] != want:
            raise ExpressionError(f"expected {want!r}, got {tok[1]!r} in {self.text!r}")
        self.i += 1
        return tok

    def _or(self):
        v = self._and()
        while self._peek() == "||":
            self._take()
            w = self._and()
            v = v if truthy(v) else w
        return v

    def _and(self):
        v = self._cmp()
        while self._peek() == "&&":
            self._take()
            w = self._cmp()
            v = w if truthy(v) else v
        return v

    def _cmp(self):
        v = self._unary()
        while self._peek() in ("==", "!=", "<", "<=", ">", ">="):
            op = self._take()[1]
            w = self._unary()
            if op == "==":
                v = _coerce_eq(v, w)
            elif op == "!=":
                v = not _coerce_eq(v, w)
            else:
                a, b = (float(v), float(w))
                v = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        return v

    def _unary(self):
        if self._peek() == "!":
            self._take()
            return not truthy(self._unary())
        return self._postfix(self._primary())

    def _primary(self):
        kind, val = self._take()
        if kind == "num":
            return float(val) if "." in val else int(val)
        if kind == "str":
            return val[1:-1].replace("''", "'")
        if val == "(":
            v = self._or()
            self._take(")")
            return v
        if kind != "name":
            raise ExpressionError(f"unexpected {val!r} in {self.text!r}")
        if val in ("true", "false"):
            return val == "true"
        if val == "null":
            return None
        if self._peek() == "(":
            return self._call(val)
        if val not in self.contexts:
            raise ExpressionError(f"unknown context '{val}' in {self.text!r}")
        self._path = val
        return self.contexts[val]

    def _postfix(self, v):
        while self._peek() in (".", "["):
            if self._take()[1] == ".":
                key = self._take()[1]
            else:
                key = self._or()
                self._take("]")
            v = self._index(v, key)
        return v

    def _index(self, v, key):
        where = getattr(self, "_path", "?")
        self._path = f"{where}.{key}"
        if isinstance(v, dict):
            for k in v:  # property names are case-insensitive
                if str(k).lower() == str(key).lower():
                    return v[k]
            raise ExpressionError(f"'{self._path}' does not exist (in {self.text!r})")
        if isinstance(v, list) and isinstance(key, (int, float)) and 0 <= int(key) < len(v):
            return v[int(key)]
        raise ExpressionError(f"'{self._path}' does not exist (in {self.text!r})")

    def _call(self, name: str):
        self._take("(")
        args = []
        while self._peek() != ")":
            args.append(self._or())
            if self._peek() == ",":
                self._take()
        self._take(")")
        low = name.lower()
        status = {"success": self.status == "success", "failure": self.status == "failure",
                  "cancelled": self.status == "cancelled", "always": True}
        if low in status:
            if args:
                raise ExpressionError(f"{name}() takes no argument")
            return status[low]
        if low == "contains":
            hay, needle = args
            if isinstance(hay, list):
                return any(_coerce_eq(x, needle) for x in hay)
            return _str(needle).lower() in _str(hay).lower()
        if low == "startswith":
            return _str(args[0]).lower().startswith(_str(args[1]).lower())
        if low == "endswith":
            return _str(args[0]).lower().endswith(_str(args[1]).lower())
        if low == "format":
            out = _str(args[0])
            for n, a in enumerate(args[1:]):
                out = out.replace("{" + str(n) + "}", _str(a))
            return out
        if low == "join":
            sep = _str(args[1]) if len(args) > 1 else ","
            return sep.join(_str(x) for x in args[0]) if isinstance(args[0], list) else _str(args[0])
        if low == "tojson":
            return json.dumps(args[0], indent=2)
        if low == "fromjson":
            return json.loads(_str(args[0]))
        raise ExpressionError(f"unknown function '{name}()' in {self.text!r}")


_SUB = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def substitute(text: str, ev: Evaluator) -> str:
    """Every ``${{ expr }}`` in ``text`` replaced by its value as a string (as GitHub does before a shell
    or an action sees the text)."""
    return _SUB.sub(lambda m: _str(ev.evaluate(m.group(1))), text)


def condition(text: str | bool | None, ev: Evaluator) -> bool:
    """An ``if:``: a bare expression or one wrapped in ``${{ }}``; without a status function it means
    ``success() && (...)``."""
    if text is None:
        return ev.status == "success"
    if isinstance(text, bool):
        return text and ev.status == "success"
    inner = str(text).strip()
    m = re.fullmatch(r"\$\{\{(.*)\}\}", inner, re.S)
    if m:
        inner = m.group(1)
    value = truthy(ev.evaluate(inner))
    if not re.search(r"\b(success|failure|always|cancelled)\s*\(", inner):
        value = value and ev.status == "success"
    return value
