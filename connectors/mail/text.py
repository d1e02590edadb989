"""Email text: HTML to readable text, and the new part of a reply without its quoted
history and signature."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK_TAGS = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "hr"}
# Not "head": mail with an unclosed <head> would lose its whole body.
_SKIP_TAGS = {"script", "style", "title", "template", "noscript"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """Readable text from HTML: tags dropped, script/style content dropped, blocks on lines."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient, but a half-parsed text beats none
        pass
    lines = (re.sub(r"[ \t\r\f\v\xa0]+", " ", line).strip() for line in "".join(parser.out).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- quoted history and signatures ---

_ATTRIBUTION_RE = re.compile(
    r"^\s*(On\b.{0,300}\bwrote|Le\b.{0,300}\ba écrit|Am\b.{0,300}\bschrieb|El\b.{0,300}\bescribió"
    r"|Op\b.{0,300}\bschreef|Il\b.{0,300}\bha scritto|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}.{0,200}"
    r"(wrote|написал|napisał|skrev|kirjoitti|schrieb))\s*:?\s*$",
    re.I,
)
_SEPARATOR_RE = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original|Forwarded message)"
    r"\s*-{2,}|_{20,}|Begin forwarded message:)\s*$",
    re.I,
)
_HEADER_BLOCK_RE = re.compile(r"^\s*\**(From|De|Von|Van|Da)\**\s*:\s*\S", re.I)
_HEADER_FOLLOW_RE = re.compile(r"^\s*\**(Sent|Date|Envoyé|Gesendet|To|Subject|Objet|Betreff|Cc)\**\s*:", re.I)
_MOBILE_SIG_RE = re.compile(r"^\s*(Sent from my \w+|Sent from (Mail|Outlook|Yahoo Mail)\b|Get Outlook for \w+).*$", re.I)


def strip_reply(text: str) -> str:
    """The new part of a reply: quoted history and the signature removed. Interleaved
    answers (quotes between new text) are kept whole; an all-quote text is kept as is."""
    lines = text.split("\n")
    cut = len(lines)
    for index, line in enumerate(lines):
        if _is_history_start(lines, index):
            cut = index
            break
    kept = lines[:cut]
    # A trailing run of quoted lines (and blank ones) is history too.
    end = len(kept)
    while end and (not kept[end - 1].strip() or kept[end - 1].lstrip().startswith(">")):
        end -= 1
    if any(line.lstrip().startswith(">") for line in kept[end:]):
        kept = kept[:end]
    kept = _strip_signature(kept)
    result = "\n".join(kept).strip()
    if not result and cut < len(lines):
        # Bottom-posted: the quote comes first, the answer below it.
        below = [x for x in lines[cut + 1 :] if not x.lstrip().startswith(">") and not _is_history_start([x], 0)]
        result = "\n".join(_strip_signature(below)).strip()
    return result if result else text.strip()


def _is_history_start(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _SEPARATOR_RE.match(line):
        return True
    joined = line if len(line) > 300 else " ".join(x.strip() for x in lines[index : index + 3] if x.strip())
    if line.strip() and (_ATTRIBUTION_RE.match(line) or (_ATTRIBUTION_RE.match(joined) and not line.lstrip().startswith(">"))):
        # "On Mon, ... wrote:" must end a line (or the two or three lines joined).
        return _attribution_ends(lines, index)
    if _HEADER_BLOCK_RE.match(line):
        follow = [x for x in lines[index + 1 : index + 5] if x.strip()]
        return sum(1 for x in follow if _HEADER_FOLLOW_RE.match(x)) >= 2
    return False


def _attribution_ends(lines: list[str], index: int) -> bool:
    for offset in range(3):
        if index + offset < len(lines) and lines[index + offset].rstrip().endswith(":"):
            return True
    return False


def _strip_signature(lines: list[str]) -> list[str]:
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].rstrip() in ("--", "-- ") and len(lines) - index <= 15:
            return lines[:index]
    while lines and (not lines[-1].strip() or _MOBILE_SIG_RE.match(lines[-1])):
        lines = lines[:-1]
    return lines
