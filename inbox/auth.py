"""API authentication: `Authorization: Bearer <token>`, a token from `trkv token create`."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from storage.models import User
from support.accounts import user_for_token

# auto_error=False: we answer 401 (with WWW-Authenticate) ourselves, never 403, for a missing token.
_bearer = HTTPBearer(auto_error=False, description="An API token from `trkv token create EMAIL`")


def api_user(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]) -> User:
    if credentials is None or not credentials.credentials.strip():
        raise _unauthorized("a bearer token is required")
    user = user_for_token(credentials.credentials.strip(), request.app.state.settings)
    if user is None:
        raise _unauthorized("the bearer token is not valid")
    return user


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})
