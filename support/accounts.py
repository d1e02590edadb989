"""Users, roles, passwords (argon2), API tokens (random, stored as SHA-256), web login
sessions (server-side rows, so they can be revoked) and the throttle on failed logins."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from storage.db import session_factory, transaction
from storage.models.accounts import ApiToken, LoginThrottle, User, WebSession
from storage.models.base import ROLES, utcnow
from trkv.settings import Settings, get_settings

_hasher = PasswordHasher()

# What each role may do, from the seed's team structure; each role includes the ones before it.
ROLE_RANK = {"community_manager": 1, "engineer": 2, "lead": 3}
ROLE_ALIASES = {"support_lead": "lead", "support_engineer": "engineer", "cm": "community_manager"}
TOKEN_PREFIX_CHARS = 12  # "trkv_" and 7 random characters: enough to name a token, useless to guess it
LOGIN_FAILURES_ALLOWED = 10  # failed logins per account and per client ...
LOGIN_WINDOW = timedelta(minutes=15)  # ... within this window; then blocked for the rest of it


class AccountError(ValueError):
    pass


def normalize_role(role: str) -> str:
    role = ROLE_ALIASES.get(role, role)
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role


def has_role(user: User, minimum: str) -> bool:
    return ROLE_RANK[user.role] >= ROLE_RANK[minimum]


def create_user(email: str, role: str, password: str | None, *, name: str = "", settings: Settings | None = None) -> User:
    settings = settings or get_settings()
    email = email.strip().lower()
    if "@" not in email:
        raise AccountError(f"{email!r} is not an email address")
    if password is not None and len(password) < 8:
        raise AccountError("the password needs at least 8 characters")
    with transaction(settings.db_url) as session:
        if session.execute(select(User.id).where(User.email == email)).first():
            raise AccountError(f"a user {email} already exists")
        user = User(email=email, role=normalize_role(role), name=name or email.split("@")[0],
                    password_hash=_hasher.hash(password) if password else None)
        session.add(user)
    return user


def authenticate(email: str, password: str, settings: Settings | None = None) -> User | None:
    settings = settings or get_settings()
    with session_factory(settings.db_url, readonly=True)() as session:
        user = session.execute(select(User).where(User.email == email.strip().lower(), User.active.is_(True))).scalar()
    if user is None or not user.password_hash:
        _hasher.hash("timing-equalizer")  # do the same work whether or not the user exists
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def create_token(email: str, *, name: str = "", settings: Settings | None = None) -> str:
    """A new API token for the user; only its hash (and its prefix) is stored, so it is shown once."""
    return create_token_row(email, name=name, settings=settings)[1]


def create_token_row(email: str, *, name: str = "", settings: Settings | None = None) -> tuple[int, str]:
    """(the token's id, the token)."""
    settings = settings or get_settings()
    token = "trkv_" + secrets.token_urlsafe(32)
    with transaction(settings.db_url) as session:
        user = session.execute(select(User).where(User.email == email.strip().lower())).scalar()
        if user is None:
            raise AccountError(f"no user {email}")
        row = ApiToken(user_id=user.id, token_hash=_digest(token), name=name, prefix=token[:TOKEN_PREFIX_CHARS])
        session.add(row)
        session.flush()
        return row.id, token


def user_for_token(token: str, settings: Settings | None = None) -> User | None:
    settings = settings or get_settings()
    with session_factory(settings.db_url, readonly=True)() as session:
        row = session.execute(
            select(User, ApiToken.id, ApiToken.last_used_at).join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None), User.active.is_(True))
        ).first()
    if row is None:
        return None
    user, token_id, last_used_at = row
    now = utcnow()
    if last_used_at is None or last_used_at < now - timedelta(minutes=1):
        # At most one write a minute per token: API reads should not queue for the write lock.
        with transaction(settings.db_url) as session:
            session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    return user


def get_user(user_id: int, settings: Settings | None = None) -> User | None:
    settings = settings or get_settings()
    with session_factory(settings.db_url, readonly=True)() as session:
        return session.get(User, user_id)


def has_users(settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    with session_factory(settings.db_url, readonly=True)() as session:
        return session.execute(select(User.id).limit(1)).first() is not None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# users and tokens, managed by leads -------------------------------------------------------


@dataclass
class TokenInfo:
    id: int
    email: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def list_users(settings: Settings | None = None) -> list[User]:
    settings = settings or get_settings()
    with session_factory(settings.db_url, readonly=True)() as session:
        return list(session.execute(select(User).order_by(User.email)).scalars())


def list_tokens(email: str | None = None, settings: Settings | None = None) -> list[TokenInfo]:
    settings = settings or get_settings()
    query = select(ApiToken, User.email).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    if email:
        query = query.where(User.email == email.strip().lower())
    with session_factory(settings.db_url, readonly=True)() as session:
        return [TokenInfo(t.id, mail, t.name, t.prefix, t.created_at, t.last_used_at, t.revoked_at)
                for t, mail in session.execute(query)]


def find_tokens(id_or_prefix: str, settings: Settings | None = None) -> list[TokenInfo]:
    """Tokens named by their id, their prefix (at least TOKEN_PREFIX_CHARS characters) or the whole token."""
    value = id_or_prefix.strip()
    tokens = list_tokens(settings=settings)
    if value.isdigit():
        return [t for t in tokens if t.id == int(value)]
    if len(value) < TOKEN_PREFIX_CHARS:
        raise AccountError(f"give a token id or at least its first {TOKEN_PREFIX_CHARS} characters")
    if len(value) > TOKEN_PREFIX_CHARS:  # the whole token: match its hash, not only its prefix
        settings = settings or get_settings()
        with session_factory(settings.db_url, readonly=True)() as session:
            ids = set(session.execute(select(ApiToken.id).where(ApiToken.token_hash == _digest(value))).scalars())
        return [t for t in tokens if t.id in ids]
    return [t for t in tokens if t.prefix == value]


def revoke_token(token_id: int, *, acting_user_id: int | None = None, settings: Settings | None = None) -> bool:
    """Revoke one token (True when it was live). A user acting through the web or the API
    may not revoke a token of their own: the caller would cut the branch it sits on."""
    settings = settings or get_settings()
    with transaction(settings.db_url) as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise AccountError(f"no token {token_id}")
        if acting_user_id is not None and row.user_id == acting_user_id:
            raise AccountError("you cannot revoke your own token here; use `trkv token revoke`")
        if row.revoked_at is not None:
            return False
        row.revoked_at = utcnow()
    return True


def set_active(email: str, active: bool, *, acting_user_id: int | None = None,
               settings: Settings | None = None) -> User:
    """Deactivate (or reactivate) a user. Deactivation ends their web sessions; their tokens
    stop working with them (tokens of inactive users are never accepted)."""
    settings = settings or get_settings()
    with transaction(settings.db_url) as session:
        user = session.execute(select(User).where(User.email == email.strip().lower())).scalar()
        if user is None:
            raise AccountError(f"no user {email}")
        if acting_user_id is not None and user.id == acting_user_id:
            raise AccountError("you cannot deactivate yourself")
        user.active = active
        if not active:
            session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    return user


def set_password(email: str, password: str, settings: Settings | None = None) -> None:
    """A new password; every web session of the user ends (a stolen cookie dies with the old password)."""
    settings = settings or get_settings()
    if len(password) < 8:
        raise AccountError("the password needs at least 8 characters")
    with transaction(settings.db_url) as session:
        user = session.execute(select(User).where(User.email == email.strip().lower())).scalar()
        if user is None:
            raise AccountError(f"no user {email}")
        user.password_hash = _hasher.hash(password)
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))


# web sessions --------------------------------------------------------------------------------


def start_session(user_id: int, max_age: timedelta, settings: Settings | None = None) -> str:
    """A new session id for the cookie; only its hash is stored. Expired rows go at the same time."""
    settings = settings or get_settings()
    session_id = secrets.token_urlsafe(32)
    with transaction(settings.db_url) as session:
        session.execute(delete(WebSession).where(WebSession.created_at < utcnow() - max_age))
        session.add(WebSession(id_hash=_digest(session_id), user_id=user_id))
    return session_id


def session_user(user_id: int, session_id: str, settings: Settings | None = None) -> User | None:
    """The active user the session belongs to, while the session exists."""
    settings = settings or get_settings()
    with session_factory(settings.db_url, readonly=True)() as session:
        return session.execute(
            select(User).join(WebSession, WebSession.user_id == User.id)
            .where(WebSession.id_hash == _digest(session_id), User.id == user_id, User.active.is_(True))
        ).scalar()


def end_session(session_id: str, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    with transaction(settings.db_url) as session:
        session.execute(delete(WebSession).where(WebSession.id_hash == _digest(session_id)))


# failed logins ---------------------------------------------------------------------------------


def login_blocked_for(keys: list[str], settings: Settings | None = None) -> float:
    """Seconds until a login under these keys may be tried again (0: now)."""
    settings = settings or get_settings()
    now = utcnow()
    with session_factory(settings.db_url, readonly=True)() as session:
        until = session.execute(select(LoginThrottle.blocked_until).where(
            LoginThrottle.key_hash.in_([_digest(k) for k in keys]), LoginThrottle.blocked_until > now)).scalars()
        latest = max(until, default=None)
    return (latest - now).total_seconds() if latest else 0.0


def record_login_failure(keys: list[str], settings: Settings | None = None) -> float:
    """Count a failure under each key; the seconds the keys are now blocked for (0: not blocked)."""
    settings = settings or get_settings()
    try:
        return _count_failure(keys, settings)
    except IntegrityError:  # another process counted this key's first failure at the same moment
        return _count_failure(keys, settings)


def _count_failure(keys: list[str], settings: Settings) -> float:
    now = utcnow()
    blocked = 0.0
    with transaction(settings.db_url) as session:
        for key in keys:
            row = session.get(LoginThrottle, _digest(key), with_for_update=True)
            if row is None:
                row = LoginThrottle(key_hash=_digest(key), failures=0, window_start=now)
                session.add(row)
            elif row.window_start < now - LOGIN_WINDOW:
                row.failures, row.window_start, row.blocked_until = 0, now, None
            row.failures += 1
            if row.failures >= LOGIN_FAILURES_ALLOWED:
                row.blocked_until = row.window_start + LOGIN_WINDOW
                blocked = max(blocked, (row.blocked_until - now).total_seconds())
    return blocked


def clear_login_failures(keys: list[str], settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    with transaction(settings.db_url) as session:
        session.execute(delete(LoginThrottle).where(LoginThrottle.key_hash.in_([_digest(k) for k in keys])))
