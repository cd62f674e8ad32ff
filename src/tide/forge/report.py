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


def _spans_outside_code(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in _FENCE.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    return spans


def _data_uri(url: str) -> tuple[bytes, str] | None:
    m = re.match(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^,;]+)*?);base64,(?P<data>.*)$", url, re.S)
    if not m:
        return None
    try:
        data = base64.b64decode(m.group("data"), validate=False)
    except (binascii.Error, ValueError):
        raise UsageError("the report holds a data: URI that is not valid base64")
    return data, m.group("mime") or "application/octet-stream"


def find_local_files(markdown: str, base_dir: str) -> list[LocalFile]:
    """Images (and links to existing files) the report references by a local path or a data: URI.

    A local *image* that does not exist is an error: a report must never lose an image silently.
    Links to missing paths are left alone (they may be anchors or paths in the forge's web UI).
    """
    out: dict[str, LocalFile] = {}
    for start, end in _spans_outside_code(markdown):
        chunk = markdown[start:end]
        refs = [(m.group("url"), bool(m.group("bang"))) for m in _INLINE.finditer(chunk)]
        refs += [(m.group("url"), False) for m in _DEF.finditer(chunk)]
        for raw, image in refs:
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
            with open(full, "rb") as f:
                data = f.read()
            mime = guess_mime(full, data)
            out[url] = LocalFile(raw, os.path.basename(full), data, mime, image or _is_image_mime(mime))
    return list(out.values())


def rewrite(markdown: str, new_urls: dict[str, str]) -> str:
    """Replace the URLs of inline links/images and reference definitions (keys as written)."""
    if not new_urls:
        return markdown

    def inline(m: re.Match[str]) -> str:
        raw = m.group("url")
        if raw not in new_urls:
            return m.group(0)
        return f"{m.group('bang')}[{m.group('text')}]({new_urls[raw]}{m.group('rest') or ''})"

    def definition(m: re.Match[str]) -> str:
        raw = m.group("url")
        return m.group("lead") + new_urls[raw] if raw in new_urls else m.group(0)

    parts, pos = [], 0
    for start, end in _spans_outside_code(markdown):
        parts.append(markdown[pos:start])
        chunk = _INLINE.sub(inline, markdown[start:end])
        parts.append(_DEF.sub(definition, chunk))
        pos = end
    parts.append(markdown[pos:])
    return "".join(parts)


def publish_report(markdown: str, base_dir: str, upload: Callable[[LocalFile], str]) -> str:
    """Upload every local file the report references and return the report with links rewritten."""
    mapping = {}
    for lf in find_local_files(markdown, base_dir):
        mapping[lf.ref] = upload(lf)
    return rewrite(markdown, mapping)


def asset_markdown(url: str, title: str, mime: str) -> str:
    if _is_image_mime(mime):
        t = f' "{title}"' if title else ""
        return f"![]({url}{t})"
    return f"[{title or os.path.basename(url.split('?')[0])}]({url})"
