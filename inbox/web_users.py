"""The leads' users page: who can log in, their API tokens, and the two actions that
cut access at once (deactivate a user, revoke a token). A lead never acts on themself
here: locking yourself out takes the CLI (`trkv user deactivate`, `trkv token revoke`)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from inbox.pages import CSRF, Lead, render
from inbox.web import _back
from storage.models.accounts import User
from support import accounts

router = APIRouter(include_in_schema=False)


@router.get("/users")
def users_page(request: Request, user: User = Lead) -> Response:
    settings = request.app.state.settings
    tokens: dict[str, list[accounts.TokenInfo]] = {}
    for token in accounts.list_tokens(settings=settings):
        tokens.setdefault(token.email, []).append(token)
    return render(request, "users.html", {"user": user, "users": accounts.list_users(settings), "tokens": tokens})


@router.post("/users/{user_id}/deactivate")
def deactivate(user_id: int, request: Request, user: User = Lead, _: None = CSRF) -> Response:
    return _set_active(request, user, user_id, False)


@router.post("/users/{user_id}/activate")
def activate(user_id: int, request: Request, user: User = Lead, _: None = CSRF) -> Response:
    return _set_active(request, user, user_id, True)


@router.post("/users/tokens/{token_id}/revoke")
def revoke(token_id: int, request: Request, user: User = Lead, _: None = CSRF) -> Response:
    try:
        done = accounts.revoke_token(token_id, acting_user_id=user.id, settings=request.app.state.settings)
    except accounts.AccountError as exc:
        return _back("/users", str(exc))
    return _back("/users", f"Token {token_id} revoked." if done else f"Token {token_id} was already revoked.")


def _set_active(request: Request, user: User, user_id: int, active: bool) -> Response:
    settings = request.app.state.settings
    target = accounts.get_user(user_id, settings) if 0 < user_id < 2**31 else None
    if target is None:
        return _back("/users", f"No user {user_id}.")
    try:
        accounts.set_active(target.email, active, acting_user_id=user.id, settings=settings)
    except accounts.AccountError as exc:
        return _back("/users", str(exc))
    return _back("/users", f"{target.email} {'activated' if active else 'deactivated'}.")
