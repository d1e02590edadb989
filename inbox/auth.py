"""API authentication: `Authorization: Bearer <token>`, a token from `trkv token create`,
and the role each route needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from storage.models.accounts import User
from support.accounts import has_role, user_for_token

# auto_error=False: we answer 401 (with WWW-Authenticate) ourselves, never 403, for a missing token.
_bearer = HTTPBearer(auto_error=False, description="An API token from `trkv token create EMAIL`")


class ErrorBody(BaseModel):
    """What a 4xx answer other than 422 carries (422 carries FastAPI's list of problems)."""

    detail: str


def error(description: str) -> dict:
    return {"description": description, "model": ErrorBody}


MAX_ID = 2**63 - 1  # ids are BIGINT at most: larger ones are refused before they reach the driver

# Documented on every bearer-token route, so the published schema lists every status it answers.
ERRORS = {401: error("No bearer token, or one that is not valid (revoked, or its user deactivated)"),
          403: error("The token's user lacks the role this route needs")}
NOT_FOUND = {404: error("No such ticket, contact or row")}
BAD_BODY = {400: error("The body is not JSON")}
# The second wave's routers (incidents, knowledge base, templates, releases, feedback) answer these too.
DOMAIN_ERRORS = {**ERRORS, **BAD_BODY, 404: error("No such incident, article, ticket, contact or survey"),
                 409: error("A conflict: a stale version, a second answer, or a state that does not allow it"),
                 413: error("The body is over its limit")}
PUBLIC_ERRORS = {**BAD_BODY, 404: DOMAIN_ERRORS[404], 409: DOMAIN_ERRORS[409], 413: DOMAIN_ERRORS[413],
                 429: error("Too many requests from this client; retry later")}


def optional_api_user(request: Request,
                      credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]) -> User | None:
    """The token's user when a valid token came, else None (for routes open to all that say more to users)."""
    token = credentials.credentials.strip() if credentials is not None else ""
    return user_for_token(token, request.app.state.settings) if token else None


def api_user(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]) -> User:
    if credentials is None or not credentials.credentials.strip():
        raise _unauthorized("a bearer token is required")
    user = user_for_token(credentials.credentials.strip(), request.app.state.settings)
    if user is None:
        raise _unauthorized("the bearer token is not valid")
    request.state.api_token = credentials.credentials.strip()
    return user


def api_role(minimum: str) -> Callable[..., User]:
    """A dependency: the token's user, with at least this role (403 otherwise)."""

    def dependency(user: Annotated[User, Depends(api_user)]) -> User:
        if not has_role(user, minimum):
            raise HTTPException(403, f"this route needs the {minimum.replace('_', ' ')} role")
        return user

    return dependency


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})
