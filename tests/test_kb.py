"""The knowledge base over the real app and databases (SQLite, then PostgreSQL): an
article is written, searched, versioned and reverted; bad input is refused or made safe."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from inbox.app import create_app
from support import accounts

LEAD, CM = "lena.lead@trkv.test", "cam.cm@trkv.test"
EXPORT = "You can export a project as CSV from **Settings → Export**. Large projects arrive by email."


def api(settings, email: str, role: str) -> TestClient:
    """A client with a new user's bearer token (the KB tests share it)."""
    accounts.create_user(email, role, "correct horse battery", settings=settings)
    token = accounts.create_token(email, settings=settings)
    return TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def client(settings) -> TestClient:
    with api(settings, LEAD, "lead") as client:
        yield client


def write(client, title="Exporting your projects", category="getting_started", body=EXPORT, status="published"):
    response = client.post("/api/kb/articles", json={"title": title, "category": category, "body": body,
                                                     "status": status})
    assert response.status_code == 201, response.text
    return response.json()


def test_an_article_is_written_searched_versioned_and_reverted(client, settings):
    made = write(client)
    assert made["slug"] == "exporting-your-projects" and made["version"] == 1
    assert made["url"].endswith("/kb/exporting-your-projects")

    found = TestClient(create_app(settings)).get("/api/kb/search", params={"q": "how do I export a project"}).json()
    assert [i["slug"] for i in found["items"]] == ["exporting-your-projects"]
    assert set(found["items"][0]) == {"slug", "title", "category", "snippet", "url"}
    assert "export" in found["items"][0]["snippet"].lower()

    changed = client.put(f"/api/kb/articles/{made['slug']}", json={"body": "Exports are gone.", "version": 1})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    versions = client.get(f"/api/kb/articles/{made['slug']}/versions").json()["items"]
    assert [(v["version"], v["author"]) for v in versions] == [(2, LEAD), (1, LEAD)]
    assert all(v["created_at"] for v in versions)

    reverted = client.post(f"/api/kb/articles/{made['slug']}/revert", json={"version": 1}).json()
    assert reverted["version"] == 3
    article = client.get(f"/api/kb/articles/{made['slug']}").json()
    assert article["body"] == EXPORT and article["version"] == 3 and article["status"] == "published"


def test_a_save_from_a_stale_version_is_a_conflict_not_an_overwrite(client):
    slug = write(client)["slug"]
    assert client.put(f"/api/kb/articles/{slug}", json={"body": "first editor", "version": 1}).status_code == 200
    late = client.put(f"/api/kb/articles/{slug}", json={"body": "second editor", "version": 1})
    assert late.status_code == 409 and "version 2" in late.json()["detail"]
    assert client.get(f"/api/kb/articles/{slug}").json()["body"] == "first editor"
    # A save without a version is the client's choice to overwrite.
    assert client.put(f"/api/kb/articles/{slug}", json={"title": "Exports"}).json()["version"] == 3


def test_a_5_mb_article_is_refused_with_its_limit(client):
    response = client.post("/api/kb/articles", json={"title": "Huge", "category": "faqs", "body": "x" * 5_000_000})
    assert response.status_code == 413
    assert "limit is 1,000,000 bytes" in response.json()["detail"]
    assert client.get("/api/kb/search", params={"q": "huge"}).json()["items"] == []


def test_scripts_iframes_and_javascript_links_render_harmless(client):
    body = ("<script>alert(1)</script>\n\n<iframe src='https://evil.example'></iframe>\n\n"
            "[click](javascript:alert(2)) [ok](https://trkv.example/docs) <img src=x onerror=alert(3)>\n\n"
            + "| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * 20_000)
    slug = write(client, title="Dangerous markup", body=body)["slug"]
    page = TestClient(create_app(client.app.state.settings)).get(f"/kb/{slug}")
    assert page.status_code == 200
    html = page.text
    assert "<script>alert" not in html and "<iframe" not in html and "href=\"javascript" not in html
    assert "onerror" not in html.split('kb-body">')[1].split("&lt;img")[0]
    assert '<a href="https://trkv.example/docs" rel="noopener noreferrer nofollow">ok</a>' in html
    assert html.count("<tr>") > 20_000
    assert "public" in page.headers["cache-control"] and "set-cookie" not in page.headers


def test_nul_bytes_odd_queries_and_bad_numbers_get_clear_answers_not_errors(client, settings):
    raw = (b'{"title": "Nul\\u0000 title", "category": "faqs", "status": "published", '
           b'"body": "Body with a NUL\\u0000 byte and \\ud800 a lone surrogate"}')
    made = client.post("/api/kb/articles", content=raw, headers={"content-type": "application/json"}).json()
    article = client.get(f"/api/kb/articles/{made['slug']}").json()
    assert "\x00" not in article["body"] + article["title"]
    public = TestClient(create_app(settings))
    for q in ["", "   ", "((*[?", "a" * 200, "日本語 の 質問", "\x00"]:
        found = public.get("/api/kb/search", params={"q": q})
        assert found.status_code == 200 and isinstance(found.json()["items"], list)
    assert public.get("/api/kb/search", params={"q": "a" * 201}).status_code == 422
    assert public.get("/kb/" + "x" * 5000).status_code == 404
    assert public.post(f"/kb/{made['slug']}/feedback", json=[1]).status_code == 422
    assert public.post(f"/kb/{made['slug']}/feedback", content=b"{not json",
                       headers={"content-type": "application/json"}).status_code == 422
    assert client.put(f"/api/kb/articles/{made['slug']}", json={"title": "  "}).status_code == 422
    assert client.put(f"/api/kb/articles/{made['slug']}", json={"category": "recipes"}).status_code == 422
    assert client.post(f"/api/kb/articles/{made['slug']}/revert", json={"version": 99}).status_code == 404


def test_drafts_and_archived_articles_stay_out_of_public_search_and_pages(client, settings):
    draft = write(client, title="Webhooks retry policy", body="Webhooks are retried five times.", status="draft")
    public = TestClient(create_app(settings))
    assert public.get("/api/kb/search", params={"q": "webhooks"}).json()["items"] == []
    assert public.get(f"/kb/{draft['slug']}").status_code == 404
    client.put(f"/api/kb/articles/{draft['slug']}", json={"status": "published"})
    assert [i["slug"] for i in public.get("/api/kb/search", params={"q": "webhook"}).json()["items"]] == \
        [draft["slug"]]
    client.put(f"/api/kb/articles/{draft['slug']}", json={"status": "archived"})
    assert public.get("/api/kb/search", params={"q": "webhooks"}).json()["items"] == []


def test_titles_weigh_more_than_bodies_and_typos_get_a_suggestion(client, settings):
    write(client, title="Resetting your password", body="Use the link on the sign-in page.")
    write(client, title="Security overview", body="We never email your password. A password manager helps.")
    found = TestClient(create_app(settings)).get("/api/kb/search", params={"q": "pasword reseting"}).json()  # "reseting" stems to a known word
    assert found["did_you_mean"] == "password reseting"
    found = TestClient(create_app(settings)).get("/api/kb/search", params={"q": "password"}).json()
    assert [i["slug"] for i in found["items"]] == ["resetting-your-password", "security-overview"]
    assert found["did_you_mean"] is None


def test_community_managers_write_drafts_but_do_not_publish(client, settings):
    accounts.create_user(CM, "community_manager", "correct horse battery", settings=settings)
    token = accounts.create_token(CM, settings=settings)
    cm = TestClient(create_app(settings), headers={"Authorization": f"Bearer {token}"})
    body = {"title": "Draft by CM", "category": "faqs", "body": "text"}
    assert cm.post("/api/kb/articles", json={**body, "status": "published"}).status_code == 403
    slug = cm.post("/api/kb/articles", json=body).json()["slug"]
    assert cm.put(f"/api/kb/articles/{slug}", json={"status": "published"}).status_code == 403
    assert client.put(f"/api/kb/articles/{slug}", json={"status": "published"}).status_code == 200


def test_feedback_is_counted_and_spam_is_rate_limited_per_client(client, settings):
    slug = write(client)["slug"]
    public = TestClient(create_app(settings))
    answers = [public.post(f"/kb/{slug}/feedback", json={"helpful": True, "comment": "spam"}).status_code
               for _ in range(8)]
    assert answers[:5] == [200] * 5 and answers[5:] == [429] * 3
    other = TestClient(create_app(settings))
    assert other.post(f"/kb/{slug}/feedback", json={"helpful": "maybe"}).status_code == 422
    assert other.post("/kb/no-such-article/feedback", json={"helpful": False}).status_code == 404


def test_public_pages_need_no_login(client, settings):
    write(client)
    public = TestClient(create_app(settings))
    assert "Exporting your projects" in public.get("/kb").text
    assert "Exporting your projects" in public.get("/kb/getting_started").text
    page = public.get("/kb/search", params={"q": "exprot"})
    assert page.status_code == 200 and "Did you mean" in page.text and "export" in page.text
    assert public.get("/kb/go/exporting-your-projects", follow_redirects=False).headers["location"] == \
        "/kb/exporting-your-projects"
