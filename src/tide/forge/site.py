"""``tide forge show``: render the local forge's data as a static HTML site.

Pages: ``index.html`` (pull requests, commits and issues with comments), ``pr-<n>.html``,
``commit-<sha>.html``, ``issue-<n>.html``. Markdown is rendered with markdown-it-py (a rich
dependency, so always installed); raw HTML in reports is escaped. Images stored in the forge are
linked by relative paths so the site can be copied elsewhere with the forge directory.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from tide.core.fsutil import atomic_write_text
from tide.core.redact import redact
from tide.forge.local import LocalForge

_WATERMARK = re.compile(r"!\[\]\(https://cml\.dev/watermark\.png#[0-9a-fA-F]+ \"[^\"\n]*\"\)")

CSS = """body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#222}
.comment,.pr,.check{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0}
.meta{color:#666;font-size:.85em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}
img{max-width:100%}.success{color:#1a7f37}.failure{color:#cf222e}.neutral{color:#666}
.state{font-weight:bold;text-transform:uppercase;font-size:.8em}code,pre{background:#f6f8fa}"""


def _md(text: str, forge_root: Path, site: Path) -> str:
    from markdown_it import MarkdownIt

    # file:// links into the forge become relative (markdown-it refuses file: URLs), and the
    # watermark image is dropped: the page must not load anything from a third-party host
    rel = os.path.relpath(forge_root, site).replace(os.sep, "/")
    text = text.replace(forge_root.as_uri() + "/", rel + "/")
    text = _WATERMARK.sub("", text)
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    return md.render(text)


def _page(title: str, body: str) -> str:
    return redact(  # every page goes through the one redaction
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>\n"
        f"<body><p class=\"meta\"><a href=\"index.html\">local forge</a></p><h1>{html.escape(title)}</h1>\n"
        f"{body}\n</body></html>\n"
    )


def _edited(c: dict) -> bool:
    """Updated after it was created (a new comment gets one time stamp for both, forge/local.py)."""
    return bool(c.get("updated")) and c.get("updated") != c.get("created")


def _comments(items: list[dict], root: Path, site: Path) -> str:
    parts = []
    for c in items:
        edited = " (edited)" if _edited(c) else ""
        parts.append(
            f"<div class=\"comment\" id=\"comment-{c['id']}\"><p class=\"meta\">comment {c['id']} · "
            f"{html.escape(c.get('created', ''))}{edited}</p>{_md(c['body'], root, site)}</div>"
        )
    return "\n".join(parts) or "<p class=\"meta\">no comments</p>"


def _checks(items: list[dict], root: Path, site: Path) -> str:
    parts = []
    for c in items:
        cls = html.escape(c.get("conclusion") or c.get("status") or "neutral")
        parts.append(
            f"<div class=\"check\" id=\"check-{c['id']}\"><p><span class=\"{cls} state\">{cls}</span> "
            f"{html.escape(c['title'])}</p>{_md(c.get('summary', ''), root, site)}</div>"
        )
    return "\n".join(parts)


def _ui_url() -> str:
    """``TIDE_UI_URL`` when set and valid, else `tide ui`'s default address (the forge's pages are rendered
    without the project's tide.yaml at hand; a bad address must not keep a comment from being posted)."""
    from tide.core import settings as S
    from tide.core.errors import ConfigError

    try:
        return S.ui_url(S.Settings(""), local_forge=True)
    except ConfigError:
        return S.UI_DEFAULT_URL


def _ui_link(forge: LocalForge, pr: dict) -> str:
    """A link into `tide ui`'s comparison of the PR's base and head (run `tide ui` in the project to follow it)."""
    from urllib.parse import urlencode

    if pr.get("merged_sha"):
        a, b = pr["merged_sha"] + "~1", pr["merged_sha"]
    else:
        a, b = pr["target"], forge._rev(pr["source"])
    if not b:
        return ""
    href = f"{_ui_url()}/runs?{urlencode({'a': a, 'b': b})}"
    return (f"<p class=\"meta\"><a href=\"{html.escape(href)}\">Compare params, metrics and data in tide ui</a> "
            "(run <code>tide ui</code> in the project)</p>")


def render(forge: LocalForge, out_dir: str | None = None, pages: set[str] | None = None) -> str:
    """Write the site; returns the path of ``index.html``. ``pages``: only these pages (and any page not
    written yet) are rendered again; the index always is. None: every page."""
    site = Path(out_dir).resolve() if out_dir else forge.root / "site"

    def wanted(name: str) -> bool:
        return pages is None or name in pages or not (site / name).exists()

    site.mkdir(parents=True, exist_ok=True)
    root = forge.root
    snap = forge.snapshot()
    index = ["<h2>Pull requests</h2>"]
    if not snap["pulls"]:
        index.append("<p class=\"meta\">none</p>")
    for pr in reversed(snap["pulls"]):
        n = pr["number"]
        index.append(
            f"<div class=\"pr\"><span class=\"state\">{html.escape(pr['state'])}</span> "
            f"<a href=\"pr-{n}.html\">#{n} {html.escape(pr['title'])}</a> "
            f"<span class=\"meta\">{html.escape(pr['source'])} → {html.escape(pr['target'])}</span></div>"
        )
        if not wanted(f"pr-{n}.html"):
            continue
        body = (
            f"<p class=\"meta\"><span class=\"state\">{html.escape(pr['state'])}</span> "
            f"{html.escape(pr['source'])} → {html.escape(pr['target'])} · opened {html.escape(pr['created'])}"
            + (f" · merged as <code>{html.escape(pr['merged_sha'][:12])}</code>" if pr.get("merged_sha") else "")
            + f"</p>{_ui_link(forge, pr)}<div class=\"pr\">{_md(pr.get('body', ''), root, site)}</div><h2>Comments</h2>"
            + _comments(snap["comments"].get(f"pr/{n}", []), root, site)
        )
        atomic_write_text(site / f"pr-{n}.html", _page(f"#{n} {pr['title']}", body))
    shas = sorted({k.split("/", 1)[1] for k in snap["comments"] if k.startswith("commit/")} | set(snap["checks"]))
    if shas:
        index.append("<h2>Commits</h2><ul>")
    for sha in shas:
        index.append(f"<li><a href=\"commit-{html.escape(sha)}.html\"><code>{html.escape(sha[:12])}</code></a></li>")
        if not wanted(f"commit-{sha}.html"):
            continue
        body = "<h2>Checks</h2>" + (_checks(snap["checks"].get(sha, []), root, site) or "<p class=\"meta\">none</p>")
        body += "<h2>Comments</h2>" + _comments(snap["comments"].get(f"commit/{sha}", []), root, site)
        atomic_write_text(site / f"commit-{sha}.html", _page(f"Commit {sha[:12]}", body))
    if shas:
        index.append("</ul>")
    issues = sorted(k.split("/", 1)[1] for k in snap["comments"] if k.startswith("issue/"))
    if issues:
        index.append("<h2>Issues</h2><ul>")
    for n in issues:
        index.append(f"<li><a href=\"issue-{html.escape(n)}.html\">#{html.escape(n)}</a></li>")
        if not wanted(f"issue-{n}.html"):
            continue
        body = "<h2>Comments</h2>" + _comments(snap["comments"][f"issue/{n}"], root, site)
        atomic_write_text(site / f"issue-{n}.html", _page(f"Issue #{n}", body))
    if issues:
        index.append("</ul>")
    index_path = site / "index.html"
    atomic_write_text(index_path, _page(f"Local forge: {os.path.basename(forge.bare)}", "\n".join(index)))
    return str(index_path)
