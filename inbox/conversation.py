"""The ticket page's thread: messages grouped by author, Discord's markup shown as
formatting, unresolved mentions named from our contacts, quoted email history folded.

Everything here escapes first and only then adds markup of its own, so customer text can
never become HTML (the page's CSP is the second wall). Nothing here queries per message:
the one lookup (names for mentions) is a single query per page, in web_ticket.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

# <@123>, <@!123> (nickname form), <@&123> (a role), <#123> (a channel): escaped forms.
_MENTION = re.compile(r"&lt;@!?(\d{1,25})&gt;")
_ROLE = re.compile(r"&lt;@&amp;(\d{1,25})&gt;")
_CHANNEL = re.compile(r"&lt;#(\d{1,25})&gt;")
_RAW_MENTION = re.compile(r"<@!?(\d{1,25})>")
_URL = re.compile(r"https?://(?:[^\s&<>\"']|&amp;)+")
_HOLE = re.compile("\ue000(\\d+)\ue001")
_LANGUAGE = re.compile(r"^[A-Za-z0-9_+-]{1,20}\n")  # ```py\n...``` names the language: not shown
_CODE = re.compile(r"`([^`\n]+)`")
# Discord's inline markup, outermost first; applied to already escaped text.
_INLINE = [
    (re.compile(r"\*\*\*(?=\S)(.{1,400}?)(?<=\S)\*\*\*", re.S), r"<strong><em>\1</em></strong>"),
    (re.compile(r"\*\*(?=\S)(.{1,400}?)(?<=\S)\*\*", re.S), r"<strong>\1</strong>"),
    (re.compile(r"__(?=\S)(.{1,400}?)(?<=\S)__", re.S), r"<u>\1</u>"),
    (re.compile(r"\*(?=[^\s*])(.{1,400}?)(?<=[^\s*])\*", re.S), r"<em>\1</em>"),
    (re.compile(r"(?<![\w])_(?=[^\s_])(.{1,400}?)(?<=[^\s_])_(?![\w])", re.S), r"<em>\1</em>"),
    (re.compile(r"~~(?=\S)(.{1,400}?)(?<=\S)~~", re.S), r"<s>\1</s>"),
    (re.compile(r"\|\|(?=\S)(.{1,400}?)(?<=\S)\|\|", re.S), r'<span class="spoiler" tabindex="0" title="spoiler">\1</span>'),
]
MARKUP_CHARS = 8_000
_QUOTE_LINE = re.compile(r"^&gt; ?(.*)(?:\n|$)", re.M)  # the span is a block: it ends the line itself


def mention_ids(messages: Iterable[dict[str, Any]]) -> set[str]:
    """Discord user ids mentioned but not named by the connector (it names those the payload knew)."""
    return {m for msg in messages if msg.get("channel") == "discord" for m in _RAW_MENTION.findall(msg.get("text") or "")}


def discord_markup(text: str, names: dict[str, str] | None = None) -> Markup:
    """Discord's markdown (bold, italics, underline, strikethrough, spoilers, code, quotes)
    and mentions as HTML; everything else escaped."""
    names = names or {}
    text = (text or "").replace("\ue000", "").replace("\ue001", "")
    holes: list[str] = []

    def hole(html: str) -> str:
        holes.append(html)
        return f"\ue000{len(holes) - 1}\ue001"

    # Code blocks by splitting on the fences (linear; a regex would rescan from every fence).
    parts = text.split("```")
    if len(parts) >= 3:
        closed = len(parts) - 1 if len(parts) % 2 == 0 else len(parts)  # an odd fence out stays text
        text = "".join(
            hole(f"<pre><code>{escape(_LANGUAGE.sub('', part).strip(chr(10)))}</code></pre>")
            if i % 2 == 1 and i < closed else (("```" if i % 2 == 1 else "") + part)
            for i, part in enumerate(parts))
    text = _CODE.sub(lambda m: hole(f"<code>{escape(m[1])}</code>"), text)
    html = str(escape(text))
    html = _URL.sub(lambda m: hole(f'<a href="{m[0]}" rel="noopener noreferrer nofollow">{m[0]}</a>'), html)
    html = _MENTION.sub(lambda m: hole(f'<span class="mention">@{escape(names[m[1]])}</span>') if names.get(m[1])
                        else hole(f'<span class="mention" title="a Discord user not in our contacts">@{m[1]}</span>'), html)
    html = _ROLE.sub(lambda m: hole('<span class="mention">@role</span>'), html)
    html = _CHANNEL.sub(lambda m: hole('<span class="mention">#channel</span>'), html)
    if len(html) <= MARKUP_CHARS:  # Discord caps a message at 4,000 characters; this is for what is not one
        for pattern, replacement in _INLINE:
            html = pattern.sub(replacement, html)
    html = _QUOTE_LINE.sub(r'<span class="quote">\1</span>', html)
    while _HOLE.search(html):  # a code span may sit inside a quote: fill until none is left
        html = _HOLE.sub(lambda m: holes[int(m[1])], html)
    return Markup(html)  # noqa: S704 - built from escaped text and our own tags


# quoted email history --------------------------------------------------------------------

_ATTRIBUTION = re.compile(
    r"^\s*(?:-{2,}\s*(?:Original Message|Forwarded message|Ursprüngliche Nachricht|Message d'origine)\s*-{2,}"
    r"|_{10,})\s*$", re.I)
_WROTE = re.compile(r"(?:wrote|schrieb|a écrit|escribió|scrisse)\s*:\s*$", re.I)
_HEADER = re.compile(r"^\s*(?:Sent|Date|To|Subject|Gesendet|Envoyé)\s*:", re.I)


def split_quoted(text: str) -> tuple[str, str | None]:
    """(what the sender wrote, the quoted history below it or None). Only a trailing
    quote is folded: a reply written between quoted lines stays whole. Linear in the
    text's length (a long mail must not make the page slow)."""
    lines = (text or "").split("\n")
    # From each line to the end: how many non-blank lines, and how many of them quoted (">").
    rest, quoted = [0] * (len(lines) + 1), [0] * (len(lines) + 1)
    for i in range(len(lines) - 1, -1, -1):
        blank = not lines[i].strip()
        rest[i] = rest[i + 1] + (0 if blank else 1)
        quoted[i] = quoted[i + 1] + (1 if not blank and lines[i].startswith(">") else 0)

    def rest_quoted(start: int) -> bool:
        """The lines from here on are quoted, apart from blanks and a wrapped attribution."""
        return quoted[start] > 0 and quoted[start] >= rest[start] - 1

    for i in range(1, len(lines)):
        if _starts_history(lines, i, rest_quoted):
            body = "\n".join(lines[:i]).rstrip()
            if body.strip():
                return body, "\n".join(lines[i:]).strip("\n")
            return text, None
    return text, None


def _starts_history(lines: list[str], i: int, rest_quoted) -> bool:
    line = lines[i]
    if _ATTRIBUTION.match(line):
        return True
    if line.lstrip().startswith("On ") or _WROTE.search(line):
        joined = line if _WROTE.search(line) else f"{line} {lines[i + 1] if i + 1 < len(lines) else ''}"
        if _WROTE.search(joined) and rest_quoted(min(i + 1, len(lines))):
            return True
    if line.startswith("From:") and any(_HEADER.match(x) for x in lines[i + 1:i + 5]):
        return True
    return line.startswith(">") and rest_quoted(i)


def fold_html_quote(html: Markup) -> Markup:
    """Wrap the first top-level <blockquote> of sanitized mail HTML (the quoted history)
    in a closed <details>; the HTML is nh3's output, so tags are well formed."""
    text = str(html)
    start = text.find("<blockquote")
    if start <= 0 or not re.sub(r"<[^>]+>", "", text[:start]).strip():
        return html  # nothing written above the quote: show it as it is
    depth, pos = 0, start
    for match in re.finditer(r"<(/?)blockquote\b[^>]*>", text[start:]):
        depth += -1 if match[1] else 1
        if depth == 0:
            pos = start + match.end()
            break
    else:
        return html
    return Markup(f'{text[:start]}<details class="quoted"><summary>Quoted history</summary>'  # noqa: S704
                  f'{text[start:pos]}</details>{text[pos:]}')


# grouping ------------------------------------------------------------------------------------


def turns(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive messages by the same author (and direction) form one turn of the thread."""
    grouped: list[dict[str, Any]] = []
    for message in messages:
        if grouped and (grouped[-1]["direction"], grouped[-1]["author"]) == (message["direction"], message["author"]):
            grouped[-1]["messages"].append(message)
        else:
            grouped.append({"direction": message["direction"], "author": message["author"], "messages": [message]})
    return grouped


def prepare(messages: list[dict[str, Any]], names: dict[str, str]) -> None:
    """Adds what the template shows: `body` (markup) and `quoted` (plain text or None)."""
    for message in messages:
        message["quoted"] = None
        if message["channel"] == "discord":
            message["body"] = discord_markup(message["text"], names)
        else:
            body, quoted = split_quoted(message["text"]) if message["channel"] == "email" else (message["text"], None)
            message["body"], message["quoted"] = escape(body), quoted
        if message.get("safe_html"):
            message["safe_html"] = fold_html_quote(message["safe_html"])
