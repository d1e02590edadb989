"""The public survey page `/csat/{token}`: no login, no session, no CSRF cookie.

GET shows the question with the score from `?score=` preselected and records nothing
(mail scanners follow every link in a message). POST records the answer, as a form or
as JSON; a refused POST records nothing and leaves the token usable.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response

from inbox.auth import PUBLIC_ERRORS
from inbox.inbound import read_body
from inbox.pages import templates
from support.feedback import answers, asks, tokens

router = APIRouter(tags=["feedback"], responses=PUBLIC_ERRORS)

BODY_CAP = 64 * 1024  # a comment of 5000 characters, escaped, with room to spare


def _page(request: Request, context: dict, status: int = 200) -> HTMLResponse:
    context = {"user": None, "flash": "", "csrf_token": "", "labels": asks.LABELS, "reasons": answers.REASONS,
               "scores": asks.SCORES, **context}
    return templates.TemplateResponse(request, "feedback/csat.html", context, status_code=status)


def _score_param(request: Request) -> int | None:
    value = request.query_params.get("score", "")
    return int(value) if value in ("1", "2", "3", "4", "5") else None


@router.get("/csat/{token}", response_class=HTMLResponse, summary="The survey question (records nothing)")
def show(token: str, request: Request) -> Response:
    settings = request.app.state.settings
    try:
        survey = answers.view(token, settings)
    except tokens.TokenError as exc:
        return _page(request, {"error": str(exc), "survey": None, "chosen": None}, status=404)
    chosen = _score_param(request) or survey.score
    return _page(request, {"error": "", "survey": survey, "chosen": chosen, "token": token})


@router.post("/csat/{token}", summary="Record the answer: score 1-5 and an optional comment and reason",
             responses={404: {"description": "Not a survey link of ours, or expired"},
                        409: {"description": "Answered more than a day ago"},
                        413: {"description": "Too large"}, 422: {"description": "Not a score from 1 to 5"}})
async def answer(token: str, request: Request) -> Response:
    settings = request.app.state.settings
    wants_json = "json" in request.headers.get("content-type", "") or "json" in request.headers.get("accept", "")
    try:
        raw = await read_body(request, BODY_CAP)
    except HTTPException as exc:  # too large: refused before it is all read
        return _refused(request, wants_json, exc.status_code, str(exc.detail), token)
    try:
        data = _decode(raw, request.headers.get("content-type", ""))
        result = await run_in_threadpool(
            answers.record, token, data.get("score"), reason=data.get("reason"), comment=data.get("comment"),
            via="web", settings=settings)
    except tokens.TokenError as exc:
        return _refused(request, wants_json, 404, str(exc), token)
    except answers.AnswerError as exc:
        status = 409 if "answered already" in str(exc) else 422
        return _refused(request, wants_json, status, str(exc), token)
    if wants_json:
        return JSONResponse({"recorded": True, "ref": result.ref, "score": result.score, "reason": result.reason,
                             "asks_reason": result.score <= 3 and result.reason is None})
    return _page(request, {"error": "", "survey": result, "chosen": result.score, "token": token, "thanks": True})


def _decode(raw: bytes, content_type: str) -> dict:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise answers.AnswerError("the answer is not valid UTF-8") from exc
    if "json" in content_type:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise answers.AnswerError("the answer is not valid JSON") from exc
        if not isinstance(data, dict):
            raise answers.AnswerError("the answer must be a JSON object")
        return data
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _refused(request: Request, wants_json: bool, status: int, message: str, token: str) -> Response:
    if wants_json:
        return JSONResponse({"detail": message}, status_code=status)
    survey = None
    if status != 404:
        try:
            survey = answers.view(token, request.app.state.settings)
        except tokens.TokenError:
            survey = None
    return _page(request, {"error": message, "survey": survey, "chosen": None, "token": token}, status=status)
