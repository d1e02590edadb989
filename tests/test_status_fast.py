"""The status page's fast path answers exactly as the routes do: the same body, the same
headers (security headers, public caching, ETag), a 304 for a matching ETag, and a
change that shows once the snapshot is checked again."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from inbox.app import SECURITY_HEADERS, create_app
from inbox.status_fast import StatusFastPath
from support.incidents import core, status


@pytest.fixture
def client(settings):
    status.forget()
    with TestClient(create_app(settings)) as client:
        yield client


def _heads(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in ("date", "server")}


@pytest.mark.parametrize("path", ["/status", "/status.json", "/status/feed.atom"])
def test_the_fast_path_answers_as_the_route_does(client, path):
    fast = client.get(path)
    routed = client.get(path + "?via=route")  # a query string goes through FastAPI's route
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content
    assert _heads(fast) == _heads(routed)
    for name, value in SECURITY_HEADERS.items():
        assert fast.headers[name] == value
    assert fast.headers["cache-control"] == "public, max-age=10" and "set-cookie" not in fast.headers


def test_a_matching_etag_gets_304_without_a_body(client):
    etag = client.get("/status").headers["etag"]
    again = client.get("/status", headers={"If-None-Match": etag})
    routed = client.get("/status?via=route", headers={"If-None-Match": etag})
    assert again.status_code == routed.status_code == 304 and again.content == b""
    assert _heads(again) == _heads(routed)


def test_a_new_update_shows_on_the_fast_path(client, settings):
    before = client.get("/status.json")
    incident = core.declare("Logins fail", "major", core.Actor("lena.lead@trkv.test"), components_=["Authentication"],
                            message="Sign-in answers 500.", settings=settings, publish=False)
    status.forget()  # the next request checks the database again, as it would 0.1 s later
    after = client.get("/status.json", headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert [i["id"] for i in after.json()["incidents"]] == [incident["id"]]
    assert {c["name"]: c["status"] for c in after.json()["components"]}["Authentication"] == "partial_outage"


def test_the_fast_path_is_in_front_of_the_routes(settings):
    app = create_app(settings)
    assert app.user_middleware[0].cls is StatusFastPath  # the outermost: no routing before it
