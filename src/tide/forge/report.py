"""Report markdown: the comment watermark (CML-compatible) and local images to publish.

Watermark: ``![](https://cml.dev/watermark.png#<sha> "CML watermark[ <label>]")`` appended after a
blank line, exactly as CML writes it, so comments CML made are found and updated by tide and the
other way round. Matching ignores the SHA and needs the same label.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from tide.core.errors import MissingError, UsageError
from tide.forge.base import Comment

WATERMARK_URL = "https://cml.dev/watermark.png"
_ESCAPE = re.compile(r"([_*\[<])")


def watermark_label(title: str, workflow: str = "", run: str = "") -> str:
    label = title.replace("{workflow}", workflow).replace("{run}", run)
    return _ESCAPE.sub(r"\\\1", label)  # GitHub re-escapes these, so CML stores them escaped


def watermark(label: str, sha: str) -> str:
    title = f"CML watermark {label}".strip()
    return f'![]({WATERMARK_URL}#{sha or "0"} "{title}")'


def append_watermark(body: str, label: str, sha: str) -> str:
    return f"{body.rstrip()}\n\n{watermark(label, sha)}"


def watermark_pattern(label: str) -> re.Pattern[str]:
    title = re.escape(f"CML watermark {label}".strip())
    return re.compile(r"!\[\]\(" + re.escape(WATERMARK_URL) + r"#[0-9a-fA-F]+ \"" + title + r"\"\)")


def newest_watermarked(comments: Iterable[Comment], label: str) -> Comment | None:
    """The newest comment carrying the watermark with ``label`` (comments given oldest first)."""
    pat = watermark_pattern(label)
    found = None
    for c in comments:
        if pat.search(c.body or ""):
            found = c
    return found


# --- local files referenced by the report ---------------------------------------------------------

# ![alt](url "title") and [text](url "title"); url may be <bracketed>
_INLINE = re.compile(
    r"(?P<bang>!?)\[(?P<text>(?:[^\[\]\\]|\\.|\[[^\]]*\])*)\]"
    r"\(\s*(?P<url><[^>]*>|[^\s()]+)(?P<rest>\s+\"[^\"]*\"|\s+'[^']*')?\s*\)"
)
_DEF = re.compile(r"^(?P<lead> {0,3}\[[^\]]+\]:\s*)(?P<url><[^>]*>|\S+)", re.M)
_FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.M | re.S)
_CODE_SPAN = re.compile(r"(?<![`\\])(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True)
class LocalFile:
    ref: str          # the URL exactly as written in the markdown
    name: str         # a file name for the upload
    data: bytes
    mime: str
    is_image: bool


def _is_image_mime(mime: str) -> bool:
    return mime.startswith("image/") or mime.startswith("video/")


def guess_mime(name: str, data: bytes = b"") -> str:
    sigs = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"GIF8": "image/gif", b"<svg": "image/svg+xml"}
    for sig, mime in sigs.items():
        if data.startswith(sig):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _masked(text: str) -> str:
    """``text`` with fenced code blocks blanked and inline code spans filled (same length, lines
    kept), so that link syntax shown as code is neither uploaded nor rewritten."""
    def blank(m: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", m.group(0))

    def code(m: re.Match[str]) -> str:
        return m.group(1) + re.sub(r"[^\n]", "x", m.group(2)) + m.group(1)

    return _CODE_SPAN.sub(code, _FENCE.sub(blank, text))


def _refs(markdown: str) -> list[tuple[int, int, bool]]:
    """(start, end, is image) of the URL of every inline link or image and reference definition
    outside code."""
    masked = _masked(markdown)
    found = [(m.start("url"), m.end("url"), bool(m.group("bang"))) for m in _INLINE.finditer(masked)]
    found += [(m.start("url"), m.end("url"), False) for m in _DEF.finditer(masked)]
    return sorted(found)


def _data_uri(url: str) -> tuple[bytes, str] | None:
    m = re.match(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^,;]+)*?);base64,(?P<data>.*)$", url, re.S)
    if not m:
        return None
    try:
        data = base64.b64decode(m.group("data"), validate=False)
    except (binascii.Error, ValueError):
        raise UsageError("the report holds a data: URI that is not valid base64")
    return data, m.group("mime") or "application/octet-stream"


def inside(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or below it, symlinks resolved in both."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def find_local_files(markdown: str, base_dir: str, root: str) -> list[LocalFile]:
    """Images (and links to existing files) the report references by a local path or a data: URI.

    A local *image* that does not exist is an error: a report must never lose an image silently.
    Links to missing paths are left alone (they may be anchors or paths in the forge's web UI).
    Only files inside ``root`` (the repository; symlinks resolved) are ever read: a link or image
    to any other file (``../../etc/hostname``, ``/home/me/.ssh/id_rsa``, a symlink leading out) is
    refused, so nothing outside the repository leaves the machine through a report.
    """
    out: dict[str, LocalFile] = {}
    for start, end, image in _refs(markdown):
        raw = markdown[start:end]
        url = raw[1:-1] if raw.startswith("<") else raw
        if url in out or url.startswith(WATERMARK_URL) or url.startswith("#"):
            continue
        if url.startswith("data:"):
            decoded = _data_uri(url)
            if decoded:
                data, mime = decoded
                ext = mimetypes.guess_extension(mime) or ".bin"
                name = hashlib.sha256(data).hexdigest()[:16] + ext
                out[url] = LocalFile(raw, name, data, mime, True)
            continue
        if _SCHEME.match(url) or url.startswith("//"):
            continue
        path = url.split("#")[0].split("?")[0]
        from urllib.parse import unquote

        full = os.path.normpath(os.path.join(base_dir, unquote(path)))
        if not os.path.isfile(full):
            if image:
                raise MissingError(f"the report's image '{url}' does not exist (looked at {full})")
            continue
        if not inside(full, root):
            raise UsageError(f"the report links to '{url}' ({os.path.realpath(full)}), which is outside the "
                             f"repository {root}: only files inside the repository are published")
        with open(full, "rb") as f:
            data = f.read()
        mime = guess_mime(full, data)
        out[url] = LocalFile(raw, os.path.basename(full), data, mime, image or _is_image_mime(mime))
    return list(out.values())


def rewrite(markdown: str, new_urls: dict[str, str]) -> str:
    """Replace the URLs of inline links/images and reference definitions (keys as written)."""
    if not new_urls:
        return markdown
    parts, pos = [], 0
    for start, end, _ in _refs(markdown):
        raw = markdown[start:end]
        if raw in new_urls:
            parts += [markdown[pos:start], new_urls[raw]]
            pos = end
    parts.append(markdown[pos:])
    return "".join(parts)


def publish_report(markdown: str, base_dir: str, upload: Callable[[LocalFile], str], root: str) -> str:
    """Upload every local file the report references (inside ``root`` only) and return the report
    with links rewritten."""
    mapping = {}
    for lf in find_local_files(markdown, base_dir, root):
        mapping[lf.ref] = upload(lf)
    return rewrite(markdown, mapping)


def asset_markdown(url: str, title: str, mime: str) -> str:
    if _is_image_mime(mime):
        t = f' "{title}"' if title else ""
        return f"![]({url}{t})"
    return f"[{title or os.path.basename(url.split('?')[0])}]({url})"
