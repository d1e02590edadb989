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
