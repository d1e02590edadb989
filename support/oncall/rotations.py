"""Who is on call, and who a step of an escalation chain pages.

A schedule is a rotation of users, handing over every `rotation_days` at the wall
clock time of `starts_local` in the schedule's time zone (so a 09:00 handoff stays at
09:00 across daylight-saving changes); an override puts someone else on call for a
while. An escalation policy per severity lists steps: notify the on-call, wait N
minutes, notify again or the next person, then the support lead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models.accounts import User
from storage.models.oncall import EscalationPolicy, OncallContact, OncallOverride, OncallSchedule
from trkv.settings import Settings

NOTIFY_METHODS = ("email", "discord", "webhook", "pagerduty")


class OncallError(ValueError):
    pass


@dataclass
class Target:
    """Someone to page: a user (with their contacts), or a role nobody fills (the
    configured webhook or PagerDuty stands in)."""

    label: str  # "user:3" | "lead" | "oncall"
    name: str
    email: str | None = None
    user_id: int | None = None
    contacts: list[tuple[str, str]] = field(default_factory=list)  # (method, address)


@dataclass
class Step:
    notify: str  # "oncall" | "lead" | "user:ID"
    wait_minutes: float
    schedule: str | None = None


def on_call(session: Session, schedule: OncallSchedule, at: datetime) -> int | None:
    """The user id on call at `at`: an override if one covers it, else the rotation."""
    override = session.execute(
        select(OncallOverride.user_id)
        .where(OncallOverride.schedule_id == schedule.id, OncallOverride.starts_at <= at, OncallOverride.ends_at > at)
        .order_by(OncallOverride.id.desc()).limit(1)
    ).scalar()
    if override is not None:
        return override
    return rotation_member(schedule.members, schedule.starts_local, schedule.timezone, schedule.rotation_days, at)


def rotation_member(members: list[int], starts_local: str, tz: str, rotation_days: int, at: datetime) -> int | None:
    if not members:
        return None
    zone = ZoneInfo(tz)
    start = datetime.fromisoformat(starts_local).replace(tzinfo=None)
    local = at.astimezone(zone).replace(tzinfo=None)  # wall clock against wall clock: DST-proof handoffs
    turns = (local - start) // timedelta(days=rotation_days)
    return members[turns % len(members)]


def steps_for(session: Session, severity: str, settings: Settings) -> list[Step]:
    policy = session.execute(select(EscalationPolicy).where(EscalationPolicy.severity == severity)).scalar()
    if policy is None or not policy.steps:
        wait = settings.page_repeat_minutes
        return [Step("oncall", wait), Step("oncall", wait), Step("lead", wait)]
    return [Step(s["notify"], float(s.get("wait_minutes", settings.page_repeat_minutes)), s.get("schedule"))
            for s in policy.steps]


def parse_steps(spec: str) -> list[dict]:
    """'oncall:5,oncall:5,lead:10' (or 'oncall@primary:5', 'user:3:5') into stored steps."""
    steps = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        who, _, wait = part.rpartition(":")
        if not who:
            who, wait = part, ""
        schedule = None
        if "@" in who:
            who, schedule = who.split("@", 1)
        if not (who in ("oncall", "lead") or (who.startswith("user:") and who[5:].isdigit())):
            raise OncallError(f"step {part!r}: notify oncall, lead or user:ID")
        try:
            minutes = float(wait) if wait else None
        except ValueError as exc:
            raise OncallError(f"step {part!r}: the wait must be minutes") from exc
        step = {"notify": who, **({"wait_minutes": minutes} if minutes is not None else {})}
        steps.append({**step, **({"schedule": schedule} if schedule else {})})
    if not steps:
        raise OncallError("an escalation policy needs at least one step")
    return steps


def targets(session: Session, step: Step, at: datetime) -> list[Target]:
    """Who the step pages; a role nobody fills gives a target without contacts."""
    if step.notify == "lead":
        users = session.execute(
            select(User).where(User.role == "lead", User.active.is_(True)).order_by(User.id)
        ).scalars().all()
        return [_user_target(session, u) for u in users] or [Target("lead", "support lead")]
    if step.notify.startswith("user:"):
        user = session.get(User, int(step.notify[5:]))
        return [_user_target(session, user)] if user is not None and user.active else [Target(step.notify, step.notify)]
    query = select(OncallSchedule).order_by(OncallSchedule.id).limit(1)
    if step.schedule:
        query = select(OncallSchedule).where(OncallSchedule.name == step.schedule)
    schedule = session.execute(query).scalar()
    user_id = on_call(session, schedule, at) if schedule is not None else None
    user = session.get(User, user_id) if user_id is not None else None
    return [_user_target(session, user)] if user is not None else [Target("oncall", "on-call")]


def _user_target(session: Session, user: User) -> Target:
    contacts = session.execute(
        select(OncallContact.method, OncallContact.address).where(OncallContact.user_id == user.id)
        .order_by(OncallContact.id)
    ).all()
    return Target(f"user:{user.id}", user.name or user.email, user.email, user.id, [tuple(c) for c in contacts])


# admin --------------------------------------------------------------------------


def add_schedule(session: Session, name: str, member_emails: list[str], starts_local: str, tz: str = "UTC",
                 rotation_days: int = 7) -> OncallSchedule:
    try:
        ZoneInfo(tz)
        datetime.fromisoformat(starts_local)
    except Exception as exc:
        raise OncallError(f"schedule {name!r}: {exc}") from exc
    members = [user_id(session, email) for email in member_emails]
    schedule = session.execute(select(OncallSchedule).where(OncallSchedule.name == name)).scalar()
    if schedule is None:
        schedule = OncallSchedule(name=name)
        session.add(schedule)
    schedule.members, schedule.starts_local, schedule.timezone = members, starts_local, tz
    schedule.rotation_days = rotation_days
    session.flush()
    return schedule


def add_override(session: Session, schedule_name: str, email: str, starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise OncallError("an override must end after it starts")
    schedule = session.execute(select(OncallSchedule).where(OncallSchedule.name == schedule_name)).scalar()
    if schedule is None:
        raise OncallError(f"no schedule {schedule_name!r}")
    session.add(OncallOverride(schedule_id=schedule.id, user_id=user_id(session, email),
                               starts_at=starts_at, ends_at=ends_at))


def set_policy(session: Session, severity: str, steps: list[dict]) -> None:
    policy = session.execute(select(EscalationPolicy).where(EscalationPolicy.severity == severity)).scalar()
    if policy is None:
        policy = EscalationPolicy(severity=severity)
        session.add(policy)
    policy.steps = steps


def add_contact(session: Session, email: str, method: str, address: str) -> None:
    if method not in NOTIFY_METHODS:
        raise OncallError(f"{method!r}: use one of {', '.join(NOTIFY_METHODS)}")
    uid = user_id(session, email)
    exists = session.execute(select(OncallContact.id).where(
        OncallContact.user_id == uid, OncallContact.method == method, OncallContact.address == address)).scalar()
    if exists is None:
        session.add(OncallContact(user_id=uid, method=method, address=address))


def user_id(session: Session, email: str) -> int:
    found = session.execute(select(User.id).where(User.email == email.strip().lower())).scalar()
    if found is None:
        found = session.execute(select(User.id).where(User.email == email.strip())).scalar()
    if found is None:
        raise OncallError(f"no user {email!r} (add one with `trkv user add`)")
    return found
