"""The API Tokens page: the CLI's token create|list|revoke for a signed-in admin, CSRF-checked,
in both languages; a new token is shown once, in the answer, and never in the cookie."""

from __future__ import annotations

import httpx

from tests.support.dashboard import RunningDashboard
from tests.web.pagetools import flashes, page_csrf, parse


def test_create_use_and_revoke_from_the_page(
    reader: httpx.Client, reader_dashboard: RunningDashboard
) -> None:
    page = reader.get("/tokens")
    assert page.status_code == 200 and 'aria-current="page"' in page.text
    token = page_csrf(page.text)
    made = reader.post("/tokens", data={"csrf_token": token, "name": "page-made"})
    assert made.status_code == 200
    secret = parse(made.text).one(id="new-token").text().strip()
    assert secret.startswith("tu_")
    assert secret not in str(made.headers), "the token never travels in the cookie"
    assert "page-made" in parse(reader.get("/tokens").text).one(id="token-list").text()
    assert secret not in reader.get("/tokens").text, "shown only once"
    with reader_dashboard.client(headers={"authorization": f"Bearer {secret}"}) as api:
        assert api.get("/api/v1/usage").status_code == 200
        gone = reader.post("/tokens/revoke", data={"csrf_token": token, "name": "page-made"})
        assert gone.status_code == 303 and gone.headers["location"] == "/tokens"
        doc = parse(reader.get("/tokens").text)
        assert flashes(doc) == [("success", "Token page-made revoked.")]
        assert api.get("/api/v1/usage").status_code == 401


def test_bad_names_and_unknown_tokens_are_explained(reader: httpx.Client) -> None:
    token = page_csrf(reader.get("/tokens").text)
    bad = reader.post("/tokens", data={"csrf_token": token, "name": "two words"})
    assert bad.status_code == 400 and "new name" in bad.text
    reader.post("/tokens", data={"csrf_token": token, "name": "dup"})
    assert reader.post("/tokens", data={"csrf_token": token, "name": "dup"}).status_code == 400
    reader.post("/tokens/revoke", data={"csrf_token": token, "name": "nobody"})
    assert flashes(parse(reader.get("/tokens").text)) == [
        ("error", "There is no token named nobody.")
    ]


def test_the_page_needs_csrf_and_speaks_portuguese(reader: httpx.Client) -> None:
    assert reader.post("/tokens", data={"name": "x"}).status_code == 403
    page = reader.get("/tokens", headers={"accept-language": "pt-BR"})
    assert "Tokens da API" in page.text and "Criar token" in page.text
