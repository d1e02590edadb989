"""The declarative base, shared column types and the vocabulary the tables use.

Times are stored as naive UTC and handed out as aware UTC (`UTCDateTime`), so
SQLite and PostgreSQL behave the same.
"""


from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Integer,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

PRIORITIES = ("critical", "high", "medium", "low")
CATEGORIES = ("bug_report", "feature_request", "support_question", "documentation", "general", "no_action")
STATUSES = ("new", "open", "pending", "resolved", "closed")
ROLES = ("lead", "engineer", "community_manager")
REF_PREFIX = "TRKV-"


def utcnow() -> datetime:
    return datetime.now(UTC)


def naive_utc(value: datetime | None) -> datetime | None:
    """How a time is stored: naive, in UTC (an aware time is converted, a naive one taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None)


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return naive_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid; BIGINT would not autoincrement.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType, list[Any]: JSONType}


def all_metadata():
    """Base.metadata with every domain's tables registered (Alembic, schema checks)."""
    import importlib
    import pkgutil

    import storage.models as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"storage.models.{module.name}")
    return Base.metadata
