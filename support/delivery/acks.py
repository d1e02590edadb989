"""Message templates: acknowledgements per channel, and the seed's status update.

Each acknowledgement has the ticket reference and the promised response time. The
X form fits 280 characters.
"""

from __future__ import annotations

import re

ACK_EMAIL = """Hi {name},

Thanks for contacting TRKV Support. We have logged your request as {ref} and a member of our team will respond {promise}.

To add details, just reply to this email and keep {ref} in the subject.

TRKV Support
{public_url}
"""

ACK_EMAIL_HTML = """<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.4">
<p>Hi {name},</p>
<p>Thanks for contacting TRKV Support. We have logged your request as <strong>{ref}</strong> and a member of our team will respond {promise}.</p>
<p>To add details, just reply to this email and keep {ref} in the subject.</p>
<p>TRKV Support<br><a href="{public_url}">{public_url}</a></p>
</body></html>
"""

REPLY_EMAIL_HTML = """<!doctype html>
<html><body style="font-family: sans-serif; line-height: 1.4">
{body}
<p style="color: #666; font-size: 90%">TRKV Support &middot; {ref} &middot; reply to this email to answer.</p>
</body></html>
"""


def ack_email_html(name: str, ref: str, promise: str, public_url: str) -> str:
    from html import escape

    return ACK_EMAIL_HTML.format(name=escape(name), ref=escape(ref), promise=escape(promise), public_url=escape(public_url))


def reply_email_html(text: str, ref: str, public_url: str = "") -> str:
    """An agent's plain-text reply as HTML: escaped, paragraphs and line breaks kept."""
    import re
    from html import escape

    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    body = "\n".join("<p>" + escape(p).replace("\n", "<br>\n") + "</p>" for p in paragraphs)
    return REPLY_EMAIL_HTML.format(body=body, ref=escape(ref))


KB_PART = {
    "email": "\n\nThis article may already answer your question: {title}\n{url}",
    "discord": "\nThis article may already answer your question: **{title}** {url}",
    "x": " This may help: {url}",
}


def kb_part(channel: str, article: dict[str, str] | None) -> str:
    """The acknowledgement's KB link (support/kb/acks.py picks the article), or ""."""
    return KB_PART[channel].format(**article) if article and channel in KB_PART else ""


def kb_part_html(article: dict[str, str] | None) -> str:
    from html import escape

    if not article:
        return ""
    return (f'<p>This article may already answer your question: <a href="{escape(article["url"])}">'
            f'{escape(article["title"])}</a></p>\n')


def questions_part(channel: str, questions: list[str]) -> str:
    """The issue template's questions the first message left open (support/kb/responses.py)."""
    if not questions or channel not in ("email", "discord"):
        return ""
    return "\n\nTo help us answer faster, please tell us:\n" + "\n".join(f"- {q}" for q in questions)


ACK_DISCORD = (
    "Thanks {mention}! We've logged this as **{ref}** ({priority} priority). "
    "Someone from the team will reply here {promise}."
)

ACK_X = "@{handle} Thanks for reaching out! We've logged this as {ref} and will get back to you {promise}."

THANKS_X = "@{handle} Thank you, that made our day! 💙"
THANKS_DISCORD = "{mention} Thank you, that made our day! 💙"

STATUS_UPDATE = """[Status] TRKV Service Update
Current Status: {status}
Impact: {impact}
Next Update: {next_update}"""

PAGE = "[{priority}] {ref} on {channel}: {snippet}\n{link}"

STATUS_X = "[Status] TRKV: {status}. Impact: {impact}. Next update: {next_update}."

X_LIMIT = 280
X_URL_LENGTH = 23  # X counts every link as a t.co link of 23 characters
_X_URL = re.compile(r"https?://\S+")


def x_length(text: str) -> int:
    """The length X counts: links 23 each, most characters 1, CJK and emoji 2."""
    length = 0
    for part, is_url in _x_parts(text):
        length += X_URL_LENGTH if is_url else sum(_x_weight(c) for c in part)
    return length


def fit_x(text: str, limit: int = X_LIMIT) -> str:
    """`text` shortened with an ellipsis to fit one post; a link is kept whole or dropped."""
    if x_length(text) <= limit:
        return text
    budget, out = limit - _x_weight("…"), []
    for part, is_url in _x_parts(text):
        if is_url:
            if budget < X_URL_LENGTH:
                break
            out.append(part)
            budget -= X_URL_LENGTH
            continue
        for char in part:
            budget -= _x_weight(char)
            if budget < 0:
                break
            out.append(char)
        if budget < 0:
            break
    return "".join(out).rstrip() + "…"


def _x_parts(text: str) -> list[tuple[str, bool]]:
    parts, last = [], 0
    for match in _X_URL.finditer(text):
        parts += [(text[last : match.start()], False), (match.group(), True)]
        last = match.end()
    return [*parts, (text[last:], False)]


def _x_weight(char: str) -> int:
    # twitter-text: these ranges weigh 1, everything else 2
    code = ord(char)
    light = code <= 0x10FF or 0x2000 <= code <= 0x200D or 0x2010 <= code <= 0x201F or 0x2032 <= code <= 0x2037
    return 1 if light else 2


# the incident part: an acknowledgement of a ticket linked to an open incident names it --------

ACK_INCIDENT = ("Thanks {who}! This is part of an incident we are working on: {title}. "
                "Follow it on {url}; we will post updates here too. (Logged as {ref}.)")


def incident_ack(ack, notice, settings):
    """`ack` (an Outbound, or None) with the incident named instead of the generic text,
    when the ticket is linked to an open incident; a proposal's stay generic."""
    if ack is None or notice is None or notice.status == "proposed":
        return ack
    from html import escape

    ref = (ack.meta or {}).get("ref") or ack.idempotency_key.replace("ack:", "TRKV-")
    url = f"{settings.public_url.rstrip('/')}/status#incident-{notice.incident_id}"
    if ack.channel == "discord":
        mention = (ack.meta or {}).get("mention_user")
        ack.text = ACK_INCIDENT.format(who=f"<@{mention}>" if mention else "", title=notice.title, url=url, ref=ref)
    elif ack.channel == "x":
        handle = ack.text.split(" ", 1)[0] if ack.text.startswith("@") else ""
        title = notice.title if len(notice.title) <= 120 else notice.title[:120].rsplit(" ", 1)[0] + "…"
        ack.text = f"{handle} We know, and we're on it: {title}. Updates: {url} ({ref})".strip()  # < 280 with the link
    else:
        ack.text = ACK_INCIDENT.format(who="for writing", title=notice.title, url=url, ref=ref) + "\n\nTRKV Support\n"
        ack.html = f"<!doctype html><html><body><p>{escape(ack.text)}</p></body></html>" if ack.html else None
    return ack
