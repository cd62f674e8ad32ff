"""dvc's table layout (``metrics show``, ``exp show``, ``params diff``...): plain columns or GitHub
Markdown. A module of its own, importing nothing heavy: ``exp show`` renders through it without loading
the pipeline machinery of ``ops.metrics``."""

from __future__ import annotations


def table(headers: list[str], rows: list[list[str]], markdown: bool = False) -> str:
    """dvc's table layout: columns at least the header width plus two; Markdown in GitHub style, every
    cell escaped (names and values come from the user's files: core.markup.md_text)."""
    if markdown:
        from tide.core.markup import md_text

        headers, rows = [md_text(h) for h in headers], [[md_text(c) for c in r] for r in rows]
    widths = [len(h) + 2 for h in headers]
    for r in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, r, strict=True)]
    if markdown:
        line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
        out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        out += [line(r) for r in rows]
        return "\n".join(out) + "\n"
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([fmt(headers)] + [fmt(r) for r in rows])
