"""A bearer token for tests that read what only token holders see (/healthz's details)."""

from __future__ import annotations

import uuid

from support import accounts


def token_headers(settings, role: str = "engineer") -> dict[str, str]:
    """The Authorization header of a fresh user of this role (a new one per call)."""
    email = f"operator-{uuid.uuid4().hex[:8]}@trkv.test"
    accounts.create_user(email, role, None, settings=settings)
    return {"Authorization": f"Bearer {accounts.create_token(email, settings=settings)}"}
