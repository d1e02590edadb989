"""Email HTML made safe to show: nh3 (the Rust ammonia sanitizer) keeps a small set of
formatting tags, drops scripts, styles, event handlers, forms and frames, allows only
http(s)/mailto links, and removes remote images unless the agent asks for them.
The page's Content-Security-Policy is the second wall: even markup that got through
could neither run a script nor load anything from elsewhere."""

from __future__ import annotations

import nh3
from markupsafe import Markup

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "abbr": {"title"},
}
MAX_HTML_CHARS = 2_000_000


def clean(html: str, *, remote_images: bool = False) -> tuple[Markup, int]:
    """(safe markup, how many remote images were held back)."""
    held_back = 0

    def keep(tag: str, attribute: str, value: str) -> str | None:
        nonlocal held_back
        if tag == "img" and attribute == "src":
            if not value.lower().startswith(("http://", "https://")):
                return None  # cid:, data: and the like: nothing we can show
            if not remote_images:
                held_back += 1  # a remote image tells the sender when the mail was read
                return None
        return value

    cleaned = nh3.clean(
        html[:MAX_HTML_CHARS], tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow", strip_comments=True, attribute_filter=keep,
    )
    return Markup(cleaned), held_back  # noqa: S704 - nh3 output is the sanitized form
