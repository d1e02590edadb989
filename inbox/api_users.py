"""Users and API tokens over the API, for leads: list them, deactivate a user, revoke a
token. A lead never acts on themself here (the fuzzer, and a script, run with a lead's
token: cutting the caller's own access is the CLI's job)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request

from inbox.auth import ERRORS, api_role, error
from storage.models.accounts import User
from support import accounts

router = APIRouter(prefix="/api", tags=["users"], responses=ERRORS)
Lead = Depends(api_role("lead"))
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_REFUSED = {404: error("No such user or token"), 409: error("Refused: the caller's own account or token")}


@router.get("/users")
def users(request: Request, user: User = Lead) -> dict[str, Any]:
    """Every user with their tokens (id, prefix, name, last use, revoked or not; never the token)."""
    settings = request.app.state.settings
    tokens: dict[str, list[dict[str, Any]]] = {}
    for t in accounts.list_tokens(settings=settings):
        tokens.setdefault(t.email, []).append({
            "id": t.id, "prefix": t.prefix, "name": t.name, "created_at": _iso(t.created_at),
            "last_used_at": _iso(t.last_used_at), "revoked_at": _iso(t.revoked_at)})
    return {"items": [{"id": u.id, "email": u.email, "name": u.name, "role": u.role, "active": u.active,
                       "tokens": tokens.get(u.email, [])} for u in accounts.list_users(settings)]}


@router.post("/users/{user_id}/deactivate", responses=_REFUSED)
def deactivate(user_id: RowId, request: Request, user: User = Lead) -> dict[str, Any]:
    """Deactivate a user: their sessions end and their tokens stop working at once."""
    settings = request.app.state.settings
    target = accounts.get_user(user_id, settings)
    if target is None:
        raise HTTPException(404, f"no user {user_id}")
    if target.id == user.id:
        raise HTTPException(409, "you cannot deactivate yourself")
    accounts.set_active(target.email, False, acting_user_id=user.id, settings=settings)
    return {"id": target.id, "email": target.email, "active": False}


@router.post("/tokens/{token_id}/revoke", responses=_REFUSED)
def revoke(token_id: RowId, request: Request, user: User = Lead) -> dict[str, Any]:
    """Revoke a token (not one of the caller's own)."""
    try:
        done = accounts.revoke_token(token_id, acting_user_id=user.id, settings=request.app.state.settings)
    except accounts.AccountError as exc:
        raise HTTPException(404 if str(exc).startswith("no token") else 409, str(exc)) from exc
    return {"id": token_id, "revoked": True, "was_live": done}


def _iso(value) -> str | None:
    return value.isoformat() if value else None
