"""Message templates: acknowledgements per channel, and the seed's status update.

Each acknowledgement has the ticket reference and the promised response time. The
X form fits 280 characters.
"""

from __future__ import annotations

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


ACK_DISCORD = (
    "Thanks {mention}! We've logged this as **{ref}** ({priority} priority). "
    "Someone from the team will reply here {promise}."
)

ACK_X = "@{handle} Thanks for reaching out! We've logged this as {ref} and will get back to you {promise}."

STATUS_UPDATE = """[Status] TRKV Service Update
Current Status: {status}
Impact: {impact}
Next Update: {next_update}"""

PAGE = "[{priority}] {ref} on {channel}: {snippet}\n{link}"

X_LIMIT = 280


def fit_x(text: str) -> str:
    return text if len(text) <= X_LIMIT else text[: X_LIMIT - 1] + "…"
