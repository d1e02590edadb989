"""Recording a survey answer: from the /csat page (a POST) or a Discord button press.

Everything is checked before anything is written, so a refused answer (a forged or
expired token, a score outside 1..5, an over-long comment, a button pressed by someone
else) records nothing and does not use the token up. One survey holds one answer: a
second one within a day of the first replaces it, later ones are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from storage.db import session_factory, transaction
from storage.models.base import utcnow
from storage.models.contacts import Identity
from storage.models.feedback import Survey
from storage.models.tickets import Ticket
from support.feedback import people, tokens
from trkv.settings import Settings, get_settings

MAX_COMMENT_CHARS = 5000
REPLACE_WITHIN = timedelta(days=1)
REASONS = {
    "slow": "It took too long",
    "not_solved": "My problem is not solved",
    "unclear": "The answer was hard to follow",
    "unfriendly": "The tone was not friendly",
    "other": "Something else",
}


class AnswerError(ValueError):
    """The answer is refused; the message says why and nothing was recorded."""


@dataclass
class SurveyView:
    """What the survey page shows."""

    survey_id: int
    ref: str
    score: int | None
    reason: str | None
    comment: str | None
    answered: bool


def parse_score(value) -> int:
    """1..5 from a form or JSON value; AnswerError for 0, 6, "five", 4.5, true."""
    if isinstance(value, bool) or value is None:
        raise AnswerError("a score from 1 to 5 is needed")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or not 1 <= value <= 5:
        raise AnswerError("the score must be a whole number from 1 to 5")
    return value


def clean_comment(comment) -> str | None:
    if comment is None:
        return None
    if not isinstance(comment, str):
        raise AnswerError("the comment must be text")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise AnswerError(f"the comment holds at most {MAX_COMMENT_CHARS} characters")
    return comment or None


def clean_reason(reason) -> str | None:
    if reason in (None, ""):
        return None
    if reason not in REASONS:
        raise AnswerError(f"the reason must be one of: {', '.join(REASONS)}")
    return reason


def view(token: str, settings: Settings | None = None, now: datetime | None = None) -> SurveyView:
    """The survey a token is for (read only: showing the page records nothing)."""
    settings = settings or get_settings()
    survey_id = tokens.read(token, settings, now or utcnow())
    with session_factory(settings.db_url, readonly=True)() as session:
        survey = session.get(Survey, survey_id)
        if survey is None:
            raise tokens.TokenError("this survey link is not one we sent")
        return SurveyView(survey.id, f"TRKV-{survey.ticket_id}", survey.score, survey.reason, survey.comment,
                          survey.answered_at is not None)


def record(token: str, score, *, reason=None, comment=None, via: str = "web", presser: str | None = None,
           settings: Settings | None = None, now: datetime | None = None) -> SurveyView:
    """Record (or, within a day, replace) the answer. `presser`: the Discord user id that
    pressed a button; it must be one of the ticket's customer's identities."""
    settings = settings or get_settings()
    now = now or utcnow()
    survey_id = tokens.read(token, settings, now)
    score, comment, reason = parse_score(score), clean_comment(comment), clean_reason(reason)
    if score >= 4:
        reason = None  # a reason is asked for low scores only
    with transaction(settings.db_url) as session:
        query = select(Survey).where(Survey.id == survey_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        survey = session.execute(query).scalar_one_or_none()
        if survey is None:
            raise tokens.TokenError("this survey link is not one we sent")
        if survey.answered_at is not None and now - survey.answered_at > REPLACE_WITHIN:
            raise AnswerError("this survey was answered already; thank you")
        if presser is not None:
            _check_presser(session, survey, presser)
        survey.score, survey.reason, survey.comment = score, reason, comment
        survey.answered_via = via
        survey.answered_at = survey.answered_at or now
        survey.follow_up = score <= 2
        return SurveyView(survey.id, f"TRKV-{survey.ticket_id}", score, reason, comment, True)


def _check_presser(session, survey: Survey, presser: str) -> None:
    ticket = session.get(Ticket, survey.ticket_id)
    group = people.group_of(session, ticket.contact_id if ticket else None)
    allowed = session.execute(
        select(Identity.external_user_id).where(Identity.contact_id.in_(group or [-1]), Identity.channel == "discord")
    ).scalars().all()
    if str(presser) not in allowed:
        raise AnswerError("only the customer this survey was sent to can answer it")


def discord_press(token: str, score: int, presser: str, settings: Settings | None = None) -> str:
    """A survey button pressed on Discord: the text the presser sees."""
    try:
        result = record(token, score, via="discord", presser=presser, settings=settings)
    except (tokens.TokenError, AnswerError) as exc:
        return f"Not recorded: {exc}."
    if result.score <= 3:
        url = tokens.url(token, settings or get_settings(), result.score)
        return f"Thank you: we recorded {result.score} out of 5. What went wrong? Tell us here: {url}"
    return f"Thank you: we recorded {result.score} out of 5."
