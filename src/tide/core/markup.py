"""Values tide did not write itself (param and metric names and values, stage, model and branch
names, commit messages, error texts quoting files) inserted into markdown reports and tables.

:func:`md_text` is the one escape every report builder uses (``tide report``, the retrain report, the
promotion record, ``--md`` tables): one line, and the characters that make links, images, raw HTML,
entities, code spans, table cells, emphasis or math are backslash-escaped, so a value such as
``![x](/etc/hostname)`` or ``<img src=x onerror=...>`` shows as the text it is and never makes the
report link, load or upload anything. Plain names (``train_rows``, ``loss.train``, ``0.868``) come
out unchanged, so ``metrics diff --md`` stays byte for byte what dvc prints for them. HTML pages
escape with ``html.escape`` (``forge/site.py``, ``ops/plots.py``) and render markdown with raw HTML off.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_SPECIAL = re.compile(r"([\\`*\[\]<>&|~$])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def one_line(value: object) -> str:
    return _CONTROL.sub(" ", str(value))


def md_text(value: object) -> str:
    """``value`` as literal inline markdown text (safe in a table cell, a heading or a list item)."""
    return _SPECIAL.sub(lambda m: "\\" + m.group(0), one_line(value))


def md_code(value: object) -> str:
    """``value`` as an inline code span (nothing inside is markdown or HTML), on one line. Not for
    table cells: GFM splits cells at ``|`` even in code, so tables use :func:`md_text`."""
    text = one_line(value)
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_url(path: str) -> str:
    """A relative path as a link target: percent-encoded, so no character of it ends the link."""
    from urllib.parse import quote

    return quote(one_line(path), safe="/")
