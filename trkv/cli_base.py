"""What every `trkv` command module shares, kept light: `trkv --help` must not import
pydantic, SQLAlchemy or scikit-learn, so the settings load on first use."""

from __future__ import annotations


def get_settings():
    """The hub's settings (`trkv.settings.get_settings`), imported when a command runs."""
    from trkv.settings import get_settings as load

    return load()


def forget_settings() -> None:
    """Drop the cached settings, so the next call reads the environment again."""
    from trkv.settings import get_settings as load

    load.cache_clear()
