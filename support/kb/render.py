"""Markdown to safe HTML: markdown-it-py (CommonMark and tables, raw HTML off) and then
nh3 on its output, so a script, an iframe or a `javascript:` link is never live even if
the parser let something through. Size limits keep a pasted dump from being stored."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

MAX_BODY_BYTES = 1_000_000  # a long article is ~30 kB; a megabyte is a paste by mistake
MAX_TITLE_CHARS = 300

_md = MarkdownIt("commonmark", {"html": False}).enable("table")

_TAGS = {"a", "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote",
         "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "img", "del"}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"style"}, "td": {"style"},
               "ol": {"start"}}


class TooLarge(ValueError):
    """The text is over its limit (the limit is in the message)."""


def check_size(title: str, body: str) -> None:
    size = len(body.encode("utf-8", "replace"))
    if size > MAX_BODY_BYTES:
        raise TooLarge(f"the article body is {size:,} bytes; the limit is {MAX_BODY_BYTES:,} bytes")
    if len(title) > MAX_TITLE_CHARS:
        raise TooLarge(f"the title is {len(title):,} characters; the limit is {MAX_TITLE_CHARS}")


def to_html(markdown: str) -> str:
    """Sanitized HTML for an article body: only formatting tags, http(s)/mailto links."""
    return nh3.clean(_md.render(markdown), tags=_TAGS, attributes=_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow",
                     filter_style_properties={"text-align"})


def plain_snippet(markdown: str, limit: int = 200) -> str:
    """The first words of the body without Markdown punctuation (for lists and search)."""
    text = " ".join(line.strip(" #>*-|`") for line in markdown.splitlines() if line.strip(" #>*-|`"))
    return text[:limit] + ("…" if len(text) > limit else "")
