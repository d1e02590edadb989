"""Users, roles, passwords (argon2) and API tokens (random, stored as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update

from storage.db import session_factory, transaction
from storage.models.accounts import ApiToken, User
from storage.models.base import ROLES, utcnow
from trkv.settings import Settings, get_settings

_hasher = PasswordHasher()

# What each role may do, from the seed's team structure; each role includes the ones before it.
ROLE_RANK = {"community_manager": 1, "engineer": 2, "lead": 3}
ROLE_ALIASES = {"support_lead": "lead", "support_engineer": "engineer", "cm": "community_manager"}


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
    """A new API token for the user; only its hash is stored, so it is shown once."""
    settings = settings or get_settings()
    token = "trkv_" + secrets.token_urlsafe(32)
    with transaction(settings.db_url) as session:
        user = session.execute(select(User).where(User.email == email.strip().lower())).scalar()
        if user is None:
            raise AccountError(f"no user {email}")
        session.add(ApiToken(user_id=user.id, token_hash=_digest(token), name=name))
    return token


def user_for_token(token: str, settings: Settings | None = None) -> User | None:
    settings = settings or get_settings()
    with session_factory(settings.db_url, readonly=True)() as session:
        row = session.execute(
            select(User, ApiToken.id, ApiToken.last_used_at).join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == _digest(token), User.active.is_(True))
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
